"""Sign-in with the bureau's OpenID Connect provider: the authorization-code flow with PKCE (S256),
state and nonce. The provider's discovery document names its endpoints; its ID token is verified
against its JWKS (PyJWT) for issuer, audience (our client id), expiry and nonce. The session then
holds the provider's access token, which must be a token the API itself accepts (TokenCodec: the
deployment's RS256 keys or JWKS file, issuer, audience and the role/tenants claims), so the portal
and every other client are held to one rule."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from dianshu.config import Settings
from dianshu.reports.labels import page_text
from dianshu.reports.reasons import term
from dianshu.tabular.write import Lang
from dianshu_tenants.identity import jwt_failure


class OidcError(Exception):
    """The sign-in cannot go on: `zh` is the portal catalogue's id of why (labels.PAGES, so the page
    says it in its language), `fields` its values (a `detail` is a reasons TERMS label); str() is
    the Chinese."""

    def __init__(self, zh: str, **fields: object) -> None:
        self.zh, self.fields = zh, {k: str(v) for k, v in fields.items()}
        super().__init__(self.said(Lang.zh))

    def said(self, lang: Lang) -> str:
        return page_text(self.zh, lang, **{k: term(k, v, lang) for k, v in self.fields.items()})


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def pkce_pair() -> tuple[str, str]:
    """(verifier, S256 challenge), RFC 7636."""
    verifier = _b64(secrets.token_bytes(32))
    return verifier, _b64(hashlib.sha256(verifier.encode("ascii")).digest())


class OidcClient:
    DISCOVERY_TTL_S = 3600

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.transport = transport  # tests: a fake provider in process
        self._provider: tuple[float, Provider] | None = None
        self._jwks: tuple[float, jwt.PyJWKSet] | None = None

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, timeout=10.0, follow_redirects=False)

    async def _get_json(self, url: str) -> dict[str, Any]:
        try:
            async with self._client() as c:
                r = await c.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as e:
            raise OidcError("无法连接统一身份认证服务（{kind}）", kind=type(e).__name__) from e
        if r.status_code != 200:
            raise OidcError("统一身份认证服务返回 {status}（{url}）", status=r.status_code, url=url)
        try:
            body = r.json()
        except ValueError as e:
            raise OidcError("统一身份认证服务的应答不是 JSON（{url}）", url=url) from e
        if not isinstance(body, dict):
            raise OidcError("统一身份认证服务的应答不是 JSON 对象（{url}）", url=url)
        return body

    async def provider(self) -> Provider:
        now = time.monotonic()
        if self._provider and now - self._provider[0] < self.DISCOVERY_TTL_S:
            return self._provider[1]
        issuer = (self.settings.oidc_issuer or "").rstrip("/")
        doc = await self._get_json(f"{issuer}/.well-known/openid-configuration")
        try:
            p = Provider(
                issuer=str(doc["issuer"]),
                authorization_endpoint=str(doc["authorization_endpoint"]),
                token_endpoint=str(doc["token_endpoint"]),
                jwks_uri=str(doc["jwks_uri"]),
            )
        except KeyError as e:
            raise OidcError("统一身份认证服务的配置缺少 {key}", key=e.args[0]) from e
        if p.issuer.rstrip("/") != issuer:
            raise OidcError("统一身份认证服务的 issuer（{theirs}）与配置（{ours}）不符", theirs=p.issuer, ours=issuer)
        self._provider = (now, p)
        return p

    async def authorization_url(self) -> tuple[str, dict[str, str]]:
        """Where to send the browser, and what the session keeps until the callback."""
        p = await self.provider()
        verifier, challenge = pkce_pair()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        query = {
            "response_type": "code",
            "client_id": self.settings.oidc_client_id or "",
            "redirect_uri": self.settings.oidc_redirect_url or "",
            "scope": self.settings.oidc_scopes,
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        sep = "&" if "?" in p.authorization_endpoint else "?"
        return f"{p.authorization_endpoint}{sep}{urlencode(query)}", {
            "state": state,
            "nonce": nonce,
            "verifier": verifier,
        }

    async def _keys(self, p: Provider, refresh: bool = False) -> jwt.PyJWKSet:
        now = time.monotonic()
        if not refresh and self._jwks and now - self._jwks[0] < self.DISCOVERY_TTL_S:
            return self._jwks[1]
        try:
            keys = jwt.PyJWKSet.from_dict(await self._get_json(p.jwks_uri))
        except jwt.PyJWKSetError as e:
            raise OidcError("统一身份认证服务的公钥（JWKS）无法读取") from e
        self._jwks = (now, keys)
        return keys

    async def _verify_id_token(self, p: Provider, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            kid = jwt.get_unverified_header(id_token).get("kid")
        except jwt.InvalidTokenError as e:
            raise OidcError("身份令牌格式错误") from e
        key = None
        for refresh in (False, True):  # a key rotated since the last fetch: fetch once more
            keys = await self._keys(p, refresh)
            key = next((k for k in keys.keys if kid is None or k.key_id == kid), None)
            if key is not None:
                break
        if key is None:
            raise OidcError("身份令牌的签名密钥未知（kid {kid}）", kid=repr(kid))
        try:
            claims = jwt.decode(
                id_token,
                key.key,
                algorithms=["RS256", "PS256", "ES256"],
                audience=self.settings.oidc_client_id,
                issuer=p.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.InvalidTokenError as e:
            raise OidcError("身份令牌无效：{detail}", detail=jwt_failure(e)) from e
        if not secrets.compare_digest(str(claims.get("nonce", "")), nonce):
            raise OidcError("身份令牌的 nonce 与本次登录不符")
        return claims

    async def exchange(self, code: str, pending: dict[str, str]) -> str:
        """The callback's code for the provider's tokens; returns the access token (the ID token
        verified first)."""
        p = await self.provider()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.oidc_redirect_url or "",
            "code_verifier": pending["verifier"],
        }
        auth = (self.settings.oidc_client_id or "", self.settings.oidc_secret())
        try:
            async with self._client() as c:
                r = await c.post(p.token_endpoint, data=form, auth=auth, headers={"Accept": "application/json"})
        except httpx.HTTPError as e:
            raise OidcError("无法连接统一身份认证服务（{kind}）", kind=type(e).__name__) from e
        try:
            body = r.json()
        except ValueError:
            body = {}
        if r.status_code != 200 or not isinstance(body, dict):
            detail = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
            if detail:
                raise OidcError("换取令牌失败（{status}：{said}）", status=r.status_code, said=str(detail)[:200])
            raise OidcError("换取令牌失败（{status}）", status=r.status_code)
        id_token, access_token = body.get("id_token"), body.get("access_token")
        if not isinstance(id_token, str) or not isinstance(access_token, str):
            raise OidcError("统一身份认证服务未返回身份令牌和访问令牌")
        await self._verify_id_token(p, id_token, pending["nonce"])
        return access_token
