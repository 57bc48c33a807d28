"""The portal: server-rendered pages for city, region and hospital users, served by the API process.

Every figure on a page comes from the public GraphQL schema, executed as the signed-in user (the
same Context the /graphql endpoint builds, so the schema's role checks and row-level security
apply), and every file from the download endpoints, called in process with the user's own bearer
token (/portal/files/... → /statements/..., /downloads/..., /reports/..., the refused rows of a
batch). Sign-in: a pasted bearer token in the dev profile, the bureau's OIDC provider when
configured. State-changing requests are POSTs carrying the session's CSRF token."""

from __future__ import annotations

import json
import re
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode

import jwt
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

from dianshu.config import Profile
from dianshu.reports.labels import page_text
from dianshu.scope import Role
from dianshu.tabular.write import Lang
from dianshu_graphql import language
from dianshu_graphql.portal import queries
from dianshu_graphql.portal.format import BEIJING, FILTERS
from dianshu_graphql.portal.oidc import OidcClient, OidcError
from dianshu_graphql.portal.session import PortalSession, Sessions, SessionTooLarge
from dianshu_tenants.context import resolve_scope
from dianshu_tenants.identity import AuthError, Principal

HERE = Path(__file__).parent
# What a page may send the browser to fetch: the app's own files only (no inline script or style).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# The download endpoints a signed-in user may fetch through /portal/files (GET only).
FILES = re.compile(
    r"^(?:statements/[^/]+/[^/]+/[^/]+\.[a-z]+"
    r"|reports/[^/]+/settlement/\d+\.[a-z]+"
    r"|ingest/[^/]+/batches/[^/]+/errors\.(?:csv|xlsx)"
    r"|downloads/(?:analytics|training|national-exports)/[^?#]+)$"
)
BUREAU = (Role.city_admin, Role.city_viewer, Role.region_admin, Role.region_viewer)


class PortalRefused(Exception):
    """A page cannot be shown; `message` (Chinese) says why, `status` the HTTP status."""

    def __init__(self, message: str, status: int = 400, detail: str | None = None) -> None:
        super().__init__(message)
        self.message, self.status, self.detail = message, status, detail


class User:
    """The signed-in user as the API's `me` and `tenants` describe it."""

    def __init__(self, principal: Principal, me: dict[str, Any], tenants: list[dict[str, Any]]) -> None:
        self.principal = principal
        self.role = Role(me["role"])
        self.subject = me["subject"]
        self.hospital = me["hospitalCode"]
        self.tenant_codes: list[str] = me["tenantCodes"]
        self.tenants = {t["code"]: t for t in tenants}

    @property
    def regions(self) -> list[dict[str, Any]]:
        return [t for t in self.tenants.values() if t["kind"] == "region"]

    @property
    def is_hospital(self) -> bool:
        return self.role is Role.hospital_user

    @property
    def is_bureau(self) -> bool:
        return self.role in BUREAU

    def tenant_name(self, code: str | None) -> str:
        t = self.tenants.get(code or "")
        return t["name"] if t else (code or "")

    def default_region(self) -> str | None:
        regions = sorted(self.regions, key=lambda t: t["code"])
        return regions[0]["code"] if regions else None

    def default_top(self) -> str | None:
        """The widest tenant: the city for a city user, else the region."""
        cities = sorted(t["code"] for t in self.tenants.values() if t["kind"] == "city")
        return cities[0] if cities else self.default_region()


def _t(zh: str, **fields: Any) -> str:
    """A message of the portal's own (its Chinese is its catalogue id) in the request's language."""
    return page_text(zh, language.current(), **fields)


