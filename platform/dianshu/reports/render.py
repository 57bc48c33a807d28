"""Reports rendered from Jinja2 templates (package data beside this module, autoescaped), as an HTML
page or, from the same page, a PDF by WeasyPrint. The print stylesheet sets the page (A4, portrait
or landscape per report), the bureau's name in the top margin and page numbers in the bottom one.
WeasyPrint fetches nothing: the pages hold their charts inline and any URL is refused."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from dianshu.reports.labels import text, translator
from dianshu.reports.numbers import Formatter
from dianshu.tabular.write import Column, Kind, Lang

FONT_STACK = '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "SimSun", sans-serif'


@functools.cache
def environment():
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("dianshu.reports", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def css_string(s: str) -> str:
    """A CSS string literal (for `content:` in a margin box)."""
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3c ")
    return f'"{out}"'


def _page_counter(lang: Lang) -> str:
    # "第 {page} 页，共 {pages} 页" → "第 " counter(page) " 页，共 " counter(pages) " 页"
    s = css_string(text("page", lang))
    return s.replace("{page}", '" counter(page) "').replace("{pages}", '" counter(pages) "')


def table_cells(columns: Sequence[Column], rows: Iterable[Sequence[Any]], f: Formatter) -> list[list[tuple[str, bool]]]:
    """Rows as the page shows them: (text, numeric) a cell, by the columns' kinds."""
    numeric = [c.kind is not Kind.text for c in columns]
    return [[(f.cell(v, c), n) for v, c, n in zip(row, columns, numeric, strict=True)] for row in rows]


def table_head(columns: Sequence[Column], lang: Lang) -> list[tuple[str, bool]]:
    return [(c.header(lang), c.kind is not Kind.text) for c in columns]


def html(template: str, lang: Lang, *, bureau: str, orientation: str, **context: Any) -> str:
    """The page: `context` plus t (the catalogue in `lang`), f (its Formatter), the bureau's name
    (page header), the orientation (portrait or landscape A4) and the fonts."""
    from markupsafe import Markup

    page = environment().get_template(template)
    # CSS string literals, escaped for CSS by css_string (HTML escaping would show as &#34; in <style>).
    css = {"bureau": Markup(css_string(bureau)), "page": Markup(_page_counter(lang))}  # noqa: S704
    return page.render(
        t=translator(lang),
        f=Formatter(lang),
        lang=lang.value,
        font_stack=FONT_STACK,
        bureau=bureau,
        orientation=orientation,
        css=css,
        **context,
    )


def pdf(page: str) -> bytes:
    """The PDF of an HTML page made by html() (its @page rules set size, margins and numbering)."""
    try:
        from weasyprint import HTML
        from weasyprint.urls import URLFetcher
    except OSError as e:  # WeasyPrint loads the system's pango with cffi
        raise RuntimeError(f"PDF reports need pango >= 1.44 (Debian: apt-get install libpango-1.0-0): {e}") from e

    class NoFetch(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            raise ValueError(f"reports fetch nothing (asked for {url[:80]})")

    return HTML(string=page, url_fetcher=NoFetch()).write_pdf()
