"""The language a request is answered in: `?lang=zh|en`, else the portal's `dianshu_lang` cookie,
else the Accept-Language header (q-values honoured; dianshu.reports.reasons.negotiate), else zh.
A pure ASGI middleware sets it per request, so every refusal the request meets (a GraphQL typed
error's localized fields, a top-level error's extensions, a download's JSON refusal, a refused-rows
file's reasons) is said in one language without passing it through every call."""

from __future__ import annotations

from contextvars import ContextVar
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Receive, Scope, Send

from dianshu.reports.reasons import code, localize, localize_message, negotiate
from dianshu.tabular.write import Lang

COOKIE = "dianshu_lang"
LANG: ContextVar[Lang] = ContextVar("dianshu_request_lang", default=Lang.zh)
# Whether the request named a language at all (a top-level error's extensions add a localized
# message only then, so a client that never asked sees the extensions it always saw).
ASKED: ContextVar[bool] = ContextVar("dianshu_request_lang_asked", default=False)
# The language `?lang=` named (the portal keeps it in its cookie), or None.
NAMED: ContextVar[Lang | None] = ContextVar("dianshu_request_lang_named", default=None)
# The request's query parameters other than `lang`, in order (the portal's language switch keeps them).
KEPT: ContextVar[tuple[tuple[str, str], ...]] = ContextVar("dianshu_request_kept_query", default=())


def choose(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> Lang:
    for named in (query_lang, cookie_lang):
        if named in ("zh", "en"):
            return Lang(named)
    return negotiate(accept_language)


def _scope_lang(scope: Scope, params: list[tuple[str, str]]) -> tuple[Lang, bool, Lang | None]:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    query = next((v for k, v in reversed(params) if k == "lang"), None)
    cookie = None
    if raw := headers.get("cookie"):
        try:
            jar = SimpleCookie(raw)
            cookie = jar[COOKIE].value if COOKIE in jar else None
        except Exception:  # a malformed Cookie header names no language
            cookie = None
    accept = headers.get("accept-language")
    named = Lang(query) if query in ("zh", "en") else None
    return choose(query, cookie, accept), bool(query or cookie or accept), named


class Language:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        params = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
        lang, asked, named = _scope_lang(scope, params)
        kept = tuple((k, v) for k, v in params if k != "lang")
        tokens = LANG.set(lang), ASKED.set(asked), NAMED.set(named), KEPT.set(kept)
        try:
            await self.app(scope, receive, send)
        finally:
            for var, token in zip((LANG, ASKED, NAMED, KEPT), tokens, strict=True):
                var.reset(token)  # type: ignore[attr-defined]


def current() -> Lang:
    return LANG.get()


def asked() -> bool:
    return ASKED.get()


def named() -> Lang | None:
    return NAMED.get()


def switch_href(to: Lang) -> str:
    """The same page in language `to`: its other query parameters kept (a year, a filter), `lang` last."""
    return "?" + urlencode([*KEPT.get(), ("lang", to.value)])


def problem(field: str, reason: str) -> dict[str, str | None]:
    """One refused field of a REST answer: `field` and `reason` (English, as before); when the
    request names a language (`lang`, the cookie, Accept-Language), also the reason's stable `code`
    and the `message` in that language."""
    if not asked():
        return {"field": field, "reason": reason}
    return {"field": field, "reason": reason, "code": code(reason), "message": localize(reason, current())}


def message(text: str) -> str:
    return localize_message(text, current())
