"""The portal's session, CSRF, sign-in and out, and CORS, through the real ASGI app (no browser)."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from dianshu.config import Settings
from dianshu.scope import Role
from dianshu_graphql.portal.format import money, number, percent
from dianshu_graphql.portal.session import COOKIE
from tests.api import Api
from tests.conftest import JWT_SECRET


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def set_cookie(r: httpx.Response) -> str:
    (header,) = [v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith(COOKIE + "=")]
    return header


async def sign_in(api: Api, token: str) -> httpx.Response:
    page = await api.client.get("/")
    return await api.client.post("/portal/sign-in", data={"csrf": csrf_of(page.text), "token": token})


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


def test_zh_cn_figures():
    # Thousands separators, money to the fen with 元, Decimal strings as the API sends them.
    assert money("1234567.8") == "1,234,567.80 元"
    assert money("-750") == "-750.00 元"
    assert money(None) == "—"
    assert number("213.456789", 4) == "213.4568"
    assert percent("0.02", 2) == "2.00%"


async def test_the_sign_in_page_and_its_cookie(api):
    r = await api.client.get("/")
    assert r.status_code == 200 and "登录" in r.text and "用令牌登录" in r.text
    cookie = set_cookie(r).lower()
    # Never readable by a script, not sent on cross-site subrequests, for the whole site, expiring;
    # dev (plain http on loopback): not Secure.
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie and "max-age=" in cookie
    assert "secure" not in cookie.replace("samesite", "")
    # The page may load nothing but the app's own files.
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "http://" not in r.text and "https://" not in r.text


async def test_prod_cookie_is_secure_and_token_paste_is_refused(test_database, db):
    settings = Settings(
        profile="prod",
        database_url=test_database.owner_url,
        redis_url="redis://127.0.0.1:1/0",
        jwt_secret=JWT_SECRET,
        portal_session_secret="p" * 40,
        oidc_issuer="https://idp.example.cn",
        oidc_client_id="dianshu-portal",
        oidc_client_secret="s",
        oidc_redirect_url="https://portal.example.cn/portal/oidc/callback",
    )
    api = Api(settings, db)
    await api.client.aclose()
    # A Secure cookie goes back over https only.
    api.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="https://test")
    try:
        page = await api.client.get("/")
        assert "; secure" in set_cookie(page).lower()
        assert "通过统一身份认证登录" in page.text and "用令牌登录" not in page.text
        r = await api.client.post("/portal/sign-in", data={"csrf": csrf_of(page.text), "token": "x"})
        assert r.status_code == 403 and "统一身份认证" in r.text
    finally:
        await api.client.aclose()


async def test_prod_without_a_session_secret_says_so(test_database, db):
    settings = Settings(
        profile="prod", database_url=test_database.owner_url, redis_url="redis://127.0.0.1:1/0", jwt_secret=JWT_SECRET
    )
    api = Api(settings, db)
    try:
        r = await api.client.get("/")
        assert r.status_code == 503 and "DIANSHU_PORTAL_SESSION_SECRET" in r.text
    finally:
        await api.client.aclose()


async def test_sign_in_with_a_token_then_sign_out(api, city):
    token = api.token(Role.region_admin, [city.a])
    anonymous = (await api.client.get("/")).cookies.get(COOKIE)
    r = await sign_in(api, token)
    assert r.status_code == 303 and r.headers["location"] == "/portal/home"
    assert "httponly" in set_cookie(r).lower()
    assert api.client.cookies.get(COOKIE) != anonymous  # a new session (and CSRF token) on sign-in
    # Signed in: / goes home; home names the role and the region.
    assert (await api.client.get("/")).headers["location"] == "/portal/home"
    home = await api.client.get("/portal/home")
    assert home.status_code == 200 and "统筹区管理员" in home.text and city.a in home.text
    assert "退出登录" in home.text
    # Sign-out is a POST with the session's CSRF token: the cookie goes, pages send you back to sign in.
    out = await api.client.post("/portal/sign-out", data={"csrf": csrf_of(home.text)})
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert "max-age=0" in set_cookie(out).lower() or "expires=" in set_cookie(out).lower()
    again = await api.client.get("/portal/home")
    assert again.status_code == 303 and again.headers["location"] == "/"


async def test_the_portal_decodes_tokens_off_the_event_loop(api, city, monkeypatch):
    # With a JWKS URL a decode may fetch the provider's keys: the portal asks decode_async (which
    # runs such a decode in a thread), as the API's own paths do, at sign-in and on every page.
    codec = api.app.state.services.codec
    asked: list[str] = []
    decode_async = codec.decode_async

    async def counted(token: str):
        asked.append(token)
        return await decode_async(token)

    monkeypatch.setattr(codec, "decode_async", counted)
    token = api.token(Role.region_admin, [city.a])
    assert (await sign_in(api, token)).status_code == 303
    assert asked == [token]
    assert (await api.client.get("/portal/home")).status_code == 200
    assert asked == [token, token]


async def test_a_bad_token_gets_a_clear_chinese_message(api, city):
    for token, why in (
        ("not-a-jwt", "令牌无效："),
        # Expired two minutes ago: beyond the verification leeway (DIANSHU_JWT_LEEWAY_S, 30 s).
        (api.codec.encode(subject="x", role=Role.region_admin, tenant_ids=[city.a], ttl_seconds=-120), "令牌已过期"),
        # A well-signed token naming a tenant that does not exist.
        (api.token(Role.region_admin, ["999999"]), ""),
        ("", ""),
    ):
        r = await sign_in(api, token)
        assert r.status_code == 400, (token, r.text)
        assert ("登录失败：令牌无效" in r.text) if token else ("请粘贴访问令牌" in r.text)
        assert why in r.text
        assert (await api.client.get("/portal/home")).status_code == 303  # not signed in


async def test_an_expert_token_is_not_for_the_portal(api, city):
    r = await sign_in(api, api.token(Role.expert, [city.a]))
    assert r.status_code == 403 and "门户供市、统筹区和医院用户使用" in r.text


async def test_csrf_refusals(api, city):
    token = api.token(Role.region_admin, [city.a])
    await api.client.get("/")
    # Sign-in without, or with another, CSRF token: refused, no session.
    for data in ({"token": token}, {"token": token, "csrf": "forged"}):
        r = await api.client.post("/portal/sign-in", data=data)
        assert r.status_code == 403 and "CSRF" in r.text
    assert (await api.client.get("/portal/home")).status_code == 303
    # Signed in, a cross-site sign-out (no token) does nothing.
    assert (await sign_in(api, token)).status_code == 303
    r = await api.client.post("/portal/sign-out", data={})
    assert r.status_code == 403
    assert (await api.client.get("/portal/home")).status_code == 200
    # Without the cookie at all (another site's form): refused.
    cookie = api.client.cookies.get(COOKIE)
    api.client.cookies.clear()
    home_csrf = "anything"
    r = await api.client.post("/portal/sign-out", data={"csrf": home_csrf})
    assert r.status_code == 403
    api.client.cookies.set(COOKIE, cookie)
    # A tampered cookie is no session.
    api.client.cookies.set(COOKIE, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert (await api.client.get("/portal/home")).status_code == 303


async def test_pages_without_a_session_go_to_sign_in(api):
    for path in ("/portal/home", "/portal/budget", "/portal/pnl", "/portal/files/downloads/analytics/1/2025"):
        r = await api.client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/", path


async def test_the_file_proxy_only_reaches_download_endpoints(api, city):
    await sign_in(api, api.token(Role.region_admin, [city.a]))
    assert (await api.client.get("/portal/files/graphql")).status_code == 404
    assert (await api.client.get("/portal/files/portal/home")).status_code == 404
    sneaky = f"/portal/files/downloads/analytics/{city.a}/%2E%2E/%2E%2E/%2E%2E/graphql"
    assert (await api.client.get(sneaky)).status_code == 404
    # A download endpoint answers as itself, with the user's scope: another region's is refused.
    r = await api.client.get(f"/portal/files/downloads/analytics/{city.b}/2025?format=xlsx")
    assert r.status_code == 403, r.text
    # ... said as a page in the page's language, not the endpoint's JSON.
    assert r.headers["content-type"].startswith("text/html") and "无法下载" in r.text and '"errors"' not in r.text
    en = await api.client.get(f"/portal/files/downloads/analytics/{city.b}/2025?format=xlsx&lang=en")
    assert en.status_code == 403 and "The file cannot be downloaded" in en.text and "无法下载" not in en.text
    ok = await api.client.get(f"/portal/files/downloads/analytics/{city.a}/2025?format=xlsx")
    assert ok.status_code == 200 and ok.content[:2] == b"PK"


async def test_a_download_comes_in_the_portals_language(api, city):
    """The proxy adds the page's language to a link that names none (the endpoints read ?lang=)."""
    import io

    import openpyxl

    await sign_in(api, api.token(Role.region_admin, [city.a]))

    async def first_header() -> str:
        r = await api.client.get(f"/portal/files/downloads/analytics/{city.a}/2025?format=xlsx")
        assert r.status_code == 200, r.text
        sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
        return str(next(c.value for c in next(sheet.iter_rows(max_row=1)) if c.value))

    chinese = await first_header()
    api.client.cookies.set("dianshu_lang", "en")  # as the portal's language switch leaves it
    english = await first_header()
    assert re.search(r"[\u4e00-\u9fff]", chinese) and english.isascii() and english != chinese, (chinese, english)


