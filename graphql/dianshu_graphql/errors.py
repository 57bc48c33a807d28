"""Typed errors returned by mutations (the union members), and the expected errors that the
masking extension lets through to clients."""

from __future__ import annotations

import strawberry

from dianshu_tenants.identity import AuthError


class ExpectedError(Exception):
    """An error whose message is safe and useful for the client (never masked)."""


class Forbidden(ExpectedError):
    pass


EXPECTED = (ExpectedError, AuthError, PermissionError)


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
