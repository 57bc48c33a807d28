from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from sqlalchemy import select, tuple_
from strawberry.types import Info
from strawberry.utils.str_converters import to_camel_case

from dianshu.grouping.models import CaseGrouping, GroupingComparison
from dianshu.grouping.service import COMPARE, GROUP_CASES, case_input
from dianshu.jobs import service as jobs
from dianshu.jobs.errors import IdempotencyConflict as IdempotencyConflictErr
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.registry import get_kind
from dianshu.standards.models import DrgSchemeVersion
from dianshu.standards.service import StandardsError, grouper_for
from dianshu_graphql import pagination
from dianshu_graphql.errors import ExpectedError, FieldError, IdempotencyConflict, PermissionDenied, ValidationError
from dianshu_graphql.permissions import denied
from dianshu_graphql.types.jobs import Job, JobPayload
from dianshu_graphql.types.standards import Grouping

JobResult = Annotated[
    JobPayload | ValidationError | PermissionDenied | IdempotencyConflict, strawberry.union("GroupingJobResult")
]


@strawberry.input
class GroupCasesInput:
    tenant: str
    from_month: str = strawberry.field(description="YYYY-MM")
    to_month: str | None = strawberry.field(default=None, description="YYYY-MM (default: from)")
    versions: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Scheme versions (default: the city's payment standard's)"
    )
    idempotency_key: str | None = None


@strawberry.input
class CompareSchemesInput:
    tenant: str
    from_month: str
    to_month: str | None = None
    base: strawberry.ID = strawberry.field(description="The city's scheme version.")
    other: strawberry.ID = strawberry.field(description="The scheme version to compare with (e.g. CHS-DRG).")
    idempotency_key: str | None = None


@strawberry.type(description="How many cases of a hospital moved from one group to another.")
class Transition:
    hospital_code: str
    from_code: str
    to_code: str
    cases: int


@strawberry.type(description="A case's stored result under one scheme version.")
class CaseGroupingResult:
    version_id: strawberry.ID
    mdc: str | None
    adrg: str | None
    drg: str
    status: str
    mcc: list[str]
    cc: list[str]


async def submit_job(info: Info, tenant: str, kind: str, params: dict, key: str | None) -> JobResult:
    if (refused := denied(info, get_kind(kind).roles, tenant)) is not None:
        return refused
    ctx = info.context
    try:
        async with ctx.session() as s:
            job, created = await jobs.submit(s, ctx.db, ctx.scope, tenant, kind, params, idempotency_key=key)
    except IdempotencyConflictErr as e:
        return IdempotencyConflict(message=str(e), idempotency_key=e.key)
    except JobRejected as e:  # the job kind's parameter check, at submission
        field = to_camel_case(str(e.details.get("field") or "input"))
        return ValidationError(message=str(e), errors=[FieldError(record=kind, field=field, reason=str(e))])
    return JobPayload(job=Job.of(job), created=created)


@strawberry.type
class GroupingMutation:
    @strawberry.mutation(description="Group (or regroup) a tenant's cases for a period (a job).")
    async def group_cases(self, info: Info, input: GroupCasesInput) -> JobResult:
        params = {
            "from": input.from_month,
            "to": input.to_month or input.from_month,
            "versions": [str(v) for v in input.versions or []],
        }
        return await submit_job(info, input.tenant, GROUP_CASES, params, input.idempotency_key)

    @strawberry.mutation(description="Compare two schemes over a period: transitions by ADRG and DRG (a job).")
    async def compare_schemes(self, info: Info, input: CompareSchemesInput) -> JobResult:
        params = {
            "from": input.from_month,
            "to": input.to_month or input.from_month,
            "base": str(input.base),
            "other": str(input.other),
        }
        return await submit_job(info, input.tenant, COMPARE, params, input.idempotency_key)


@strawberry.type
class GroupingQuery:
    @strawberry.field(description="A case's stored grouping results (one per scheme version).")
    async def case_groupings(self, info: Info, tenant: str, case_id: int) -> list[CaseGroupingResult]:
        async with info.context.session() as s:
            rows = (
                await s.execute(
                    select(CaseGrouping).where(CaseGrouping.tenant_id == tenant, CaseGrouping.case_id == case_id)
                )
            ).scalars()
            return [
                CaseGroupingResult(
                    version_id=strawberry.ID(str(r.version_id)),
                    mdc=r.mdc,
                    adrg=r.adrg,
                    drg=r.drg,
                    status=r.status,
                    mcc=list(r.mcc),
                    cc=list(r.cc),
                )
                for r in rows
            ]

    @strawberry.field(description="Regroup a stored case under a version and explain every step.")
    async def case_trace(self, info: Info, tenant: str, case_id: int, version: strawberry.ID) -> Grouping | None:
        from dianshu.cases.models import CaseRecord

        try:
            vid = uuid.UUID(str(version))
        except ValueError as e:
            raise ExpectedError(f"version: {version!r} is not an id") from e
        async with info.context.session() as s:
            case = (
                await s.execute(select(CaseRecord).where(CaseRecord.tenant_id == tenant, CaseRecord.id == case_id))
            ).scalar_one_or_none()
            if case is None:
                return None
            v = await s.get(DrgSchemeVersion, vid)
            if v is None:
                raise ExpectedError(f"version: no scheme version {version}")
            try:
                grouper = await grouper_for(s, vid)
            except StandardsError as e:
                raise ExpectedError(f"version: {e}") from e
        return Grouping.of(grouper.group(case_input(case), trace=True), v.scheme_code, v.label)

    @strawberry.field(description="Transitions of a comparison job, largest first (level drg or adrg).")
    async def grouping_comparison(
        self,
        info: Info,
        job: strawberry.ID,
        level: str = "drg",
        hospital: str | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> pagination.Connection[Transition]:
        if level not in ("drg", "adrg"):
            raise ExpectedError("level: must be drg or adrg")
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.key_int, str, str, str)
        try:
            jid = uuid.UUID(str(job))
        except ValueError as e:
            raise ExpectedError(f"job: {job!r} is not a job id") from e
        G = GroupingComparison
        q = (
            select(G)
            .where(G.job_id == jid, G.level == level)
            .order_by(G.cases.desc(), G.hospital_id, G.from_code, G.to_code)
            .limit(limit + 1)
        )
        if hospital:
            q = q.where(G.hospital_id == hospital)
        if cursor:
            c, h, f, t = int(cursor[0]), cursor[1], cursor[2], cursor[3]
            q = q.where((G.cases < c) | ((G.cases == c) & (tuple_(G.hospital_id, G.from_code, G.to_code) > (h, f, t))))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(
            rows,
            limit,
            lambda r: [r.cases, r.hospital_id, r.from_code, r.to_code],
            lambda r: Transition(hospital_code=r.hospital_id, from_code=r.from_code, to_code=r.to_code, cases=r.cases),
        )
