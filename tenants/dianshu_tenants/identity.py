"""Bearer JWTs. Dev: HS256 with a secret (generated per state directory when unset).
Prod: RS256, verified with the keys the bureau's identity provider publishes at a JWKS URL (cached,
refetched when a token names a new key id, so keys rotate without a restart), or, at an offline
site, a JWKS file or a public key file (keys chosen by `kid`). Issuer and audience are checked;
exp, iat and nbf allow DIANSHU_JWT_LEEWAY_S of clock skew.

Claims: iss, aud, sub, iat, exp, role, tenants (list of tenant codes), hospital (hospital_user,
optional for integrator), sa (integrator service account id)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from dianshu.config import Settings, get_settings
from dianshu.logs import bind_principal
from dianshu.scope import HUMAN_ROLES, Role
from dianshu.tenancy.codes import hospital_code_problem, plain_code

log = logging.getLogger(__name__)


# PyJWT's refusals by kind, in our words (its own are technical; these have Chinese in the reasons'
# catalogue, TERMS "detail"), the most specific kind first.
JWT_FAILURES: tuple[tuple[type[jwt.InvalidTokenError], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not valid yet (iat or nbf in the future)"),
    (jwt.InvalidAudienceError, "wrong audience (aud)"),
    (jwt.InvalidIssuerError, "wrong issuer (iss)"),
    (jwt.MissingRequiredClaimError, "a required claim is missing (exp, iat, sub, iss, aud)"),
    (jwt.InvalidSignatureError, "the signature does not verify"),
    (jwt.InvalidAlgorithmError, "its signing algorithm is not accepted"),
    (jwt.InvalidKeyError, "the key does not fit the token"),
    (jwt.DecodeError, "not a well-formed JWT"),
)


def jwt_failure(e: jwt.InvalidTokenError) -> str:
    """Why PyJWT refused a token, said by its kind."""
    return next((why for kind, why in JWT_FAILURES if isinstance(e, kind)), "not accepted")


class AuthError(Exception):
    """Authentication failed or the token's claims are inconsistent; the message says why."""


class IdentityProviderUnavailable(AuthError):
    """The token could not be checked because the identity provider's keys could not be fetched
    (the server's problem, not the token's: the API answers 503)."""


class ProviderKeys(jwt.PyJWKClient):
    """PyJWKClient riding out a short outage of the identity provider: when the cached set expires
    and the provider does not answer, the last set fetched keeps verifying for up to `max_stale_s`
    after its fetch (a forced refresh for an unknown kid never falls back: that token gets 503).
    After a failed fetch no other fetch is tried for max(cooldown, 1 s), so an outage does not
    hold every request for the fetch's timeout."""

    def __init__(self, uri: str, *, max_stale_s: float, **kwargs: Any) -> None:
        super().__init__(uri, **kwargs)
        self.max_stale_s = max_stale_s
        self._last_set: jwt.PyJWKSet | None = None
        self._last_set_at = 0.0
        self._fetched_at = 0.0
        self._failed_at: float | None = None
        self._failure: Exception | None = None

    def fetch_data(self) -> Any:
        data = super().fetch_data()
        self._fetched_at = time.monotonic()
        return data

    def _stale(self, now: float, refresh: bool) -> jwt.PyJWKSet | None:
        if refresh or self._last_set is None or now - self._last_set_at > self.max_stale_s:
            return None
        return self._last_set

    def get_jwk_set(self, refresh: bool = False) -> jwt.PyJWKSet:
        now = time.monotonic()
        if self._failed_at is not None and now - self._failed_at < max(self.cooldown_duration, 1.0):
            if (stale := self._stale(now, refresh)) is not None:
                return stale
            raise jwt.PyJWKClientConnectionError(str(self._failure)) from self._failure
        try:
            jwk_set = super().get_jwk_set(refresh)
        except jwt.PyJWKClientConnectionError as e:
            self._failed_at, self._failure = now, e.__cause__ or e
            if (stale := self._stale(now, refresh)) is not None:
                log.warning(
                    "identity provider %s unreachable (%s): using its keys fetched %.0f s ago",
                    self.uri,
                    self._failure,
                    now - self._last_set_at,
                )
                return stale
            raise
        self._failed_at = self._failure = None
        self._last_set, self._last_set_at = jwk_set, self._fetched_at
        return jwk_set


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    tenant_ids: tuple[str, ...]
    hospital_id: str | None = None
    service_account: str | None = None