async def test_cors_for_configured_origins_only(settings, db):
    allowed, other = "https://his.example.cn", "https://evil.example"
    api = Api(settings.model_copy(update={"cors_allowed_origins": [allowed]}), db)
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    try:
        r = await api.client.options("/graphql", headers={"Origin": allowed, **preflight})
        assert r.status_code == 200 and r.headers["access-control-allow-origin"] == allowed
        assert "access-control-allow-credentials" not in r.headers  # bearer tokens, never cookies
        r = await api.client.options("/graphql", headers={"Origin": other, **preflight})
        assert r.status_code == 400 and "access-control-allow-origin" not in r.headers
        r = await api.client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": allowed})
        assert r.status_code == 401 and r.headers["access-control-allow-origin"] == allowed
        r = await api.client.post("/graphql", json={"query": "{ __typename }"}, headers={"Origin": other})
        assert "access-control-allow-origin" not in r.headers
        # The portal is never offered cross-origin.
        r = await api.client.get("/", headers={"Origin": allowed})
        assert "access-control-allow-origin" not in r.headers
    finally:
        await api.client.aclose()
    # Default: no origins, no CORS headers at all.
    plain = Api(settings, db)
    try:
        r = await plain.client.options("/graphql", headers={"Origin": allowed, **preflight})
        assert "access-control-allow-origin" not in r.headers
    finally:
        await plain.client.aclose()


