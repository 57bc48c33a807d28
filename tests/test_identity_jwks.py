"""RS256 tokens checked with the keys an identity provider publishes at a JWKS URL, served here by a
tiny HTTP server on 127.0.0.1: key rotation without a restart, an unknown kid, the provider
unreachable (503, not 500), and the clock-skew leeway."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import httpx
import jwt
import pydantic
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from dianshu.config import ConfigError, Settings
from dianshu_tenants.identity import AuthError, IdentityProviderUnavailable, TokenCodec

SECRET = "s" * 40


class Provider:
    """A JWKS endpoint whose key set the test replaces; counts the fetches."""

    def __init__(self) -> None:
        self.keys: list[dict] = []
        self.fetches = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                provider.fetches += 1
                body = json.dumps({"keys": provider.keys}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/.well-known/jwks.json"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def publish(self, *keys: tuple[str, rsa.RSAPrivateKey]) -> None:
        published = []
        for kid, key in keys:
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
            jwk.update({"kid": kid, "use": "sig", "alg": "RS256"})
            published.append(jwk)
        self.keys = published

    def close(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()


@pytest.fixture
def provider():
    p = Provider()
    yield p
    p.close()


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _token(key, kid: str, **over) -> str:
    now = int(time.time())
    claims = {
        "sub": "idp-user",
        "iss": "https://idp.bureau.example",
        "aud": "dianshu-api",
        "iat": now,
        "exp": now + 300,
        "role": "region_admin",
        "tenants": ["330702"],
    } | over
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def _codec(url: str, cooldown: int = 0) -> TokenCodec:
    return TokenCodec(
        Settings(
            jwt_algorithm="RS256",
            jwt_jwks_url=url,
            jwt_issuer="https://idp.bureau.example",
            jwt_jwks_cooldown_s=cooldown,
        )
    )


def test_a_key_rotated_at_the_provider_verifies_without_a_restart(provider):
    k1, k2 = _key(), _key()
    provider.publish(("k1", k1))
    codec = _codec(provider.url)
    assert codec.decode(_token(k1, "k1")).subject == "idp-user"
    assert provider.fetches == 1
    assert codec.decode(_token(k1, "k1")).subject == "idp-user"
    assert provider.fetches == 1  # the set is cached (lifespan 300 s)
    # The provider rotates: k2 replaces k1. A k2 token forces one refetch and verifies.
    provider.publish(("k2", k2))
    assert codec.decode(_token(k2, "k2")).subject == "idp-user"
    assert provider.fetches == 2
    # k1 is withdrawn: its token finds no key, after one more refetch.
    with pytest.raises(AuthError, match=r"unknown key id 'k1': not among the identity provider's keys at http://"):
        codec.decode(_token(k1, "k1"))
    assert provider.fetches == 3


def test_an_unknown_kid_refetches_at_most_once_per_cooldown(provider):
    k1 = _key()
    provider.publish(("k1", k1))
    codec = _codec(provider.url, cooldown=60)
    codec.decode(_token(k1, "k1"))
    assert provider.fetches == 1
    # Within 60 s of the first fetch a stream of made-up kids costs the provider nothing.
    for _ in range(3):
        with pytest.raises(AuthError, match="unknown key id 'made-up'"):
            codec.decode(_token(_key(), "made-up"))
    assert provider.fetches == 1


def test_issuer_and_audience_are_checked_with_provider_keys(provider):
    k1 = _key()
    provider.publish(("k1", k1))
    codec = _codec(provider.url)
    with pytest.raises(AuthError, match=r"invalid token: wrong issuer \(iss\)"):
        codec.decode(_token(k1, "k1", iss="https://other.example"))
    with pytest.raises(AuthError, match=r"invalid token: wrong audience \(aud\)"):
        codec.decode(_token(k1, "k1", aud="another-api"))
    # A token signed by a key not the published k1 but naming kid k1 fails the signature.
    with pytest.raises(AuthError, match="invalid token: the signature does not verify"):
        codec.decode(_token(_key(), "k1"))


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/jwks.json"


def test_an_unreachable_provider_is_a_clear_error_and_a_503():
    url = _closed_port_url()
    codec = _codec(url)
    with pytest.raises(IdentityProviderUnavailable, match=r"could not be fetched .*check DIANSHU_JWT_JWKS_URL"):
        codec.decode(_token(_key(), "k1"))
    with pytest.raises(IdentityProviderUnavailable, match=url):
        codec.check()

    # Through the API's bearer middleware: 503 with the reason, not a 500 and not a 401.
    from dianshu_graphql.app import Metrics, RequireBearer

    async def never(scope, receive, send):  # the app behind the middleware is not reached
        raise AssertionError("reached the app")

    services = SimpleNamespace(settings=codec.settings, codec=codec, metrics=Metrics())
    transport = httpx.ASGITransport(app=RequireBearer(never, services))

    async def call():
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post("/graphql", headers={"Authorization": f"Bearer {_token(_key(), 'k1')}"})

    import asyncio

    r = asyncio.run(call())
    assert r.status_code == 503
    assert r.json()["errors"][0]["extensions"]["code"] == "IDENTITY_PROVIDER_UNAVAILABLE"
    assert url in r.json()["errors"][0]["message"]


def test_a_provider_outage_is_ridden_out_with_its_last_keys_for_a_bounded_time(provider, monkeypatch):
    # A clock the test moves: the key-set cache, the client's cooldown and the stale window read it.
    import jwt.jwk_set_cache
    import jwt.jwks_client

    import dianshu_tenants.identity

    offset = [0.0]
    clock = SimpleNamespace(monotonic=lambda: time.monotonic() + offset[0], time=time.time)
    for module in (jwt.jwk_set_cache, jwt.jwks_client, dianshu_tenants.identity):
        monkeypatch.setattr(module, "time", clock)
    k1 = _key()
    provider.publish(("k1", k1))
    codec = TokenCodec(
        Settings(
            jwt_algorithm="RS256",
            jwt_jwks_url=provider.url,
            jwt_issuer="https://idp.bureau.example",
            jwt_jwks_cache_s=60,
            jwt_jwks_max_stale_s=600,
        )
    )
    assert codec.decode(_token(k1, "k1")).subject == "idp-user"
    provider.close()  # the provider goes down
    # 61 s later the cached set has expired (lifespan 60 s) and the refetch fails: the set fetched
    # at 0 s is 61 s old, within the 600 s stale window, so k1 tokens still verify.
    offset[0] = 61
    assert codec.decode(_token(k1, "k1")).subject == "idp-user"
    # A kid the stale set does not hold cannot be checked now: 503, not 401.
    offset[0] = 100  # past the 30 s cooldown since the first fetch, so a refetch is tried
    with pytest.raises(IdentityProviderUnavailable, match="could not be fetched"):
        codec.decode(_token(_key(), "k2"))
    # 601 s after the last fetch the stale set is no longer trusted.
    offset[0] = 602
    with pytest.raises(IdentityProviderUnavailable, match="could not be fetched"):
        codec.decode(_token(k1, "k1"))


def test_check_reports_the_provider_keys(provider):
    provider.publish(("k1", _key()), ("k2", _key()))
    assert _codec(provider.url).check() == f"RS256 with 2 signing key(s) at {provider.url}"


def test_clock_skew_within_the_leeway_is_accepted_beyond_it_refused():
    codec = TokenCodec(Settings(jwt_secret=SECRET, jwt_leeway_s=30))
    now = int(time.time())

    def tok(**over):
        claims = {"sub": "u", "iss": "dianshu", "aud": "dianshu-api", "iat": now - 600, "exp": now + 600}
        claims |= {"role": "region_viewer", "tenants": ["330702"]} | over
        return jwt.encode(claims, SECRET, algorithm="HS256")

    # Expired 10 s ago: within the 30 s leeway. Expired 60 s ago: beyond it (the test has 30 s of slack).
    assert codec.decode(tok(exp=now - 10)).subject == "u"
    with pytest.raises(AuthError, match="token expired"):
        codec.decode(tok(exp=now - 60))
    # Issued 10 s in the future (the IdP's clock ahead): accepted; 60 s ahead: refused.
    assert codec.decode(tok(iat=now + 10)).subject == "u"
    with pytest.raises(AuthError, match=r"invalid token: not valid yet \(iat or nbf in the future\)"):
        codec.decode(tok(iat=now + 60))


def test_identity_settings_are_bounded_and_consistent():
    with pytest.raises(pydantic.ValidationError, match="jwt_leeway_s"):
        Settings(jwt_leeway_s=301)
    with pytest.raises(ConfigError, match="DIANSHU_JWT_JWKS_URL needs DIANSHU_JWT_ALGORITHM=RS256"):
        Settings(jwt_jwks_url="https://idp.example/jwks.json")
    with pytest.raises(ConfigError, match="must be an http"):
        Settings(jwt_algorithm="RS256", jwt_jwks_url="file:///etc/jwks.json")
    prod = {"profile": "prod", "database_url": "postgresql://h/d", "redis_url": "redis://h:6379/0"}
    with pytest.raises(ConfigError, match="must be https://"):
        Settings(**prod, jwt_algorithm="RS256", jwt_jwks_url="http://idp.example/jwks.json")
    with pytest.raises(ConfigError, match="RS256 needs DIANSHU_JWT_JWKS_URL"):
        Settings(**prod, jwt_algorithm="RS256")
    assert Settings(**prod, jwt_algorithm="RS256", jwt_jwks_url="https://idp.example/jwks.json").jwt_jwks_url
