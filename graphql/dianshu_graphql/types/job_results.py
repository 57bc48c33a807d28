"""A job's result and error as GraphQL types. The result's shape depends on the job's kind: each
domain registers the result type of its kinds here (in its own types module), and `Job.result` is
the union `JobResult` of them all, plus `OtherJobResult`, the typed fallback for a kind without its
own type (every figure by its path, as a string).

    job_results.register(GROUP_CASES, GroupCasesJobResult, GroupCasesJobResult.of)

Register at import time, before the schema is built (schema.py imports every domain module first).
"""

from __future__ import annotations

import decimal
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Union

import strawberry

from dianshu.reports import reasons
from dianshu_graphql.errors import FieldError
from dianshu_graphql.language import current

_RESULTS: dict[str, tuple[type, Callable[[dict[str, Any]], Any]]] = {}
_UNION: list[Any] = []


def register(kind: str, cls: type, convert: Callable[[dict[str, Any]], Any]) -> None:
    """Results of jobs of `kind` are `cls`, made by `convert(job.result)`."""
    if _UNION:
        raise RuntimeError(f"job result of {kind} registered after the schema was built")
    if kind in _RESULTS and _RESULTS[kind][0] is not cls:
        raise RuntimeError(f"job result of {kind} registered twice")
    _RESULTS[kind] = (cls, convert)


def registered() -> dict[str, type]:
    return {k: cls for k, (cls, _) in _RESULTS.items()}


@strawberry.type(description="One figure of a result: its path (e.g. ledgers.employee.total) and its value as text.")
class JobFigure:
    path: str
    value: str | None = strawberry.field(
        description="Numbers and decimals as written (decimal strings), null when null."
    )


def figures(value: Any, path: str = "") -> Iterator[JobFigure]:
    """Every leaf of a JSON value by its path (objects by key, arrays by [index])."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from figures(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from figures(v, f"{path}[{i}]")
    elif value is None:
        yield JobFigure(path=path, value=None)
    elif isinstance(value, bool):
        yield JobFigure(path=path, value="true" if value else "false")
    else:
        yield JobFigure(path=path, value=str(value))


@strawberry.type(
    description="The result of a job whose kind has no result type of its own yet: every figure by its path."
)
class OtherJobResult:
    figures: list[JobFigure]


def to_result(kind: str, result: dict[str, Any] | None) -> Any:
    if result is None:
        return None
    if (entry := _RESULTS.get(kind)) is not None:
        try:
            return entry[1](result)
        except (KeyError, TypeError, ValueError, decimal.InvalidOperation):
            pass  # a row written before its type had these fields: still typed, by path
    return OtherJobResult(figures=list(figures(result)))


def union() -> Any:
    """The JobResult union (built once, from what is registered when the schema is first built)."""
    if not _UNION:
        members = (*dict.fromkeys(cls for cls, _ in _RESULTS.values()), OtherJobResult)
        _UNION.append(
            Annotated[
                Union[members],  # noqa: UP007 (built from a tuple)
                strawberry.union("JobResult", description="A finished job's result, typed by the job's kind."),
            ]
        )
    return _UNION[0]


@strawberry.type(description="One refused path of a job's input (e.g. a scenario's cases[1].los_days).")
class JobIssue:
    path: str
    reason: str

    @strawberry.field(description="The reason in the request's language (Accept-Language; Chinese by default).")
    def localized_reason(self) -> str:
        return reasons.localize(self.reason, current())


KNOWN_ERROR_KEYS = frozenset({"message", "field", "errors", "issues", "issue_count"})


@strawberry.type(description="Why a job failed (or why it will retry).")
class JobError:
    message: str
    field: str | None = strawberry.field(description="The parameter at fault, when one is.")
    errors: list[FieldError] = strawberry.field(description="Refused records (e.g. a roster's rows), when listed.")
    issues: list[JobIssue] = strawberry.field(description="Refused paths of the input, when listed (the first ones).")
    issue_count: int | None = strawberry.field(description="How many issues there were in all.")
    details: list[JobFigure] = strawberry.field(description="Any other detail the job recorded, by path.")

    @strawberry.field(description="The message in the request's language (Accept-Language; Chinese by default).")
    def localized_message(self) -> str:
        return reasons.localize_message(self.message, current())

    @classmethod
    def of(cls, e: dict[str, Any] | None) -> JobError | None:
        if e is None:
            return None
        return cls(
            message=str(e.get("message", "")),
            field=str(e["field"]) if e.get("field") is not None else None,
            errors=[
                FieldError(
                    record=str(x.get("record", "")), field=str(x.get("field", "")), reason=str(x.get("reason", ""))
                )
                for x in e.get("errors") or []
                if isinstance(x, dict)
            ],
            issues=[
                JobIssue(path=str(x.get("path", "")), reason=str(x.get("reason", "")))
                for x in e.get("issues") or []
                if isinstance(x, dict)
            ],
            issue_count=e["issue_count"] if isinstance(e.get("issue_count"), int) else None,
            details=list(figures({k: v for k, v in e.items() if k not in KNOWN_ERROR_KEYS})),
        )
