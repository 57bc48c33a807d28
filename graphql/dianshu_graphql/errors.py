"""Errors, both ways a client meets them.

- Typed errors: the members of a mutation's result union (`ValidationError`, `PermissionDenied`,
  `IdempotencyConflict`, `NotFound`, `StateConflict`), read with `__typename`; a domain's refusal
  (dianshu.errors.Refused) becomes one through `refused`, the one mapping.
- Top-level errors (`errors[]` of the response): an `ExpectedError` raised by a query, a refused
  argument, a bad cursor or id. Each carries `extensions.code` (and `extensions.field` when one
  argument is at fault); `ErrorCodes` (schema.py) makes sure every error that reaches a client has a
  code, and masks the unexpected ones as `Unexpected error.` with code `INTERNAL_SERVER_ERROR`.

Languages: `message` and `reason` stay in English, as they always were (clients may compare them);
each typed error adds `localizedMessage` (and a FieldError `localizedReason` and `code`, the
reason's stable code in dianshu.reports.reasons) in the request's language (Accept-Language, zh
by default: dianshu_graphql.language); a top-level error adds `extensions.localizedMessage`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import strawberry
from strawberry.exceptions import StrawberryInputCoercionError

from dianshu.errors import Refused
from dianshu.reports import reasons
from dianshu_graphql.language import current
from dianshu_tenants.identity import AuthError
from graphql import GraphQLError

# The codes of top-level errors (extensions.code), as documented in the README.
BAD_USER_INPUT = "BAD_USER_INPUT"
FORBIDDEN = "FORBIDDEN"
UNAUTHENTICATED = "UNAUTHENTICATED"
GRAPHQL_VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class ExpectedError(Exception):
    """An error whose message is safe and useful for the client (never masked). graphql-core copies
    `extensions` onto the error the client sees."""

    code = BAD_USER_INPUT

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


class InvalidId(ExpectedError):
    """An id argument that is not a global id of this API (malformed, or of an unknown type), or the
    id of another type than the argument takes. Never says whether an object exists."""


class Forbidden(ExpectedError):
    code = FORBIDDEN


# Exceptions whose message is the client's to read, with the code each gets when it has none of its
# own. Coercion errors of variables and literals (a Decimal variable "abc", an Int variable "x":
# graphql-core's own GraphQLError) are the client's mistakes too.
EXPECTED_CODES: tuple[tuple[type[Exception], str], ...] = (
    (ExpectedError, BAD_USER_INPUT),
    (AuthError, UNAUTHENTICATED),
    (PermissionError, FORBIDDEN),
    (StrawberryInputCoercionError, BAD_USER_INPUT),
    (GraphQLError, BAD_USER_INPUT),
)
EXPECTED = tuple(t for t, _ in EXPECTED_CODES)


def code_of(error: Exception) -> str | None:
    """The code of an expected exception, or None for an unexpected one."""
    for kind, code in EXPECTED_CODES:
        if isinstance(error, kind):
            own = getattr(error, "extensions", None)
            return own.get("code", code) if isinstance(own, dict) else code
    return None


@strawberry.type(description="One refused value: which record, which field (its path in the input), and why.")
class FieldError:
    record: str = strawberry.field(description="Which input record (e.g. 'hospital #3 (H33070200003)').")
    field: str
    reason: str = strawberry.field(description="Why, in English (stable wording; see `code`).")

    @strawberry.field(
        description="The reason's stable code in the refusal catalogue (null for a reason it has none for)."
    )
    def code(self) -> str | None:
        return reasons.code(self.reason)

    @strawberry.field(description="The reason in the request's language (Accept-Language; Chinese by default).")
    def localized_reason(self) -> str:
        return reasons.localize(self.reason, current())


@strawberry.type(description="The input was refused; nothing was done. Every refused field is listed.")
class ValidationError:
    message: str
    errors: list[FieldError]

    @strawberry.field(description="The message in the request's language (Accept-Language; Chinese by default).")
    def localized_message(self) -> str:
        return reasons.localize_message(self.message, current())


@strawberry.type(description="Your role may not do this, or the tenant named is outside your scope.")
class PermissionDenied:
    message: str

    @strawberry.field(description="The message in the request's language (Accept-Language; Chinese by default).")
    def localized_message(self) -> str:
        return reasons.localize_message(self.message, current())


@strawberry.type(description="The idempotency key was used before for a request with other content.")
class IdempotencyConflict:
    message: str
    idempotency_key: str

    @strawberry.field(description="The message in the request's language (Accept-Language; Chinese by default).")
    def localized_message(self) -> str:
        return reasons.localize_message(self.message, current())


@strawberry.type(description="No such object that you may see (the same answer whether it exists elsewhere or not).")
class NotFound:
    message: str
    record: str = strawberry.field(description="What was looked for (e.g. 'run 3f2…').")
    field: str = strawberry.field(description="The argument path that named it (e.g. 'id').")
    id: strawberry.ID | None = strawberry.field(default=None, description="The id as sent, when one was.")

    @strawberry.field(description="The message in the request's language (Accept-Language; Chinese by default).")
    def localized_message(self) -> str:
        return reasons.localize_message(self.message, current())


@strawberry.type(description="The record exists, but its state does not allow this now.")
class StateConflict:
    message: str
    record: str = strawberry.field(description="The record (e.g. 'run 3f2…').")
    field: str = strawberry.field(description="The argument path concerned.")
    reason: str

    @strawberry.field(
        description="The reason's stable code in the refusal catalogue (null for a reason it has none for)."
    )
    def code(self) -> str | None:
        return reasons.code(self.reason)

    @strawberry.field(description="The reason in the request's language (Accept-Language; Chinese by default).")
    def localized_reason(self) -> str:
        return reasons.localize(self.reason, current())

    @strawberry.field(description="The message in the request's language (Accept-Language; Chinese by default).")
    def localized_message(self) -> str:
        return reasons.localize_message(self.message, current())


# The typed errors of result unions: answered as data, each counted as a client error by its name
# (dianshu_graphql.observe).
TYPED_ERRORS = (ValidationError, PermissionDenied, IdempotencyConflict, NotFound, StateConflict)


def error_code(error: GraphQLError) -> str:
    """The extensions.code a client gets for a top-level error (ErrorCodes in schema.py sets it):
    its own, its kind's, INTERNAL_SERVER_ERROR when unexpected, GRAPHQL_VALIDATION_FAILED when the
    document was refused before running."""
    extensions = error.extensions or {}
    if "code" in extensions:
        return str(extensions["code"])
    original = error.original_error
    if original is None:
        return GRAPHQL_VALIDATION_FAILED
    if not isinstance(original, EXPECTED):
        return INTERNAL_SERVER_ERROR
    return code_of(original) or GRAPHQL_VALIDATION_FAILED


def invalid(record: str, field: str, reason: str, message: str | None = None) -> ValidationError:
    """A ValidationError of one field, for what the API itself refuses (an id that is not one, a
    key given twice) before any domain rule runs."""
    return ValidationError(
        message=message or f"{field}: {reason}", errors=[FieldError(record=record, field=field, reason=reason)]
    )


def refused(
    e: Refused,
    *,
    path: Callable[[str], str] = str,
    record: str | None = None,
    message: str | None = None,
) -> ValidationError | NotFound | StateConflict:
    """A domain's refusal (dianshu.errors.Refused) as its typed union member: one mapping for every
    resolver. An invalid input is a ValidationError with one FieldError per issue; what is not there
    (or not the caller's to see) is NotFound; what its state forbids is StateConflict. `path` turns
    the domain's field names into the client's argument paths (input.growthRate)."""
    rec = record or e.record
    if e.kind == "not_found":
        return NotFound(message=message or str(e), record=rec, field=path(e.field))
    if e.kind == "state":
        return StateConflict(message=message or str(e), record=rec, field=path(e.field), reason=e.reason)
    issues = [(path(f), r) for f, r in e.issues]
    return ValidationError(
        message=message or "; ".join(f"{f}: {r}" for f, r in issues),
        errors=[FieldError(record=rec, field=f, reason=r) for f, r in issues],
    )
