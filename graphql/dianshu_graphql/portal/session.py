"""The portal's session: one signed cookie (itsdangerous), HttpOnly, SameSite=Lax, Secure in prod,
with an expiry. It holds a per-session CSRF token, and once signed in the bearer token the API
accepts (pasted in dev, or the OIDC provider's access token); during an OIDC sign-in the state,
nonce and PKCE verifier. Nothing in it is readable by a page's script (HttpOnly); it is signed, so
it cannot be altered or forged without the portal secret."""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from dianshu.config import Settings

COOKIE = "dianshu_portal"
SALT = "dianshu-portal-session"
# The anonymous session (before sign-in: the CSRF token of the sign-in form, an OIDC state).
ANONYMOUS_SECONDS = 30 * 60


@dataclass
class PortalSession:
    csrf: str
    expires: int
    token: str | None = None
    oidc: dict[str, str] = field(default_factory=dict)

    @classmethod
    def fresh(cls) -> PortalSession:
        return cls(csrf=secrets.token_urlsafe(32), expires=int(time.time()) + ANONYMOUS_SECONDS)

    def csrf_ok(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf, str(sent))


class Sessions:
    """Reads and writes the session cookie; None from `read` when it is missing, forged or expired."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        secret = settings.portal_secret()
        self._serializer = URLSafeTimedSerializer(secret, salt=SALT) if secret else None
        self.max_age = settings.portal_session_hours * 3600
        self.secure = settings.portal_secure_cookie

    @property
    def configured(self) -> bool:
        return self._serializer is not None

    def read(self, request: Request) -> PortalSession | None:
        raw = request.cookies.get(COOKIE)
        if not raw or self._serializer is None:
            return None
        try:
            data: dict[str, Any] = self._serializer.loads(raw, max_age=self.max_age)
            session = PortalSession(**data)
        except (BadSignature, SignatureExpired, TypeError, ValueError):
            return None
        if session.expires < time.time():
            return None
        return session

    def write(self, response: Response, session: PortalSession) -> None:
        assert self._serializer is not None
        value = self._serializer.dumps(asdict(session))
        response.set_cookie(
            COOKIE,
            value,
            max_age=max(0, session.expires - int(time.time())),
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)

    def signed_in(self, token: str, token_expires: int) -> PortalSession:
        """A new session for a signed-in user: a new CSRF token (no fixation of the anonymous one),
        ending at the session limit or when the token expires, whichever comes first."""
        expires = min(int(time.time()) + self.max_age, token_expires)
        return PortalSession(csrf=secrets.token_urlsafe(32), expires=expires, token=token)
