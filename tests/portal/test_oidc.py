"""Sign-in with the bureau's OIDC provider, against a fake provider in process (httpx.MockTransport):
discovery, the authorization redirect with state, nonce and a PKCE S256 challenge, the token
exchange (client secret, the verifier checked against the challenge), the ID token verified by its
JWKS, and the access token the API accepts. No network."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from dianshu.scope import Role
from dianshu_graphql.portal.session import COOKIE
from tests.api import Api
from tests.portal.test_portal import csrf_of
from tests.portal.test_session import big_token, session_cookies

ISSUER = "https://idp.example.cn/realms/ybj"
CLIENT, SECRET = "dianshu-portal", "client-secret-1"
REDIRECT = "http://test/portal/oidc/callback"


class FakeIdP:
    def __init__(self, access_token: str) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.access_token = access_token
        self.codes: dict[str, dict[str, str]] = {}
        self.nonce_override: str | None = None
        self.audience = CLIENT
        self.exchanges: list[dict[str, list[str]]] = []

    def authorize(self, url: str) -> str:
        """The user signs in at the provider: the code it sends the browser back with."""
        q = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        assert (q["response_type"], q["client_id"], q["redirect_uri"]) == ("code", CLIENT, REDIRECT)
        assert q["code_challenge_method"] == "S256" and q["scope"] == "openid"
        code = uuid.uuid4().hex
        self.codes[code] = q
        return code

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": self.audience, "sub": "u-1", "iat": now, "exp": now + 300, "nonce": nonce}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})

    def handler(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/realms/ybj/.well-known/openid-configuration":
            return httpx.Response(
                200,
                json={
                    "issuer": ISSUER,
                    "authorization_endpoint": f"{ISSUER}/auth",
                    "token_endpoint": f"{ISSUER}/token",
                    "jwks_uri": f"{ISSUER}/certs",
                },
            )
        if path == "/realms/ybj/certs":
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
            return httpx.Response(200, json={"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]})
        if path == "/realms/ybj/token":
            form = parse_qs(request.content.decode())
            self.exchanges.append(form)
            basic = base64.b64encode(f"{CLIENT}:{SECRET}".encode()).decode()
            if request.headers.get("authorization") != f"Basic {basic}":
                return httpx.Response(401, json={"error": "invalid_client"})
            pending = self.codes.pop(form["code"][0], None)
            if pending is None:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "code used or unknown"})
            challenge = base64.urlsafe_b64encode(hashlib.sha256(form["code_verifier"][0].encode()).digest())
            if challenge.rstrip(b"=").decode() != pending["code_challenge"]:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "PKCE verifier"})
            nonce = self.nonce_override or pending["nonce"]
            return httpx.Response(
                200, json={"access_token": self.access_token, "id_token": self.id_token(nonce), "token_type": "Bearer"}
            )
        return httpx.Response(404)


@pytest.fixture
async def oidc(settings, db, city):
    configured = settings.model_copy(
        update={
            "oidc_issuer": ISSUER,
            "oidc_client_id": CLIENT,
            "oidc_client_secret": SECRET,
            "oidc_redirect_url": REDIRECT,
        }
    )
    api = Api(configured, db)
    # The provider mints the tokens the API accepts (here the test deployment's signing key).
    idp = FakeIdP(api.token(Role.hospital_user, [city.a], city.a1))
    api.app.state.portal.oidc.transport = httpx.MockTransport(idp.handler)
    yield api, idp
    await api.client.aclose()


async def start(api: Api) -> str:
    page = await api.client.get("/")
    assert "通过统一身份认证登录" in page.text
    r = await api.client.post("/portal/oidc/start", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 303, r.text
    assert r.headers["location"].startswith(f"{ISSUER}/auth?")
    return r.headers["location"]


def state_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["state"][0]


async def test_the_authorization_code_flow_with_pkce(oidc, city):
    api, idp = oidc
    url = await start(api)
    code = idp.authorize(url)
    r = await api.client.get("/portal/oidc/callback", params={"code": code, "state": state_of(url)})
    assert r.status_code == 303 and r.headers["location"] == "/portal/home", r.text
    (exchange,) = idp.exchanges
    assert exchange["grant_type"] == ["authorization_code"] and exchange["redirect_uri"] == [REDIRECT]
    home = await api.client.get("/portal/home")
    assert home.status_code == 200 and "医院用户" in home.text and city.a1 in home.text
    # The code is spent: the same callback again is refused (the state was used up too).
    again = await api.client.get("/portal/oidc/callback", params={"code": code, "state": state_of(url)})
    assert again.status_code == 400 and "state" in again.text


async def test_a_wrong_state_is_refused(oidc):
    api, idp = oidc
    url = await start(api)
    code = idp.authorize(url)
    r = await api.client.get("/portal/oidc/callback", params={"code": code, "state": "forged"})
    assert r.status_code == 400 and "登录失败" in r.text and "state" in r.text
    assert not idp.exchanges  # never exchanged
    assert (await api.client.get("/portal/home")).status_code == 303
    # Without the session that started it (another browser): refused too.
    api.client.cookies.delete(COOKIE)
    r = await api.client.get("/portal/oidc/callback", params={"code": code, "state": state_of(url)})
    assert r.status_code == 400


async def test_an_id_token_for_another_nonce_or_client_is_refused(oidc):
    api, idp = oidc
    idp.nonce_override = "another sign-in's nonce"
    url = await start(api)
    r = await api.client.get("/portal/oidc/callback", params={"code": idp.authorize(url), "state": state_of(url)})
    assert r.status_code == 400 and "nonce" in r.text
    idp.nonce_override, idp.audience = None, "another-client"
    url = await start(api)
    r = await api.client.get("/portal/oidc/callback", params={"code": idp.authorize(url), "state": state_of(url)})
    assert r.status_code == 400 and "身份令牌无效：受众（aud）不符" in r.text
    assert (await api.client.get("/portal/home")).status_code == 303
    # The same refusal in English: the portal's words and PyJWT's failure said by its kind.
    url = await start(api)
    r = await api.client.get(
        "/portal/oidc/callback",
        params={"code": idp.authorize(url), "state": state_of(url)},
        headers={"Accept-Language": "en"},
    )
    assert r.status_code == 400 and "the ID token is not valid: wrong audience (aud)" in r.text, r.text


def test_every_sign_on_refusal_has_both_languages():
    """Each OidcError's id is in the portal catalogue, with the same placeholders in English; each
    of PyJWT's failures, as dianshu_tenants.identity says it, has its Chinese."""
    import string

    from dianshu.reports.labels import PAGES
    from dianshu.reports.reasons import TERMS
    from dianshu_graphql.portal import oidc as module
    from dianshu_tenants.identity import JWT_FAILURES

    ids = re.findall(r'OidcError\(\s*"([^"]+)"', Path(module.__file__).read_text(encoding="utf-8"))
    assert len(ids) >= 14
    for zh in ids:
        assert zh in PAGES, zh
        names = {n for _, n, _, _ in string.Formatter().parse(zh) if n}
        assert names == {n for _, n, _, _ in string.Formatter().parse(PAGES[zh]) if n}, zh
    assert {why for _, why in JWT_FAILURES} | {"not accepted"} == set(TERMS["detail"])


