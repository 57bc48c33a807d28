"""Job kinds and their handlers. A handler is a domain function `async (JobContext) -> dict`
whose writes go through `ctx.session` (the job's transaction) and so commit with the job. A domain
module declares its kinds with `@job_kind`; the registry (registry.py) lists every such module."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.jobs.context import JobContext

Handler = Callable[[JobContext], Awaitable[dict[str, Any]]]
# Called when a job of the kind fails for good, in the transaction that marks it failed, with the
# job's tenant, parameters and error message: the domain records what the failure means for its
# own rows (a batch left pending for ever would look still under way).
FailureHook = Callable[[AsyncSession, str, dict[str, Any], str], Awaitable[None]]
# Checks a job's parameters when it is submitted (session under the submitter's scope, tenant,
# params), raising JobRejected; the handler may check again, but a client hears of its mistake now.
Check = Callable[[Any, str, dict[str, Any]], Awaitable[None]]
# A follow-up: a kind that declares `follows` (other kinds' names, or events: changes that are not
# jobs, such as a settlement run published, announced by service.follow_event) is submitted when a
# job of one of them succeeds (or the event happens), in that transaction, once per parameters
# `follow` returns from the finished job's (kind, parameters, result) or the event's (event,
# parameters, {}): the summaries that read a job's output follow it without the job's module
# importing theirs.
Follow = Callable[[str, dict[str, Any], dict[str, Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Handler
    # Who may submit it (role values); the API checks this, RLS checks the rows.
    roles: frozenset[str]
    on_failure: FailureHook | None = None
    check: Check | None = None
    follows: frozenset[str] = frozenset()
    follow: Follow | None = None


_KINDS: dict[str, JobKind] = {}


def job_kind(
    name: str,
    *,
    roles: set[str],
    on_failure: FailureHook | None = None,
    check: Check | None = None,
    follows: set[str] | None = None,
    follow: Follow | None = None,
) -> Callable[[Handler], Handler]:
    if bool(follows) != (follow is not None):
        raise ValueError(f"job kind {name}: follows and follow go together")

    def register(fn: Handler) -> Handler:
        if name in _KINDS and _KINDS[name].handler is not fn:
            raise RuntimeError(f"job kind {name} registered twice")
        _KINDS[name] = JobKind(name, fn, frozenset(roles), on_failure, check, frozenset(follows or ()), follow)
        return fn

    return register


def declared_kinds() -> dict[str, JobKind]:
    """The kinds declared so far (by the modules imported so far): registry.all_kinds imports them all."""
    return dict(_KINDS)