class TokenCodec:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.algorithm = settings.jwt_algorithm
        self._verify_keys: dict[str | None, Any] = {}
        self._jwks: ProviderKeys | None = None
        if self.algorithm == "HS256":
            self._secret = settings.dev_jwt_secret()
        else:
            if settings.jwt_jwks_file:
                jwks = jwt.PyJWKSet.from_dict(json.loads(Path(settings.jwt_jwks_file).read_text()))
                self._verify_keys = {k.key_id: k.key for k in jwks.keys}
            if settings.jwt_public_key_file:
                self._verify_keys[None] = Path(settings.jwt_public_key_file).read_text()
            if settings.jwt_jwks_url:
                # The JWK set is cached for its lifespan; an unknown kid forces one refetch unless
                # another fetch happened within the cooldown. No per-kid cache (cache_keys): a key the
                # IdP withdraws stops verifying when the cached set expires.
                self._jwks = ProviderKeys(
                    settings.jwt_jwks_url,
                    max_stale_s=settings.jwt_jwks_max_stale_s,
                    cache_jwk_set=True,
                    lifespan=settings.jwt_jwks_cache_s,
                    cache_keys=False,
                    timeout=settings.jwt_jwks_timeout_s,
                    cooldown_duration=settings.jwt_jwks_cooldown_s,
                )
            if not self._verify_keys and self._jwks is None:
                raise AuthError(
                    "RS256 needs DIANSHU_JWT_JWKS_URL, DIANSHU_JWT_JWKS_FILE or DIANSHU_JWT_PUBLIC_KEY_FILE"
                )

    def encode(
        self,
        *,
        subject: str,
        role: Role,
        tenant_ids: list[str] | tuple[str, ...],
        hospital_id: str | None = None,
        service_account: str | None = None,
        ttl_seconds: int | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "sub": subject,
            "iat": now,
            "exp": now + (ttl_seconds or self.settings.token_ttl_hours * 3600),
            "role": role.value,
            "tenants": list(tenant_ids),
        }
        if hospital_id:
            claims["hospital"] = hospital_id
        if service_account:
            claims["sa"] = service_account
        if self.algorithm == "HS256":
            return jwt.encode(claims, self._secret, algorithm="HS256")
        if not self.settings.jwt_private_key_file:
            raise AuthError("minting RS256 tokens needs DIANSHU_JWT_PRIVATE_KEY_FILE (normally the IdP mints them)")
        key = Path(self.settings.jwt_private_key_file).read_text()
        return jwt.encode(claims, key, algorithm="RS256")

    def decode(self, token: str) -> Principal:
        try:
            if self.algorithm == "HS256":
                key: Any = self._secret
            else:
                kid = jwt.get_unverified_header(token).get("kid")
                key = self._verify_keys.get(kid)
                if key is None and self._jwks is not None and kid is not None:
                    key = self._provider_key(kid)
                key = key or self._verify_keys.get(None)
                if key is None:
                    raise AuthError(f"token signed with unknown key id {kid!r}")
            claims = jwt.decode(
                token,
                key,
                algorithms=[self.algorithm],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                leeway=self.settings.jwt_leeway_s,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as e:
            raise AuthError("token expired") from e
        except jwt.InvalidTokenError as e:
            raise AuthError(f"invalid token: {jwt_failure(e)}") from e
        return principal_from_claims(claims, settings=self.settings)

    async def decode_async(self, token: str) -> Principal:
        """`decode` for a server's event loop: with a JWKS URL a decode may fetch the provider's
        keys (up to DIANSHU_JWT_JWKS_TIMEOUT_S), so it runs in a thread and never stalls the loop."""
        if self._jwks is None:
            principal = self.decode(token)
        else:
            principal = await asyncio.to_thread(self.decode, token)
        # Every request's path to its principal comes through here: its log lines name who asked.
        bind_principal(principal)
        return principal

    def _provider_key(self, kid: str) -> Any | None:
        """The identity provider's key `kid`; None when its JWKS does not hold it (after the one
        refetch the cooldown allows), so a public key file, if any, is tried next."""
        assert self._jwks is not None
        try:
            return self._jwks.get_signing_key(kid).key
        except jwt.PyJWKClientConnectionError as e:
            raise IdentityProviderUnavailable(
                f"cannot check tokens: the identity provider's keys at {self._jwks.uri} could not be fetched "
                f"({e.__cause__ or e}); check DIANSHU_JWT_JWKS_URL and the network"
            ) from e
        except jwt.PyJWKClientError as e:
            if "Unable to find a signing key" in str(e):
                if None in self._verify_keys:
                    return None
                raise AuthError(
                    f"token signed with unknown key id {kid!r}: not among the identity provider's keys at "
                    f"{self._jwks.uri}"
                ) from e
            raise IdentityProviderUnavailable(f"the identity provider's keys at {self._jwks.uri}: {e}") from e
        except (jwt.PyJWKSetError, ValueError) as e:  # an empty or malformed set; a body that is not JSON
            raise IdentityProviderUnavailable(
                f"the identity provider's keys at {self._jwks.uri} are not a usable JWK set: {e}"
            ) from e

    def check(self) -> str:
        """Load the verification keys now (the JWKS fetched afresh); what was found, or AuthError
        saying why tokens cannot be checked."""
        said = {
            "secret": "a shared secret",
            "jwks_url": "{n} signing key(s) at {url}",
            "jwks_file": "{n} key(s) from DIANSHU_JWT_JWKS_FILE",
            "public_key_file": "a public key from DIANSHU_JWT_PUBLIC_KEY_FILE",
        }
        found = [said[kind].format(**fields) for kind, fields in self.key_sources()]
        return f"{self.algorithm} with " + ", ".join(found)

    def key_sources(self) -> list[tuple[str, dict[str, object]]]:
        """`check`'s findings as (kind, fields), for `dianshu doctor` to say in its language: kind
        secret (HS256), jwks_url (n, url), jwks_file (n), public_key_file."""
        if self.algorithm == "HS256":
            return [("secret", {})]
        found: list[tuple[str, dict[str, object]]] = []
        if self._jwks is not None:
            try:
                keys = self._jwks.get_signing_keys(refresh=True)
            except jwt.PyJWKClientConnectionError as e:
                raise IdentityProviderUnavailable(
                    f"the identity provider's keys at {self._jwks.uri} could not be fetched ({e.__cause__ or e})"
                ) from e
            except (jwt.PyJWTError, ValueError) as e:
                raise IdentityProviderUnavailable(f"the identity provider's keys at {self._jwks.uri}: {e}") from e
            found.append(("jwks_url", {"n": len(keys), "url": self._jwks.uri}))
        files = [k for k in self._verify_keys if k is not None]
        if files:
            found.append(("jwks_file", {"n": len(files)}))
        if None in self._verify_keys:
            found.append(("public_key_file", {}))
        return found


def principal_from_claims(claims: dict[str, Any], *, settings: Settings | None = None) -> Principal:
    """The principal a token's claims describe; AuthError when they are inconsistent. The hospital
    claim must be a hospital code of one of the token's tenants (never a wildcard or a list)."""
    try:
        role = Role(claims.get("role"))
    except ValueError as e:
        raise AuthError(f"token claim role={claims.get('role')!r} is not a known role") from e
    if role not in HUMAN_ROLES:
        raise AuthError(f"token claim role={role.value} cannot be used by a client")
    tenants = claims.get("tenants")
    if not isinstance(tenants, list) or not tenants or not all(isinstance(t, str) and plain_code(t) for t in tenants):
        raise AuthError("token claim tenants must be a non-empty list of tenant codes")
    hospital = claims.get("hospital")
    if hospital is not None and not isinstance(hospital, str):
        raise AuthError("token claim hospital must be a hospital code")
    if role is Role.hospital_user and (not hospital or len(tenants) != 1):
        raise AuthError("a hospital_user token names exactly one tenant and its hospital")
    if role in (Role.region_admin, Role.region_viewer) and len(tenants) != 1:
        raise AuthError(f"a {role.value} token names exactly one tenant")
    if role is not Role.hospital_user and role is not Role.integrator and hospital:
        raise AuthError(f"a {role.value} token cannot name a hospital")
    if role is Role.integrator and not claims.get("sa"):
        raise AuthError("an integrator token names its service account (claim sa)")
    if hospital:
        settings = settings or get_settings()
        problems = [hospital_code_problem(hospital, t, settings.hospital_code_pattern_for(t)) for t in tenants]
        if all(problems):
            raise AuthError(f"token claim hospital: {problems[0]}")
    return Principal(
        subject=str(claims["sub"]),
        role=role,
        tenant_ids=tuple(dict.fromkeys(tenants)),
        hospital_id=hospital,
        service_account=claims.get("sa"),
    )


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise AuthError("Authorization header must be 'Bearer <token>'")
    return value.strip()
