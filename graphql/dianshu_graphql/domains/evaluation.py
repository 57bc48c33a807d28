"""Evaluation runs and scores in GraphQL: run the evaluation (a job), publish a run, override a
hospital's score with a reason; read runs, a hospital's evaluation beside its peers' percentiles, and
a region's (or the city's) hospitals side by side. Row-level security decides whose figures a caller
gets: a hospital only its own, a region its hospitals, the city every region's."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated

import strawberry
from sqlalchemy import select, tuple_
from strawberry.types import Info

from dianshu.evaluation.run_models import EvaluationRun as RunRow
from dianshu.evaluation.runs import RUN, EvaluationRefused, publish_run
from dianshu.scope import Role
from dianshu.settlement.runs import regional
from dianshu.tenancy.models import Tenant
from dianshu_graphql import node, pagination
from dianshu_graphql.domains import grouping
from dianshu_graphql.domains.points import parse_id
from dianshu_graphql.domains.settlement import _regional_refused
from dianshu_graphql.errors import (
    ExpectedError,
    IdempotencyConflict,
    NotFound,
    PermissionDenied,
    StateConflict,
    ValidationError,
    invalid,
)
from dianshu_graphql.errors import refused as as_union
from dianshu_graphql.permissions import ANYONE, Allow
from dianshu_graphql.types.evaluation import (
    EvaluationJobPayload,
    EvaluationRun,
    EvaluationRunPayload,
    EvaluationRunStatus,
    HospitalEvaluation,
    RunKey,
    hospital_evaluations,
    results_page,
)
from dianshu_graphql.types.settlement import EvaluationScore, EvaluationScorePayload, job_payload

RunEvaluationResult = Annotated[
    EvaluationJobPayload | ValidationError | PermissionDenied | IdempotencyConflict,
    strawberry.union("RunEvaluationResult"),
]
PublishEvaluationRunResult = Annotated[
    EvaluationRunPayload | ValidationError | PermissionDenied | NotFound | StateConflict,
    strawberry.union("PublishEvaluationRunResult"),
]
OverrideEvaluationScoreResult = Annotated[
    EvaluationScorePayload | ValidationError | PermissionDenied, strawberry.union("OverrideEvaluationScoreResult")
]


@strawberry.input
class RunEvaluationInput:
    tenant: str = strawberry.field(
        description="A region (peers in the region), or the city (policy evaluationPeerScope city: every region's "
        "hospitals are peers; one run per region)."
    )
    year: int
    idempotency_key: str | None = None


@strawberry.input
class OverrideEvaluationScoreInput:
    tenant: str
    hospital: str
    year: int
    score: Decimal = strawberry.field(description="0 to 100, at most 2 places.")
    reason: str = strawberry.field(description="Why the score overrides the published evaluation (required).")


async def fetch_run(info: Info, tenant: str, run_id: uuid.UUID) -> EvaluationRun | None:
    async with info.context.session() as s:
        r = (
            await s.execute(select(RunRow).where(RunRow.tenant_id == tenant, RunRow.id == run_id))
        ).scalar_one_or_none()
    return EvaluationRun.of(r) if r else None


READ = Allow(*ANYONE)
node.register(EvaluationRun, node.code_part, node.uuid_part, fetch=fetch_run, allow=READ)


async def _published(info: Info, tenants: list[str], year: int) -> list[RunKey]:
    async with info.context.session() as s:
        rows = await s.execute(
            select(RunRow.tenant_id, RunRow.id).where(
                RunRow.tenant_id.in_(tenants), RunRow.year == year, RunRow.status == "published"
            )
        )
        return [(t, i) for t, i in rows]


@strawberry.type
class EvaluationQuery:
    @strawberry.field(
        description="Evaluation runs of a region (every version), by year and version.", extensions=[READ]
    )
    async def evaluation_runs(
        self,
        info: Info,
        tenant: str,
        year: int | None = None,
        status: EvaluationRunStatus | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[EvaluationRun]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.key_int, pagination.key_int)
        order = (RunRow.year, RunRow.version)
        q = select(RunRow).where(RunRow.tenant_id == tenant).order_by(*order).limit(limit + 1)
        if year is not None:
            q = q.where(RunRow.year == year)
        if status is not None:
            q = q.where(RunRow.status == status.value)
        if cursor:
            q = q.where(tuple_(*order) > tuple_(*cursor))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(rows, limit, lambda r: [r.year, r.version], EvaluationRun.of, after=after)

    @strawberry.field(description="One evaluation run.", extensions=[READ])
    async def evaluation_run(self, info: Info, tenant: str, id: strawberry.ID) -> EvaluationRun | None:
        return await fetch_run(info, tenant, parse_id(id, "id", "EvaluationRun"))

    @strawberry.field(
        description="A hospital's evaluation of a year: its indicator values and scores, dimension scores, total, "
        "rank band and the peers' percentiles; from the published run, or from `run` when given. Null when there "
        "is none or it is not yours to see (a hospital sees only its own).",
        extensions=[READ],
    )
    async def hospital_evaluation(
        self, info: Info, tenant: str, hospital: str, year: int, run: strawberry.ID | None = None
    ) -> HospitalEvaluation | None:
        if run is not None:
            keys = [(tenant, parse_id(run, "run", "EvaluationRun"))]
        else:
            keys = await _published(info, [tenant], year)
        found = [e for e in await hospital_evaluations(info, keys, hospital) if e.year == year]
        return found[0] if found else None

    @strawberry.field(
        description="The published evaluation of a year side by side: `tenant` a region (its hospitals) or the city "
        "(every region's). Row-level security: a hospital gets its own line only.",
        extensions=[READ],
    )
    async def evaluation_results(
        self, info: Info, tenant: str, year: int, first: int | None = 50, after: str | None = None
    ) -> pagination.Connection[HospitalEvaluation]:
        tenants = [tenant]
        async with info.context.session() as s:
            children = list((await s.execute(select(Tenant.code).where(Tenant.parent_code == tenant))).scalars())
        tenants += [t for t in children if info.context.scope.sees_tenant(t)]
        return await results_page(info, await _published(info, tenants, year), first, after)


@strawberry.type
class EvaluationMutation:
    @strawberry.mutation(
        description="Score every hospital of a region (or, on the city, of every region) for a year against its "
        "peers: a job writing draft evaluation runs.",
        extensions=[Allow(job=RUN)],
    )
    async def run_evaluation(self, info: Info, input: RunEvaluationInput) -> RunEvaluationResult:
        result = await grouping.submit(info, input.tenant, RUN, {"year": input.year}, input.idempotency_key)
        return job_payload(result, EvaluationJobPayload, root="input")

    @strawberry.mutation(
        description="Publish a draft evaluation run: it is then in force (frozen) and the run in force before is "
        "retired; publishing it again is a no-op.",
        extensions=[Allow(Role.city_admin, Role.region_admin)],
    )
    async def publish_evaluation_run(self, info: Info, tenant: str, id: strawberry.ID) -> PublishEvaluationRunResult:
        try:
            run_id = parse_id(id, "id", "EvaluationRun")
        except ExpectedError as e:
            return invalid(f"evaluation run {str(id)[:100]}", "id", "not an id", str(e))
        try:
            async with info.context.session() as s:
                run = await publish_run(s, info.context.scope, tenant, run_id)
                return EvaluationRunPayload(run=EvaluationRun.of(run))
        except EvaluationRefused as e:
            return as_union(e, path=lambda _: "id", message=str(e))

    @strawberry.mutation(
        description="Override a hospital's evaluation score for a year, with a reason: settlement then takes it "
        "instead of the published run's total (setting the same score and reason again changes nothing).",
        extensions=[Allow(Role.region_admin)],
    )
    async def override_evaluation_score(
        self, info: Info, input: OverrideEvaluationScoreInput
    ) -> OverrideEvaluationScoreResult:
        try:
            async with info.context.session() as s:
                row = await regional.override_evaluation_score(
                    s, info.context.scope, input.tenant, input.hospital, input.year, input.score, input.reason
                )
        except regional.RegionalRefused as e:
            return _regional_refused(e, "input")
        return EvaluationScorePayload(score=EvaluationScore.of(row))