async def test_the_provider_refusing_is_shown(oidc):
    api, _ = oidc
    url = await start(api)
    refusal = {"error": "access_denied", "error_description": "用户取消", "state": state_of(url)}
    r = await api.client.get("/portal/oidc/callback", params=refusal)
    assert r.status_code == 400 and "用户取消" in r.text


async def test_an_access_token_the_api_does_not_accept_is_refused(oidc):
    api, idp = oidc
    idp.access_token = "opaque-token-not-a-jwt"
    url = await start(api)
    r = await api.client.get("/portal/oidc/callback", params={"code": idp.authorize(url), "state": state_of(url)})
    assert r.status_code == 400 and "令牌无效：不是格式正确的 JWT" in r.text, r.text


async def test_an_access_token_too_large_for_the_cookie_is_refused(oidc, city):
    # A provider's access token with 5 KB of claims: the API would take it, but its session cookie
    # would pass the browser's 4 KB, so the sign-in says why and sets no session with it.
    api, idp = oidc
    idp.access_token = big_token(api, [city.a], 5000)
    url = await start(api)
    r = await api.client.get("/portal/oidc/callback", params={"code": idp.authorize(url), "state": state_of(url)})
    assert r.status_code == 400 and "访问令牌过大" in r.text, r.text
    assert all(len(h) < 1000 for h in session_cookies(r))
    assert (await api.client.get("/portal/home")).headers["location"] == "/"