def test_cors_origins_are_checked():
    from dianshu.config import ConfigError

    for bad in ("*", "his.example.cn", "https://his.example.cn/"):
        with pytest.raises(ConfigError, match="DIANSHU_CORS_ALLOWED_ORIGINS"):
            Settings(cors_allowed_origins=[bad])


async def test_the_session_ends_with_its_token(api, city):
    # A token with 60 s left: the cookie lives 60 s at most (not the 8 hours of a session), and once
    # the token has expired the pages send the user back to sign in.
    token = api.codec.encode(subject="short", role=Role.region_admin, tenant_ids=[city.a], ttl_seconds=60)
    r = await sign_in(api, token)
    max_age = int(re.search(r"max-age=(\d+)", set_cookie(r).lower()).group(1))
    assert 55 <= max_age <= 60
    expired = api.codec.encode(subject="gone", role=Role.region_admin, tenant_ids=[city.a], ttl_seconds=1)
    api.client.cookies.clear()
    assert (await sign_in(api, expired)).status_code == 303
    cookie = api.client.cookies.get(COOKIE)
    await asyncio.sleep(2.1)
    # Sent again after it expired (a client that ignores Max-Age): the server refuses it itself.
    api.client.cookies.clear()
    api.client.cookies.set(COOKIE, cookie)
    r = await api.client.get("/portal/home")
    assert r.status_code == 303 and r.headers["location"] == "/"


def test_cors_origins_from_the_environment(monkeypatch):
    monkeypatch.setenv("DIANSHU_CORS_ALLOWED_ORIGINS", '["https://his.example.cn", "http://10.1.2.3:8080"]')
    assert Settings().cors_allowed_origins == ["https://his.example.cn", "http://10.1.2.3:8080"]


def test_the_portal_reads_only_through_the_api():
    """The portal's modules reach no table, session or domain service: its data comes from the
    GraphQL schema (executed as the user) and the download endpoints."""
    import ast
    from pathlib import Path

    import dianshu_graphql.portal as portal

    allowed = {"dianshu.config", "dianshu.scope", "dianshu_tenants.context", "dianshu_tenants.identity"}
    # The reports' formatting and wording (pure: no table, no session), one home for both.
    allowed |= {"dianshu.reports.labels", "dianshu.reports.numbers", "dianshu.reports.reasons", "dianshu.tabular.write"}
    allowed |= {"dianshu_graphql.language"}  # the request's language (no data)
    for path in Path(portal.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [a.name for a in node.names] if isinstance(node, ast.Import)
                else [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            )  # fmt: skip
            for name in names:
                ours = name.startswith(("dianshu.", "dianshu_tenants", "dianshu_graphql."))
                assert not ours or name in allowed or name.startswith("dianshu_graphql.portal"), (path.name, name)
                assert not name.startswith("sqlalchemy"), (path.name, name)


def test_oidc_settings_are_checked():
    from dianshu.config import ConfigError

    full = {
        "oidc_issuer": "https://idp.example.cn",
        "oidc_client_id": "c",
        "oidc_client_secret": "s",
        "oidc_redirect_url": "https://portal.example.cn/portal/oidc/callback",
    }
    assert Settings(**full).oidc_enabled and not Settings().oidc_enabled
    with pytest.raises(ConfigError, match="DIANSHU_OIDC_REDIRECT_URL also required"):
        Settings(**{**full, "oidc_redirect_url": None})
    with pytest.raises(ConfigError, match="DIANSHU_OIDC_CLIENT_SECRET"):
        Settings(**{**full, "oidc_client_secret": None})
    prod = {"profile": "prod", "database_url": "postgresql://u@h/d", "redis_url": "redis://x", "jwt_secret": "s"}
    with pytest.raises(ConfigError, match="must be an https:// URL"):
        Settings(**prod, **{**full, "oidc_issuer": "http://idp.example.cn"})
