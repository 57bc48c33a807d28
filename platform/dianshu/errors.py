"""Refused input: the one error a domain rule raises when it refuses what a caller sent, named the way
the API shows it: which record ("upload", "run <id>", "budget 2025/employee", "case H1/L7"), which
field, and why. Each domain's refusal (IngestRefused, RunRefused, ReviewRefused, ...) is a subclass,
so the API maps this one class to its typed errors by `kind`: an invalid input to a validation error
with one FieldError per (field, reason) in `issues`, all of `record`; what is not there to not-found;
what its state forbids to a state conflict."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

# What kind of refusal: the input itself is wrong; what it names is not there (or not the caller's
# to see); or it is there but its state does not allow this now (a settled month, a published run).
RefusalKind = Literal["invalid", "not_found", "state"]


class Refused(ValueError):
    """A refused input. `field` and `reason` are the first issue; `issues` holds every (field, reason)
    refused in `record`. The message is "field: reason" for each issue, unless given."""

    def __init__(
        self,
        record: str,
        field: str,
        reason: str,
        *,
        more: Sequence[tuple[str, str]] = (),
        message: str | None = None,
        kind: RefusalKind = "invalid",
    ) -> None:
        self.record, self.field, self.reason, self.kind = record, field, reason, kind
        self.issues = [(field, reason), *more]
        super().__init__("; ".join(f"{f}: {r}" for f, r in self.issues) if message is None else message)
