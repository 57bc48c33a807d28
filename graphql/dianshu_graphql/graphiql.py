"""GraphiQL offline (dev profile only): strawberry's own page, its CDN files served by the app.

strawberry's template loads seven files from unpkg.com; they are vendored, unchanged, under
static/graphiql/<package>@<version>/<file> (PROVENANCE.md) and the page names them at
/graphiql/static/<package>@<version>/<file> instead. Its inline script and style are allowed by hash in
a Content-Security-Policy that otherwise allows only the app's own origin."""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from strawberry.http.ides import get_graphql_ide_html

STATIC = Path(__file__).parent / "static" / "graphiql"
PREFIX = "/graphiql/static/"
_CDN = re.compile(r'(src|href)="https://unpkg\.com/([^"]+)"')
_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.DOTALL)
_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


@dataclass(frozen=True)
class OfflineGraphiQL:
    html: str
    csp: str
    assets: dict[str, Path]  # path after PREFIX → vendored file

    async def page(self) -> Response:
        return HTMLResponse(self.html, headers={"Content-Security-Policy": self.csp, **_NOSNIFF})

    async def asset(self, request: Request) -> Response:
        file = self.assets.get(request.path_params["path"])
        if file is None:
            return PlainTextResponse("Not Found", status_code=404)
        return FileResponse(
            file,
            media_type=_TYPES[file.suffix],
            # The path names the version: a file never changes under it.
            headers={"Cache-Control": "public, max-age=31536000, immutable", **_NOSNIFF},
        )


_NOSNIFF = {"X-Content-Type-Options": "nosniff"}


def _sha256(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


def offline_graphiql() -> OfflineGraphiQL:
    """strawberry's GraphiQL page with local asset URLs; refuses a template naming a file not vendored."""
    assets: dict[str, Path] = {}

    def local(match: re.Match[str]) -> str:
        attribute, path = match.groups()
        file = STATIC / path
        if not file.is_file() or file.suffix not in _TYPES:
            raise RuntimeError(
                f"strawberry's GraphiQL page loads https://unpkg.com/{path}, which is not vendored in "
                f"{STATIC}: vendor it as PROVENANCE.md there says"
            )
        assets[path] = file
        return f'{attribute}="{PREFIX}{path}"'

    html = _CDN.sub(local, get_graphql_ide_html("graphiql"))
    inline: dict[str, list[str]] = {"script": [], "style": []}
    for tag, body in _INLINE.findall(html):
        inline[tag].append(_sha256(body))
    csp = "; ".join(
        [
            "default-src 'self'",
            " ".join(["script-src 'self'", *inline["script"]]),
            " ".join(["style-src 'self'", *inline["style"]]),
            "img-src 'self' data:",  # the page's favicon is a data: SVG
            "font-src 'self' data:",  # graphiql.min.css embeds its fonts as data: URLs
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )
    return OfflineGraphiQL(html=html, csp=csp, assets=assets)
