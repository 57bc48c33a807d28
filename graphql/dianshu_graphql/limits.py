"""Limits on what a request may send before any GraphQL work starts: the body's size (counted as it
streams, so a chunked body without Content-Length is caught too) and the shape of a GraphQL JSON
request (an object; variables bounded in depth and number of values; no NaN or Infinity)."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dianshu.config import Settings


class BadRequest(Exception):
    """A request the API refuses whole, with a 4xx status and a JSON error naming what is wrong."""

    def __init__(self, message: str, field: str, status: int = 400, code: str = "BAD_REQUEST") -> None:
        super().__init__(message)
        self.field, self.status, self.code = field, status, code

    def response(self) -> JSONResponse:
        return error_response(self.status, str(self), self.code, self.field)


def error_response(status: int, message: str, code: str, field: str | None = None) -> JSONResponse:
    extensions: dict[str, Any] = {"code": code}
    if field:
        extensions["field"] = field
    return JSONResponse({"errors": [{"message": message, "extensions": extensions}]}, status_code=status)


class BodyTooLarge(BadRequest):
    def __init__(self, limit: int, what: str) -> None:
        super().__init__(f"body: {what} may be at most {limit} bytes", "body", 413, "PAYLOAD_TOO_LARGE")


def _is_upload(scope: Scope) -> bool:
    if scope["path"].startswith("/ingest/"):
        return True
    ctype = dict(scope.get("headers") or []).get(b"content-type", b"")
    return scope["path"] == "/graphql" and ctype.lower().startswith(b"multipart/form-data")


class LimitBody:
    """Pure ASGI, so uploads still stream: refuses a declared Content-Length over the limit before
    reading, and stops reading once the bytes received pass it."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        upload = _is_upload(scope)
        limit = self.settings.max_upload_bytes if upload else self.settings.max_body_bytes
        what = "an upload" if upload else "a request body"
        declared = dict(scope.get("headers") or []).get(b"content-length")
        try:
            if declared is not None and int(declared) > limit:
                raise BodyTooLarge(limit, what)
        except ValueError:
            await error_response(400, "content-length: not a number", "BAD_REQUEST", "content-length")(
                scope, receive, send
            )
            return
        except BodyTooLarge as e:
            await e.response()(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit, what)
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except BodyTooLarge as e:
            if started:
                raise
            await e.response()(scope, receive, send)


def _refuse_constant(name: str) -> Any:
    raise BadRequest(f"body: {name} is not JSON (numbers must be finite)", "body")


def decode_request(data: str | bytes, settings: Settings) -> Any:
    """A GraphQL request body (or a GET's variables) as JSON, refused unless it is an object (a list
    is left to strawberry, which refuses batches) and its variables are bounded."""
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except RecursionError:
        raise BadRequest("body: JSON nested too deeply", "variables") from None
    except ValueError as e:  # malformed JSON, or an integer of thousands of digits
        raise BadRequest(f"body: not valid JSON ({str(e)[:120]})", "body") from None
    if not isinstance(value, dict | list):
        raise BadRequest(
            f"body: a GraphQL request is a JSON object with query, variables and operationName, "
            f"not {type(value).__name__ if value is not None else 'null'}",
            "body",
        )
    check_shape(value, settings)
    return value


def check_shape(value: Any, settings: Settings) -> None:
    """Depth and number of values, without recursion (the request itself adds two levels)."""
    max_depth = settings.max_variable_depth + 2
    count = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        count += 1
        if count > settings.max_variable_values:
            raise BadRequest(f"variables: more than {settings.max_variable_values} values", "variables")
        if isinstance(v, dict | list):
            if depth > max_depth:
                raise BadRequest(f"variables: nested more than {settings.max_variable_depth} levels deep", "variables")
            stack.extend((c, depth + 1) for c in (v.values() if isinstance(v, dict) else v))
