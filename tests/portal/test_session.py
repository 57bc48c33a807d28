"""The portal's session cookie: encrypted (the token cannot be read out of it), authenticated (one
byte changed, or another secret, is no session, never an error), and never larger than a browser
keeps (an oversized token is refused at sign-in, with no session cookie)."""

from __future__ import annotations

import base64
import secrets
import time

import httpx
import jwt
import pytest
from starlette.responses import Response

from dianshu.scope import Role
from dianshu_graphql.portal.session import (
    COOKIE,
    COOKIE_MAX_BYTES,
    PortalSession,
    Sessions,
    SessionTooLarge,
    derive_key,
)
from tests.api import Api
from tests.conftest import JWT_SECRET
from tests.portal.test_portal import csrf_of, sign_in


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


def session_cookies(r: httpx.Response) -> list[str]:
    return [v for k, v in r.headers.multi_items() if k == "set-cookie" and v.startswith(COOKIE + "=")]


def big_token(api: Api, tenants: list[str], pad_bytes: int) -> str:
    """A token the API accepts, with a claim of `pad_bytes` random (incompressible) characters: an
    OIDC access token heavy with claims."""
    now = int(time.time())
    s = api.settings
    claims = {
        "iss": s.jwt_issuer,
        "aud": s.jwt_audience,
        "sub": "big",
        "iat": now,
        "exp": now + 3600,
        "role": Role.region_admin.value,
        "tenants": tenants,
        "groups": secrets.token_urlsafe(pad_bytes)[:pad_bytes],
    }
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def flipped(value: str, at: int) -> str:
    """The cookie value with one byte of what it encodes changed."""
    raw = bytearray(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    raw[at] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


async def signed_out(api: Api) -> bool:
    r = await api.client.get("/portal/home")
    return r.status_code == 303 and r.headers["location"] == "/"


async def test_the_cookie_does_not_hold_the_token_readably(api, city):
    token = api.token(Role.region_admin, [city.a])
    r = await sign_in(api, token)
    assert r.status_code == 303
    value = api.client.cookies.get(COOKIE)
    header, payload, signature = token.split(".")
    raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    for part in (token, header, payload, signature, *(payload[i : i + 12] for i in range(0, len(payload) - 12, 12))):
        assert part not in value and part.encode() not in raw
    # Nor the claims as they decode (the tenant, the role), nor the session's JSON.
    for word in (city.a, "region_admin", '"token"', "csrf"):
        assert word not in value and word.encode() not in raw
    # The portal itself opens it: the token is there, for the portal only.
    assert Sessions(api.settings).open(value).token == token
    # Two cookies of the same session differ (a fresh nonce each time).
    sessions = Sessions(api.settings)
    s = sessions.signed_in(token, int(time.time()) + 60)
    assert sessions.seal(s) != sessions.seal(s)
    assert (await api.client.get("/portal/home")).status_code == 200


async def test_one_byte_changed_is_signed_out_not_an_error(api, city):
    await sign_in(api, api.token(Role.region_admin, [city.a]))
    good = api.client.cookies.get(COOKIE)
    length = len(base64.urlsafe_b64decode(good + "=" * (-len(good) % 4)))
    # The version, the issue time, the nonce, the ciphertext and the tag.
    for at in (0, 5, 8, 12, 30, length // 2, length - 17, length - 1):
        api.client.cookies.clear()
        api.client.cookies.set(COOKIE, flipped(good, at))
        assert await signed_out(api), at
        page = await api.client.get("/")
        assert page.status_code == 200 and "用令牌登录" in page.text
    # Not even base64, truncated, empty-ish, huge: the same, never a 500.
    for junk in ("!!!not-base64!!!", good[:20], good[:-10], "A", "AAAA", "eyJ" + "A" * 5000, good + "AAAA"):
        api.client.cookies.clear()
        api.client.cookies.set(COOKIE, junk)
        assert await signed_out(api), junk
        assert (await api.client.get("/")).status_code == 200
    # The untouched cookie still works.
    api.client.cookies.clear()
    api.client.cookies.set(COOKIE, good)
    assert (await api.client.get("/portal/home")).status_code == 200


async def test_a_cookie_made_with_another_secret_is_refused(api, city):
    token = api.token(Role.region_admin, [city.a])
    other = Sessions(api.settings.model_copy(update={"portal_session_secret": "another-secret-" + "z" * 32}))
    mine = Sessions(api.settings)
    forged = other.seal(other.signed_in(token, int(time.time()) + 600))
    assert other.open(forged).token == token and mine.open(forged) is None
    api.client.cookies.set(COOKIE, forged)
    assert await signed_out(api)
    # The cipher key is derived from the secret, not the secret itself, and differs per secret.
    secret = api.settings.portal_secret()
    assert derive_key(secret) != secret.encode()[:32] and len(derive_key(secret)) == 32
    assert derive_key(secret) != derive_key("another-secret-" + "z" * 32)


def test_too_old_or_from_the_future_is_no_session(settings):
    sessions = Sessions(settings)
    s = PortalSession.fresh()
    now = int(time.time())
    assert sessions.open(sessions.seal(s, issued=now)) == s
    assert sessions.open(sessions.seal(s, issued=now - sessions.max_age - 5)) is None
    assert sessions.open(sessions.seal(s, issued=now + 3600)) is None
    # Past its own expiry (the token's), though sealed just now.
    s.expires = now - 1
    assert sessions.open(sessions.seal(s)) is None


def test_the_size_guard_measures_the_whole_set_cookie_header(settings):
    sessions = Sessions(settings)
    ok = sessions.signed_in("x" * 100, int(time.time()) + 600)
    response = Response()
    sessions.write(response, ok)
    (header,) = [v for k, v in response.raw_headers if k == b"set-cookie"]
    assert len(header) <= COOKIE_MAX_BYTES and b"HttpOnly" in header and b"Max-Age=" in header
    # Incompressible: over the limit once sealed; refused, and nothing set.
    big = sessions.signed_in(secrets.token_urlsafe(3000), int(time.time()) + 600)
    response = Response()
    with pytest.raises(SessionTooLarge) as e:
        sessions.write(response, big)
    assert e.value.size > COOKIE_MAX_BYTES and e.value.token_size == len(big.token)
    assert not [v for k, v in response.raw_headers if k == b"set-cookie"]
    # Compressible: the same length of text fits (zlib before encrypting).
    repetitive = sessions.signed_in("ab" * 2000, int(time.time()) + 600)
    sessions.write(Response(), repetitive)


async def test_an_oidc_sized_token_signs_in(api, city):
    # 3 KB, the top of a provider's access token heavy with claims: fits (zlib before encrypting
    # takes back what base64 adds).
    token = big_token(api, [city.a], 2100)
    assert 2900 <= len(token) <= 3200
    r = await sign_in(api, token)
    assert r.status_code == 303 and r.headers["location"] == "/portal/home"
    (header,) = session_cookies(r)
    assert len(header.encode()) <= COOKIE_MAX_BYTES
    assert (await api.client.get("/portal/home")).status_code == 200


async def test_an_oversized_token_is_refused_with_no_session_cookie(api, city):
    token = big_token(api, [city.a], 5000)
    # The API itself accepts it (the refusal is the portal's cookie, not the token).
    assert (await api.post(token, "{ __typename }")).status_code == 200
    page = await api.client.get("/")
    r = await api.client.post("/portal/sign-in", data={"csrf": csrf_of(page.text), "token": token})
    assert r.status_code == 400 and "访问令牌过大" in r.text and f"{len(token)} 字节" in r.text
    # At most the anonymous session of the sign-in page again: small, without the token.
    sessions = Sessions(api.settings)
    for header in session_cookies(r):
        assert len(header) < 1000
        assert sessions.open(header.split(";")[0].split("=", 1)[1]).token is None
    assert await signed_out(api)
    # In English too.
    page = await api.client.get("/?lang=en")
    r = await api.client.post("/portal/sign-in", data={"csrf": csrf_of(page.text), "token": token})
    assert r.status_code == 400 and "too large" in r.text
