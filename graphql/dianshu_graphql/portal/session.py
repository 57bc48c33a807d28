"""The portal's session: one encrypted cookie, HttpOnly, SameSite=Lax, Secure in prod, with an
expiry. It holds a per-session CSRF token, and once signed in the bearer token the API accepts
(pasted in dev, or the OIDC provider's access token); during an OIDC sign-in the state, nonce and
PKCE verifier.

The cookie's value is AES-256-GCM (authenticated encryption) of the session, zlib-compressed first
when that is shorter: nobody holding the cookie can read the token in it, and nobody without the
portal secret can alter or forge one. Nothing in it is readable by a page's script (HttpOnly)
either. The key is derived with HKDF-SHA256 from the portal's session secret
(`DIANSHU_PORTAL_SESSION_SECRET`, or the one generated per state directory in dev), so the secret as
configured is never itself the cipher key. A cookie that does not decode, decrypt or parse, was
issued more than a session's length ago, or is past its session's expiry, is no session.

The value, base64url without padding:

    version (1 byte) | issued at (8 bytes, Unix seconds, big-endian) | nonce (12) | ciphertext + tag (16)

The version, the issue time and the cookie's name are the cipher's associated data (authenticated,
not secret). Compressing before encrypting reveals the compressed length; the payload is the
portal's own (a random CSRF token, the user's own token, the OIDC state), nothing an attacker can
inject into the same cookie to probe it, so this is not a CRIME-style oracle.

Size: browsers keep a cookie of at most 4,096 bytes (name, value and, by RFC 6265 §6.1, its
attributes) and silently drop a larger one, which would loop a sign-in. `write` measures the whole
`Set-Cookie` header value it is about to send (name=value and every attribute) and refuses, with
`SessionTooLarge`, anything over `COOKIE_MAX_BYTES` (4,000: a margin below 4,096); the sign-in then
says why instead of setting a cookie the browser would throw away."""

from __future__ import annotations

import base64
import hmac
import json
import os
import secrets
import struct
import time
import zlib
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from starlette.requests import Request
from starlette.responses import Response

from dianshu.config import Settings

COOKIE = "dianshu_portal"
SALT = "dianshu-portal-session"
# HKDF's context: which key this is (another use of the same secret would name another).
KEY_INFO = b"dianshu-portal-session cookie AES-256-GCM v1"
VERSION = 1
_HEADER = struct.Struct(">BQ")  # version, issued at
_NONCE = 12
_TAG = 16
_RAW, _ZLIB = b"\x00", b"\x01"  # the plaintext's first byte: how the JSON after it is stored
# The whole Set-Cookie value (name=value; attributes) at most this long: below the browsers' 4,096.
COOKIE_MAX_BYTES = 4000
# A session's JSON is a few KB; a decompressed payload past this is not one of ours.
_MAX_PLAINTEXT = 64 * 1024
# The anonymous session (before sign-in: the CSRF token of the sign-in form, an OIDC state).
ANONYMOUS_SECONDS = 30 * 60
# An issue time this far in the future (clock steps between replicas) is still accepted.
_CLOCK_SKEW = 60


class SessionTooLarge(ValueError):
    """The session cookie would be longer than a browser keeps (the token in it is too large)."""

    def __init__(self, size: int, token_size: int) -> None:
        super().__init__(f"the session cookie would be {size} bytes, over {COOKIE_MAX_BYTES}")
        self.size = size
        self.token_size = token_size


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


def derive_key(secret: str) -> bytes:
    """The cookie's AES-256-GCM key from the portal's session secret (HKDF-SHA256)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=SALT.encode(), info=KEY_INFO)
    return hkdf.derive(secret.encode("utf-8"))


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii") + b"=" * (-len(text) % 4))


class Sessions:
    """Reads and writes the session cookie; None from `read` when it is missing, forged, tampered
    with, made with another secret, or expired."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        secret = settings.portal_secret()
        self._aead = AESGCM(derive_key(secret)) if secret else None
        self.max_age = settings.portal_session_hours * 3600
        self.secure = settings.portal_secure_cookie

    @property
    def configured(self) -> bool:
        return self._aead is not None

    # ---- the value -----------------------------------------------------------------------------

    def seal(self, session: PortalSession, issued: int | None = None) -> str:
        assert self._aead is not None
        text = json.dumps(asdict(session), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        packed = zlib.compress(text, 9)
        plain = _ZLIB + packed if len(packed) < len(text) else _RAW + text
        header = _HEADER.pack(VERSION, int(time.time()) if issued is None else issued)
        nonce = os.urandom(_NONCE)
        return _b64encode(header + nonce + self._aead.encrypt(nonce, plain, COOKIE.encode() + header))

    def open(self, value: str) -> PortalSession | None:
        """The session in a cookie value, or None for anything this portal did not seal (or sealed
        too long ago): never an exception."""
        if self._aead is None:
            return None
        try:
            raw = _b64decode(value)
            if len(raw) < _HEADER.size + _NONCE + _TAG:
                return None
            at = _HEADER.size
            header, nonce, sealed = raw[:at], raw[at : at + _NONCE], raw[at + _NONCE :]
            version, issued = _HEADER.unpack(header)
            now = time.time()
            if version != VERSION or issued > now + _CLOCK_SKEW or now - issued > self.max_age:
                return None
            plain = self._aead.decrypt(nonce, sealed, COOKIE.encode() + header)
            if plain[:1] == _ZLIB:
                inflate = zlib.decompressobj()
                text = inflate.decompress(plain[1:], _MAX_PLAINTEXT)
                if inflate.unconsumed_tail or not inflate.eof:
                    return None
            elif plain[:1] == _RAW:
                text = plain[1:]
            else:
                return None
            data: Any = json.loads(text)
            if not isinstance(data, dict):
                return None
            session = PortalSession(**data)
        except (InvalidTag, ValueError, TypeError, zlib.error, struct.error):
            return None
        if not isinstance(session.expires, int) or session.expires < now:
            return None
        return session

    # ---- the cookie ----------------------------------------------------------------------------

    def read(self, request: Request) -> PortalSession | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        return self.open(raw)

    def set_cookie_header(self, session: PortalSession) -> bytes:
        """The Set-Cookie header value for this session, exactly as Starlette writes it."""
        scratch = Response()
        scratch.set_cookie(
            COOKIE,
            self.seal(session),
            max_age=max(0, session.expires - int(time.time())),
            path="/",
            httponly=True,
            samesite="lax",
            secure=self.secure,
        )
        (value,) = [v for k, v in scratch.raw_headers if k == b"set-cookie"]
        return value

    def write(self, response: Response, session: PortalSession) -> None:
        """Set the session cookie; `SessionTooLarge` (and no cookie) if a browser would drop it."""
        header = self.set_cookie_header(session)
        if len(header) > COOKIE_MAX_BYTES:
            raise SessionTooLarge(len(header), len((session.token or "").encode("utf-8")))
        response.raw_headers.append((b"set-cookie", header))

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)

    def signed_in(self, token: str, token_expires: int) -> PortalSession:
        """A new session for a signed-in user: a new CSRF token (no fixation of the anonymous one),
        ending at the session limit or when the token expires, whichever comes first."""
        expires = min(int(time.time()) + self.max_age, token_expires)
        return PortalSession(csrf=secrets.token_urlsafe(32), expires=expires, token=token)
