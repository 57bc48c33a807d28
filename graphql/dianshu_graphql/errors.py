"""Typed errors returned by mutations (the union members), and the expected errors that the
masking extension lets through to clients."""

from __future__ import annotations

import re

import strawberry
from strawberry.exceptions import StrawberryInputCoercionError

from dianshu_tenants.identity import AuthError


class ExpectedError(Exception):
    """An error whose message is safe and useful for the client (never masked). graphql-core copies
    `extensions` onto the error the client sees."""

    code = "BAD_USER_INPUT"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        # The field named first in the message ("after: ...") unless given.
        if field is None and (m := re.match(r"([A-Za-z_][\w.\[\]]*): ", message)):
            field = m.group(1)
        self.field = field
        self.extensions = {"code": self.code, **({"field": self.field} if self.field else {})}


class BadInput(ExpectedError):
    """A client's argument refused before its resolver ran (dianshu_graphql.guards)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, field)


class Forbidden(ExpectedError):
    code = "FORBIDDEN"


# Coercion errors of variables and literals (a Decimal variable "abc") are the client's mistakes too.
EXPECTED = (ExpectedError, AuthError, PermissionError, StrawberryInputCoercionError)


@strawberry.type
class FieldError:
    record: str = strawberry.field(description="Which input record (e.g. 'hospital #3 (H33070200003)').")
    field: str
    reason: str


@strawberry.type
class ValidationError:
    message: str
    errors: list[FieldError]


@strawberry.type
class PermissionDenied:
    message: str


@strawberry.type
class IdempotencyConflict:
    message: str
    idempotency_key: str