class Portal:
    def __init__(self, services: Any, schema: Any) -> None:
        self.services = services
        self.schema = schema
        self.settings = services.settings
        self.sessions = Sessions(self.settings)
        self.oidc = OidcClient(self.settings) if self.settings.oidc_enabled else None
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters.update(FILTERS)

    # ---- plumbing --------------------------------------------------------------------------------

    def routes(self) -> list[Any]:
        return [
            Route("/", self.root, methods=["GET"]),
            Route("/portal", self.root, methods=["GET"]),
            # Browsers ask for it on every page the app serves (the statements too): no icon, no 404.
            Route("/favicon.ico", lambda _: Response(status_code=204), methods=["GET"]),
            Route("/portal/sign-in", self.sign_in, methods=["POST"]),
            Route("/portal/sign-out", self.sign_out, methods=["POST"]),
            Route("/portal/oidc/start", self.oidc_start, methods=["POST"]),
            Route("/portal/oidc/callback", self.oidc_callback, methods=["GET"]),
            Route("/portal/home", self.page(self.home), methods=["GET"]),
            Route("/portal/budget", self.page(self.budget), methods=["GET"]),
            Route("/portal/runs", self.page(self.runs), methods=["GET"]),
            Route("/portal/statements", self.page(self.statements), methods=["GET"]),
            Route("/portal/ranking", self.page(self.ranking), methods=["GET"]),
            Route("/portal/pnl", self.page(self.pnl), methods=["GET"]),
            Route("/portal/jobs", self.page(self.jobs), methods=["GET"]),
            Route("/portal/refused", self.page(self.refused), methods=["GET"]),
            Route("/portal/files/{path:path}", FileProxy(self), methods=["GET"]),
            Mount("/portal/static", StaticFiles(directory=HERE / "static"), name="portal-static"),
        ]

    def render(self, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        """A page in the request's language (dianshu_graphql.language: ?lang=, the cookie, or
        Accept-Language); a `?lang=` is kept in the `dianshu_lang` cookie for the next pages."""
        lang = language.current()

        def gettext(zh: str, **fields: Any) -> str:
            return page_text(zh, lang, **fields)

        html = self.env.get_template(name).render(
            settings=self.settings,
            dev=self.dev,
            _=gettext,
            lang=lang.value,
            html_lang="zh-CN" if lang is Lang.zh else "en",
            switch_href=language.switch_href(Lang.en if lang is Lang.zh else Lang.zh),
            **values,
        )
        response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
        if (chosen := language.named()) is not None:
            response.set_cookie(
                language.COOKIE, chosen.value, max_age=365 * 86400, path="/", httponly=True, samesite="lax"
            )
        return response

    @property
    def dev(self) -> bool:
        return self.settings.profile is Profile.dev

    def problem(self, request: Request, message: str, status: int, detail: str | None = None, **values: Any):
        return self.render("problem.html", status, message=message, detail=detail, **values)

    async def principal(self, session: PortalSession | None) -> Principal | None:
        """The session's user, by the API's own token rules (expired or revoked: signed out)."""
        if session is None or not session.token:
            return None
        try:
            principal = await self.services.codec.decode_async(session.token)
            await resolve_scope(self.services.db, self.services.registry, principal)
        except AuthError:
            return None
        return principal

    async def query(self, request: Request, principal: Principal, document: str, **variables: Any) -> dict[str, Any]:
        """Run one of the portal's documents through the public schema as `principal`."""
        context = await self.services.context(principal, request, None)
        result = await self.schema.execute(document, variable_values=variables, context_value=context)
        if result.errors:
            codes = {(e.extensions or {}).get("code") for e in result.errors}
            status = 403 if "FORBIDDEN" in codes or "PERMISSION_DENIED" in codes else 400
            raise PortalRefused(
                _t("接口拒绝了本页的查询"), status, "；".join(language.message(e.message) for e in result.errors)
            )
        assert result.data is not None
        return result.data

    async def all_nodes(
        self,
        request: Request,
        principal: Principal,
        document: str,
        field: str,
        first_after: str | None = None,
        **variables: Any,
    ) -> list[dict[str, Any]]:
        """Every node of the connection at `field` ("a.b": a connection inside an object), page by
        page from the cursor `first_after` (None: from the start)."""
        nodes: list[dict[str, Any]] = []
        after = first_after
        for _ in range(50):  # at most 5,000 rows on a page
            page = await self.query(request, principal, document, after=after, **variables)
            for name in field.split("."):
                page = page[name]
            nodes.extend(page["nodes"])
            if not page["pageInfo"]["hasNextPage"]:
                break
            after = page["pageInfo"]["endCursor"]
        return nodes

    def page(self, handler: Any) -> Any:
        """A signed-in page: the session and its user, else back to the sign-in page."""

        async def endpoint(request: Request) -> Response:
            session = self.sessions.read(request)
            principal = await self.principal(session)
            if session is None or principal is None:
                response = RedirectResponse("/", status_code=303)
                if session is not None and session.token:
                    self.sessions.clear(response)  # an expired or revoked token: signed out
                return response
            user: User | None = None
            year = datetime.now(BEIJING).year - 1
            try:
                data = await self.query(request, principal, queries.ME)
                user = User(principal, data["me"], data["tenants"]["nodes"])
                year = self.year(request)
                template, values = await handler(request, user, year)
            except PortalRefused as e:
                # Refused, the page still has its navigation and sign-out.
                return self.problem(request, e.message, e.status, e.detail, user=user, csrf=session.csrf, year=year)
            return self.render(
                template,
                user=user,
                csrf=session.csrf,
                year=year,
                years=list(range(year - 2, year + 2)),
                **values,
            )

        return endpoint

    def year(self, request: Request) -> int:
        raw = request.query_params.get("year")
        if raw is None:
            return datetime.now(BEIJING).year - 1  # the year being cleared: last year (Beijing time)
        if not raw.isdigit() or not 2000 <= int(raw) <= 2100:
            raise PortalRefused(_t("年度 {year} 不是 2000 到 2100 之间的年份", year=repr(raw)), 400)
        return int(raw)

    def tenant(self, request: Request, user: User, *, regions_only: bool) -> str:
        """The tenant a page shows: ?tenant= (one the user sees), else the user's own."""
        raw = request.query_params.get("tenant")
        choices = user.regions if regions_only else list(user.tenants.values())
        codes = {t["code"] for t in choices}
        if raw:
            if raw not in codes:
                raise PortalRefused(_t("无权查看 {tenant} 的数据，或该统筹区不存在", tenant=raw), 403)
            return raw
        default = user.default_region() if regions_only else user.default_top()
        if default is None:
            raise PortalRefused(_t("您的账号没有可查看的统筹区"), 403)
        return default

    async def names(self, request: Request, user: User, tenant: str) -> dict[str, str]:
        """Hospital code → name, as the API lets this user see the roster (a hospital user: its own)."""
        if user.is_hospital:
            found = await self.query(
                request, user.principal, queries.HOSPITAL, tenant=user.tenant_codes[0], code=user.hospital
            )
            return {found["hospital"]["code"]: found["hospital"]["name"]} if found["hospital"] else {}
        tenants = [t["code"] for t in user.regions] if user.tenants.get(tenant, {}).get("kind") == "city" else [tenant]
        names: dict[str, str] = {}
        for t in tenants:
            for h in await self.all_nodes(request, user.principal, queries.HOSPITALS, "hospitals", tenant=t):
                names[h["code"]] = h["name"]
        return names

    # ---- sign-in and out -----------------------------------------------------------------------

    async def root(self, request: Request) -> Response:
        session = self.sessions.read(request)
        if await self.principal(session) is not None:
            return RedirectResponse("/portal/home", status_code=303)
        return self.sign_in_page(request, session)

    def sign_in_page(
        self, request: Request, session: PortalSession | None, message: str | None = None, status: int = 200
    ) -> Response:
        if not self.sessions.configured:
            return self.problem(
                request, _t("门户未配置会话密钥（DIANSHU_PORTAL_SESSION_SECRET），无法登录"), 503, user=None, csrf=None
            )
        if session is None or session.token:
            session = PortalSession.fresh()
        response = self.render(
            "sign_in.html",
            status,
            session=session,
            csrf=session.csrf,
            message=message,
            token_sign_in=self.dev,
            oidc=self.oidc is not None,
            user=None,
        )
        self.sessions.write(response, session)
        return response

    async def _form(self, request: Request) -> tuple[PortalSession | None, Any]:
        session = self.sessions.read(request)
        form = await request.form()
        if session is None or not session.csrf_ok(form.get("csrf")):  # type: ignore[arg-type]
            raise PortalRefused(_t("会话已失效或请求来源不明（CSRF 校验未通过），请返回首页重新操作"), 403)
        return session, form

    async def sign_in(self, request: Request) -> Response:
        try:
            session, form = await self._form(request)
        except PortalRefused as e:
            return self.problem(request, e.message, e.status, user=None, csrf=None)
        if not self.dev:
            return self.sign_in_page(request, None, _t("生产环境请通过统一身份认证登录，不接受粘贴令牌"), 403)
        token = str(form.get("token") or "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if not token:
            return self.sign_in_page(request, session, _t("请粘贴访问令牌（Bearer token）"), 400)
        return await self._signed_in(request, session, token)

    async def _signed_in(self, request: Request, session: PortalSession | None, token: str) -> Response:
        try:
            principal = await self.services.codec.decode_async(token)
            await resolve_scope(self.services.db, self.services.registry, principal)
        except AuthError as e:
            self.services.metrics.auth_failures.inc()
            return self.sign_in_page(
                request, session, _t("登录失败：令牌无效、已过期或权限不符（{why}）", why=language.message(str(e))), 400
            )
        if principal.role not in (*BUREAU, Role.hospital_user):
            why = _t("登录失败：门户供市、统筹区和医院用户使用（此令牌的角色为 {role}）", role=principal.role.value)
            return self.sign_in_page(request, session, why, 403)
        expires = int(jwt.decode(token, options={"verify_signature": False}).get("exp", time.time()))
        response = RedirectResponse("/portal/home", status_code=303)
        try:
            self.sessions.write(response, self.sessions.signed_in(token, expires))
        except SessionTooLarge as e:
            # A cookie the browser would silently drop (a sign-in loop): refused, saying why.
            why = _t(
                "登录失败：访问令牌过大（{size} 字节），会话 Cookie 会超出浏览器 4 KB 上限，请联系管理员精简令牌",
                size=e.token_size,
            )
            return self.sign_in_page(request, session, why, 400)
        return response

    async def sign_out(self, request: Request) -> Response:
        try:
            await self._form(request)
        except PortalRefused as e:
            return self.problem(request, e.message, e.status, user=None, csrf=None)
        response = RedirectResponse("/", status_code=303)
        self.sessions.clear(response)
        return response

    async def oidc_start(self, request: Request) -> Response:
        try:
            session, _ = await self._form(request)
        except PortalRefused as e:
            return self.problem(request, e.message, e.status, user=None, csrf=None)
        assert session is not None
        if self.oidc is None:
            return self.sign_in_page(request, session, _t("未配置统一身份认证（DIANSHU_OIDC_ISSUER 等）"), 404)
        try:
            url, pending = await self.oidc.authorization_url()
        except OidcError as e:
            return self.sign_in_page(request, session, _t("登录失败：{why}", why=e.said(language.current())), 502)
        session.oidc = pending
        response = RedirectResponse(url, status_code=303)
        self.sessions.write(response, session)
        return response

    async def oidc_callback(self, request: Request) -> Response:
        session = self.sessions.read(request)
        if self.oidc is None:
            return self.sign_in_page(request, session, _t("未配置统一身份认证"), 404)
        q = request.query_params
        pending = session.oidc if session else {}
        if not pending or not q.get("state") or q.get("state") != pending.get("state"):
            return self.sign_in_page(
                request, None, _t("登录失败：登录请求已失效或来源不明（state 不符），请重新登录"), 400
            )
        assert session is not None
        session.oidc = {}
        if q.get("error"):
            return self.sign_in_page(
                request,
                session,
                _t("登录失败：统一身份认证服务拒绝（{why}）", why=q.get("error_description") or q["error"]),
                400,
            )
        code = q.get("code")
        if not code:
            return self.sign_in_page(request, session, _t("登录失败：回调缺少授权码"), 400)
        try:
            token = await self.oidc.exchange(code, pending)
        except OidcError as e:
            return self.sign_in_page(request, session, _t("登录失败：{why}", why=e.said(language.current())), 400)
        return await self._signed_in(request, session, token)

    # ---- pages ---------------------------------------------------------------------------------

    async def home(self, request: Request, user: User, year: int) -> tuple[str, dict[str, Any]]:
        hospital = None
        if user.is_hospital:
            found = await self.query(
                request, user.principal, queries.HOSPITAL, tenant=user.tenant_codes[0], code=user.hospital
            )
            hospital = found["hospital"]
        return "home.html", {"hospital": hospital}

    async def budget(self, request: Request, user: User, year: int) -> tuple[str, dict[str, Any]]:
        tenant = self.tenant(request, user, regions_only=True)
        data = await self.query(request, user.principal, queries.BUDGET, tenant=tenant, year=year)
        budgets = data["budgets"]["nodes"]
        latest: dict[str, dict[str, Any]] = {}
        for b in budgets:
            if b["ledger"] not in latest or b["version"] > latest[b["ledger"]]["version"]:
                latest[b["ledger"]] = b
        # By month and ledger: the newest version of each month's run (monthly: the provisional point
        # value; the annual clearing: the final point value).
        months: dict[tuple[int, str, str], dict[str, Any]] = {}
        for r in data["settlementRuns"]["nodes"]:
            key = (r["month"], r["ledger"], r["kind"])
            if key not in months or r["version"] > months[key]["version"]:
                months[key] = r
        rows = [months[k] for k in sorted(months, key=lambda k: (k[2] == "annual", k[0], k[1]))]
        return "budget.html", {"tenant": tenant, "budgets": sorted(latest.values(), key=lambda b: b["ledger"]),
                               "rows": rows}  # fmt: skip

    async def runs(self, request: Request, user: User, year: int) -> tuple[str, dict[str, Any]]:
        tenant = self.tenant(request, user, regions_only=True)
        data = await self.query(request, user.principal, queries.RUNS, tenant=tenant, year=year)
        runs = sorted(
            data["settlementRuns"]["nodes"],
            key=lambda r: (r["kind"] == "annual", r["month"], r["ledger"], -r["version"]),
        )
        city = user.tenants[tenant]["parentCode"] or tenant
        report = f"/portal/files/reports/{quote(city)}/settlement/{year}.html" if user.is_bureau else None
        return "runs.html", {"tenant": tenant, "runs": runs, "report": report}

    async def statements(self, request: Request, user: User, year: int) -> tuple[str, dict[str, Any]]:
        tenant = self.tenant(request, user, regions_only=True)
        found = await self.all_nodes(
            request, user.principal, queries.STATEMENTS, "settlementRuns", tenant=tenant, year=year
        )
        for run in found:  # every hospital's line, so that each statement can be printed
            lines = run["lines"]
            if lines["pageInfo"]["hasNextPage"]:
                lines["nodes"] += await self.all_nodes(
                    request,
                    user.principal,
                    queries.RUN_LINES,
                    "settlementRun.lines",
                    tenant=tenant,
                    id=run["id"],
                    first_after=lines["pageInfo"]["endCursor"],
                )
        names = await self.names(request, user, tenant)
        runs = sorted(
            found,
            key=lambda r: (r["kind"] == "annual", r["month"], r["ledger"], -r["version"]),
        )
        return "statements.html", {"tenant": tenant, "runs": runs, "names": names, "quote": quote}

    async def ranking(self, request: Request, user: User, year: int) -> tuple[str, dict[str, Any]]:
        tenant = self.tenant(request, user, regions_only=False)
        rows = await self.all_nodes(
            request, user.principal, queries.RANKING, "evaluationResults", tenant=tenant, year=year
        )
        from decimal import Decimal

        rows.sort(key=lambda r: (-Decimal(r["total"]), r["hospital"]))
        names = await self.names(request, user, tenant)
        return "ranking.html", {"tenant": tenant, "rows": rows, "names": names}

    async def pnl(self, request: Request, user: User, year: int) -> tuple[str, dict[str, Any]]:
        tenant = self.tenant(request, user, regions_only=True)
        asked = request.query_params.get("hospital") or None
        if user.is_hospital:
            if asked is not None and asked != user.hospital:
                raise PortalRefused(_t("医院用户只能查看本院的盈亏"), 403)
            asked = user.hospital
        hospital = None
        if asked is not None:
            hospital = (await self.query(request, user.principal, queries.HOSPITAL, tenant=tenant, code=asked))[
                "hospital"
            ]
            if hospital is None:
                raise PortalRefused(
                    _t("{tenant} 没有医院 {hospital}，或您无权查看", tenant=tenant, hospital=asked), 404
                )
        data = await self.query(request, user.principal, queries.PNL, tenant=tenant, year=year, hospital=asked)
        total = data["total"]["nodes"][0]["figures"] if data["total"]["nodes"] else None
        params = {"by": "drg", "format": "xlsx"}
        if asked:
            params["hospital"] = asked
        xlsx = f"/portal/files/downloads/analytics/{quote(tenant)}/{year}?{urlencode(params)}"
        choices = [] if user.is_hospital else sorted((await self.names(request, user, tenant)).items())
        return "pnl.html", {
            "tenant": tenant,
            "hospital": hospital,
            "total": total,
            "rows": data["byDrg"]["nodes"],
            "truncated": data["byDrg"]["pageInfo"]["hasNextPage"],
            "xlsx": xlsx,
            "choices": choices,
        }

    async def jobs(self, request: Request, user: User, year: int) -> tuple[str, dict[str, Any]]:
        data = await self.query(request, user.principal, queries.JOBS, tenant=None)
        return "jobs.html", {"running": data["running"]["nodes"], "queued": data["queued"]["nodes"]}

    async def refused(self, request: Request, user: User, year: int) -> tuple[str, dict[str, Any]]:
        batches = await self.all_nodes(request, user.principal, queries.REFUSED, "ingestionBatches", tenant=None)
        batches = [b for b in batches if b["rowsRefused"] > 0]
        return "refused.html", {"batches": batches}


class FileProxy:
    """GET /portal/files/<endpoint path>: the download endpoint itself, called in process with the
    session's bearer token (the endpoint's own checks and row-level security apply); the answer
    streams through untouched (format=pdf|xlsx and the rest of the query string pass along)."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        portal = self.portal
        session = portal.sessions.read(request)
        principal = await portal.principal(session)
        if session is None or principal is None:
            await RedirectResponse("/", status_code=303)(scope, receive, send)
            return
        path = scope["path"].removeprefix("/portal/files/")
        if not FILES.match(path) or any(part in ("", ".", "..") for part in path.split("/")):
            response = portal.problem(
                request, _t("没有这个下载：/{path}", path=path), 404, user=None, csrf=session.csrf
            )
            await response(scope, receive, send)
            return
        assert session.token is not None
        headers = [(k, v) for k, v in scope["headers"] if k not in (b"cookie", b"authorization")]
        headers.append((b"authorization", f"Bearer {session.token}".encode("ascii")))
        inner = dict(scope)
        inner.update(
            path="/" + path,
            raw_path=("/" + path).encode("utf-8"),
            headers=headers,
            root_path="",
            path_params={},
        )
        inner.pop("route", None)
        inner.pop("endpoint", None)
        # The file in the page's language unless the link names one (the endpoint reads ?lang=).
        query = scope.get("query_string", b"").decode("latin-1")
        if "lang" not in parse_qs(query):
            query = "&".join(q for q in (query, f"lang={language.current().value}") if q)
        inner["query_string"] = query.encode("latin-1")
        # A refusal (a JSON problem: too many rows, a stale link) as a page in the page's language,
        # not the endpoint's JSON; a file streams through untouched.
        refused: dict[str, Any] = {}

        async def relay(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] >= 400:
                refused.update(status=message["status"], body=b"")
                return
            if refused and message["type"] == "http.response.body":
                refused["body"] += message.get("body", b"")
                if not message.get("more_body"):
                    page = portal.problem(
                        request,
                        _t("无法下载"),
                        refused["status"],
                        _refusal(refused["body"]),
                        user=None,
                        csrf=session.csrf,
                    )
                    await page(scope, receive, send)
                return
            await send(message)

        await scope["app"](inner, receive, relay)


def _refusal(body: bytes) -> str:
    """What a download endpoint's JSON problem says (its `message`s, in the asked language), or its text."""
    try:
        errors = json.loads(body)["errors"]
        return "；".join(str(e.get("message") or f"{e['field']}: {e['reason']}") for e in errors)
    except (ValueError, KeyError, TypeError):
        return body.decode("utf-8", "replace")[:500]
