from __future__ import annotations

from typing import Any


class JobRejected(Exception):
    """A permanent failure (bad input, a rule refused): the job fails at once, without retries."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class IdempotencyConflict(Exception):
    """The same idempotency key was used before with other content."""

    def __init__(self, kind: str, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used for a {kind} job with different parameters")
        self.kind = kind
        self.key = key


class JobBusy(Exception):
    """Another worker holds this job right now; the message is retried later."""
