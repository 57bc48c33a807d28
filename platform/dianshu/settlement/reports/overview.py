"""The city's view of a settlement year: every region's budget, fund total and point value side by
side (rows from runs.figures.city_overview), as a table (CSV or XLSX) or a printable page (HTML, or
PDF from the same template; A4 landscape) with a chart per ledger: the fund total of each region in
bars (元) and its point value as a line on its own axis (元/点), regions by name."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from dianshu.reports import render
from dianshu.reports.charts import bar_line_svg
from dianshu.reports.labels import column, text
from dianshu.reports.numbers import POINT_PLACES, PV_PLACES, Formatter
from dianshu.tabular.write import Kind, Lang, Table

FIGURES = ("T", "R", "B", "E", "F", "S")  # money; P and PV below, by their own places
COLUMNS = (
    column("region"),
    column("region_name"),
    column("ledger"),
    column("status"),
    column("version"),
    *(column(k, Kind.money, msgid=f"fig.{k}") for k in FIGURES),
    column("P", Kind.decimal, POINT_PLACES, msgid="fig.P"),
    column("PV", Kind.decimal, PV_PLACES, msgid="fig.PV"),
    column("hospitals", Kind.count, msgid="fig.hospitals"),
    column("run"),
)


def _number(value: Any) -> Decimal | None:
    return None if value is None or value == "" else Decimal(str(value))


def _row(r: dict[str, Any], lang: Lang) -> dict[str, Any]:
    return {
        "region": r["region"],
        "region_name": r.get("name") or r["region"],
        "ledger": text(f"ledger.{r['ledger']}", lang),
        "status": text(f"status.{r['status']}", lang),
        "version": r["version"],
        **{k: _number(r.get(k)) for k in (*FIGURES, "P", "PV")},
        "hospitals": r.get("hospitals"),
        "run": r.get("run"),
    }


def title(city_name: str, year: int, lang: Lang) -> str:
    return text("city.title", lang, city=city_name, year=year)


def overview_table(
    city: str, year: int, rows: list[dict[str, Any]], lang: Lang = Lang.zh, city_name: str = ""
) -> Table:
    """The regions' clearing, a row a region and ledger (CSV and XLSX)."""
    name = city_name or city
    return Table(
        f"settlement-{city}-{year}",
        title(name, year, Lang.zh),
        title(name, year, Lang.en),
        COLUMNS,
        [_row(r, lang) for r in rows],
    )


def overview_html(
    city: str,
    year: int,
    rows: list[dict[str, Any]],
    lang: Lang = Lang.zh,
    *,
    city_name: str = "",
    now: datetime.datetime | None = None,
) -> str:
    f, name = Formatter(lang), city_name or city

    def t(msgid: str, **kw: Any) -> str:
        return text(msgid, lang, **kw)

    charts = []
    for ledger in sorted({r["ledger"] for r in rows}):
        mine = [r for r in rows if r["ledger"] == ledger]
        charts.append(
            {
                "title": t("city.chart", ledger=t(f"ledger.{ledger}")),
                "svg": bar_line_svg(
                    [r.get("name") or r["region"] for r in mine],
                    [_number(r.get("F")) or Decimal(0) for r in mine],  # no F yet: no bar
                    t("axis", label=t("fig.F"), unit=t("unit.yuan")),
                    [_number(r.get("PV")) for r in mine],
                    t("axis", label=t("fig.PV"), unit=t("unit.yuan_per_point")),
                    width=9.5,
                ),
            }
        )
    table = overview_table(city, year, rows, lang, city_name)
    shown = table.columns[1:-1]  # the page names regions (codes and run ids go to the footer)
    when = f.when(now or datetime.datetime.now(datetime.UTC))
    trace = [
        f"{r.get('name') or r['region']} ({r['region']}, {t('ledger.' + r['ledger'])}): "
        + t("footer.trace", run=r["run"], version=r["version"], when=when)
        for r in rows
    ]
    return render.html(
        "city_report.html",
        lang,
        bureau=t("bureau", city=name),
        orientation="landscape",
        title=title(name, year, lang),
        charts=charts,
        head=render.table_head(shown, lang),
        rows=render.table_cells(shown, (v[1:-1] for v in table.values()), f),
        trace=trace,
    )


def overview_pdf(city: str, year: int, rows: list[dict[str, Any]], lang: Lang = Lang.zh, **kw: Any) -> bytes:
    return render.pdf(overview_html(city, year, rows, lang, **kw))
