"""Supervision signals and the anomaly ranking in GraphQL: a tenant's hospital signals of a year (its
latest signals run), the audit queue they make, case and hospital anomaly scores (its latest anomaly
run), and running either (jobs; the bureau runs them, city or region admins). Every read is under
row-level security: a hospital user sees its own hospital's rows only."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from dianshu.supervision.anomaly import service as anomaly
from dianshu.supervision.signals import service as signals
from dianshu_graphql import pagination
from dianshu_graphql.domains import grouping
from dianshu_graphql.errors import IdempotencyConflict, PermissionDenied, ValidationError
from dianshu_graphql.permissions import ANYONE, Allow
from dianshu_graphql.types.settlement import job_payload
from dianshu_graphql.types.signals import (
    AnomalyJobPayload,
    CaseAnomaly,
    HospitalAnomaly,
    HospitalSignal,
    SignalsJobPayload,
)

RunSignalsResult = Annotated[
    SignalsJobPayload | ValidationError | PermissionDenied | IdempotencyConflict, strawberry.union("RunSignalsResult")
]
RunAnomalyResult = Annotated[
    AnomalyJobPayload | ValidationError | PermissionDenied | IdempotencyConflict, strawberry.union("RunAnomalyResult")
]


def key_decimal(value: Any) -> Decimal:
    d = Decimal(str(value))
    if not d.is_finite():
        raise InvalidOperation("not a finite decimal")
    return d


def _empty() -> pagination.Connection[Any]:
    return pagination.build([], 1, lambda r: [], lambda r: r)


@strawberry.type
class SignalsQuery:
    @strawberry.field(
        description="Hospital signals (PEPPER-style) of a tenant's year from its latest signals run, by hospital and "
        "area; a hospital sees its own.",
        extensions=[Allow(*ANYONE)],
    )
    async def hospital_signals(
        self,
        info: Info,
        tenant: str,
        year: int,
        hospital: str | None = None,
        flagged_only: bool = False,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[HospitalSignal]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, str, str)
        async with info.context.session() as s:
            run = await signals.latest_run(s, tenant, year)
            if run is None:
                return _empty()
            rows = await signals.signals(
                s,
                run,
                hospital=hospital,
                flagged_only=flagged_only,
                after=(cursor[0], cursor[1]) if cursor else None,
                limit=limit + 1,
            )
        return pagination.build(
            rows,
            limit,
            lambda x: [x.row.hospital_id, x.row.area],
            lambda x: HospitalSignal.of_signal(x, run.peers),
            after=after,
        )

    @strawberry.field(
        description="The audit queue of a tenant's year: flagged signals by priority (|percentile − 50| / 50 × cases), "
        "highest first; a hospital sees its own.",
        extensions=[Allow(*ANYONE)],
    )
    async def signal_queue(
        self, info: Info, tenant: str, year: int, first: int | None = 50, after: str | None = None
    ) -> pagination.Connection[HospitalSignal]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, key_decimal, str, str)
        async with info.context.session() as s:
            run = await signals.latest_run(s, tenant, year)
            if run is None:
                return _empty()
            rows = await signals.queue(s, run, after=tuple(cursor) if cursor else None, limit=limit + 1)  # type: ignore[arg-type]
        return pagination.build(
            rows,
            limit,
            lambda x: [str(x.row.priority), x.row.hospital_id, x.row.area],
            lambda x: HospitalSignal.of_signal(x, run.peers),
            after=after,
        )

    @strawberry.field(
        description="Case anomaly scores of a tenant's year from its latest anomaly run, the most unusual first; a "
        "hospital sees its own.",
        extensions=[Allow(*ANYONE)],
    )
    async def case_anomalies(
        self,
        info: Info,
        tenant: str,
        year: int,
        hospital: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[CaseAnomaly]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.key_int)
        async with info.context.session() as s:
            run = await anomaly.latest_run(s, tenant, year)
            if run is None:
                return _empty()
            rows = await anomaly.case_anomalies(
                s, run, hospital=hospital, after_rank=cursor[0] if cursor else None, limit=limit + 1
            )
        return pagination.build(rows, limit, lambda r: [r.rank], CaseAnomaly.of, after=after)

    @strawberry.field(
        description="Hospital anomaly scores of a tenant's year from its latest anomaly run, by rank; a hospital sees "
        "its own.",
        extensions=[Allow(*ANYONE)],
    )
    async def hospital_anomalies(
        self, info: Info, tenant: str, year: int, first: int | None = 50, after: str | None = None
    ) -> pagination.Connection[HospitalAnomaly]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.key_int)
        async with info.context.session() as s:
            run = await anomaly.latest_run(s, tenant, year)
            if run is None:
                return _empty()
            rows = await anomaly.hospital_anomalies(s, run, after_rank=cursor[0] if cursor else None, limit=limit + 1)
        return pagination.build(rows, limit, lambda r: [r.rank], HospitalAnomaly.of, after=after)


@strawberry.type
class SignalsMutation:
    @strawberry.mutation(
        description="Compute the hospital signals of a year and the years before it (a job): of a region (peers in "
        "the region) or of a city (peers city-wide).",
        extensions=[Allow(job=signals.SIGNALS)],
    )
    async def run_signals(
        self, info: Info, tenant: str, year: int, idempotency_key: str | None = None
    ) -> RunSignalsResult:
        result = await grouping.submit(info, tenant, signals.SIGNALS, {"year": year}, idempotency_key)
        return job_payload(result, SignalsJobPayload)

    @strawberry.mutation(
        description="Fit the anomaly model on a year's cases and score them (a job): of a region, or of a city.",
        extensions=[Allow(job=anomaly.ANOMALY)],
    )
    async def run_anomaly(
        self, info: Info, tenant: str, year: int, idempotency_key: str | None = None
    ) -> RunAnomalyResult:
        result = await grouping.submit(info, tenant, anomaly.ANOMALY, {"year": year}, idempotency_key)
        return job_payload(result, AnomalyJobPayload)
