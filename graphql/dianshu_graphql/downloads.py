"""A download over REST: `?format=csv|xlsx&lang=zh|en` (csv and zh when left out; a report offers
html and pdf too), checked strictly (another parameter or value is a 400 naming it), answered as an
attachment whose file name is ASCII with the Chinese title alongside (RFC 6266 filename*)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dianshu.tabular.write import FORMATS, MEDIA_TYPES, Lang, Table, table_bytes
from dianshu_graphql.language import problem


class DownloadRefused(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason

    def response(self) -> JSONResponse:
        return JSONResponse({"errors": [problem(self.field, self.reason)]}, status_code=400)


def download_options(
    request: Request,
    extra: Iterable[str] = (),
    *,
    formats: Sequence[str] = FORMATS,
    default: str | None = None,
) -> tuple[str, Lang, dict[str, str]]:
    """(format, language, the `extra` parameters given) from the query string; DownloadRefused.
    `formats`: those the path offers (a report adds html and pdf); `default`: the format when none
    is asked for (the path's own .ext, which a `format` parameter must then agree with)."""
    allowed = {"format", "lang", *extra}
    params = request.query_params
    for key in params:
        if key not in allowed:
            raise DownloadRefused(key, f"unknown parameter (allowed: {', '.join(sorted(allowed))})")
        if len(params.getlist(key)) > 1:
            raise DownloadRefused(key, "given more than once")
    fmt = params.get("format", default or formats[0])
    if fmt not in formats:
        raise DownloadRefused("format", f"one of {', '.join(formats)}")
    lang = params.get("lang", "zh")
    if lang not in ("zh", "en"):
        raise DownloadRefused("lang", "zh or en")
    return fmt, Lang(lang), {k: params[k] for k in extra if k in params}


def disposition(fmt: str, stem: str, title: str | None = None) -> str:
    """The Content-Disposition of a download: stem.fmt (ASCII), and the title's name for browsers
    that read it."""
    value = f'attachment; filename="{stem}.{fmt}"'
    if title:
        value += f"; filename*=UTF-8''{quote(f'{title}.{fmt}')}"
    return value


def attachment(data: bytes, fmt: str, stem: str, title: str | None = None) -> Response:
    """`data` as a file download (named as `disposition` says)."""
    return Response(data, media_type=MEDIA_TYPES[fmt], headers={"Content-Disposition": disposition(fmt, stem, title)})


def table_response(table: Table, fmt: str, lang: Lang) -> Response:
    return attachment(table_bytes(table, fmt, lang), fmt, table.name, table.title(lang))
