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
from dianshu.standards.models import DrgSchemeVersion
from dianshu.standards.service import StandardsError, grouper_for
from dianshu_graphql import node, pagination
from dianshu_graphql.errors import (
    ExpectedError,
    FieldError,
    IdempotencyConflict,
    InvalidId,
    PermissionDenied,
    ValidationError,
)
from dianshu_graphql.permissions import Allow
from dianshu_graphql.types.grouping import CaseGroupingResult, ComparisonLevel, Transition
from dianshu_graphql.types.jobs import Job, JobPayload
from dianshu_graphql.types.standards import Grouping

JobSubmissionResult = Annotated[
    JobPayload | ValidationError | PermissionDenied | IdempotencyConflict,
    strawberry.union("JobSubmissionResult", description="A job was submitted, or why not."),
]


@strawberry.input
class GroupCasesInput:
    tenant: str
    from_month: str = strawberry.field(description="YYYY-MM")
    to_month: str | None = strawberry.field(default=None, description="YYYY-MM (default: from)")
    versions: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Scheme versions (ids or databaseIds; default: the city's payment standard's)"
    )
    idempotency_key: str | None = None


@strawberry.input
class CompareSchemesInput:
    tenant: str
    from_month: str
    to_month: str | None = None
    base: strawberry.ID = strawberry.field(description="The city's scheme version (id or databaseId).")
    other: strawberry.ID = strawberry.field(description="The scheme version to compare with (e.g. CHS-DRG).")
    idempotency_key: str | None = None


def version_id(value: strawberry.ID, field: str) -> str:
    """A scheme version argument (its global id or its databaseId) as the job's parameter; anything
    else is passed on as sent, for the job kind's check to refuse by field."""
    try:
        (vid,) = node.key_of(value, "StandardVersion", field=field, raw=node.uuid_part)
    except InvalidId:
        return str(value)
    return str(vid)


async def submit(info: Info, tenant: str, kind: str, params: dict, key: str | None) -> JobSubmissionResult:
    """Submit a job for a field that declares `Allow(job=kind)` (the permission is checked there)."""
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
    @strawberry.mutation(
        description="Group (or regroup) a tenant's cases for a period (a job).", extensions=[Allow(job=GROUP_CASES)]
    )
    async def group_cases(self, info: Info, input: GroupCasesInput) -> JobSubmissionResult:
        params = {
            "from": input.from_month,
            "to": input.to_month or input.from_month,
            "versions": [version_id(v, f"input.versions[{i}]") for i, v in enumerate(input.versions or [])],
        }
        return await submit(info, input.tenant, GROUP_CASES, params, input.idempotency_key)

    @strawberry.mutation(
        description="Compare two schemes over a period: transitions by ADRG and DRG (a job).",
        extensions=[Allow(job=COMPARE)],
    )
    async def compare_schemes(self, info: Info, input: CompareSchemesInput) -> JobSubmissionResult:
        params = {
            "from": input.from_month,
            "to": input.to_month or input.from_month,
            "base": version_id(input.base, "input.base"),
            "other": version_id(input.other, "input.other"),
        }
        return await submit(info, input.tenant, COMPARE, params, input.idempotency_key)


async def fetch_case_grouping(info: Info, tenant: str, case_id: int, version: uuid.UUID) -> CaseGroupingResult | None:
    """One stored result, as `caseGroupings` shows it (row-level security)."""
    async with info.context.session() as s:
        row = (
            await s.execute(
                select(CaseGrouping).where(
                    CaseGrouping.tenant_id == tenant,
                    CaseGrouping.case_id == case_id,
                    CaseGrouping.version_id == version,
                )
            )
        ).scalar_one_or_none()
    return CaseGroupingResult.of(row) if row else None


node.register(CaseGroupingResult, node.code_part, node.int_part, node.uuid_part, fetch=fetch_case_grouping)

# One id for a case everywhere: the Case's global id (Case.id). The Int caseId (with tenant) came first
# and stays, deprecated.
CASE_ARG = Annotated[strawberry.ID | None, strawberry.argument(description="The case: its id (Case.id).")]
CASE_ID_ARG = Annotated[
    int | None,
    strawberry.argument(
        description="The case's databaseId, with tenant.", deprecation_reason="Use case (the Case's id)."
    ),
]


def case_key(case: strawberry.ID | None, tenant: str | None, case_id: int | None) -> tuple[str, int]:
    """The (tenant, case id) a field's arguments name: `case` (a Case id), or tenant and caseId."""
    if case is not None:
        key_tenant, key_id = node.key_of(case, "Case", field="case")
        if (tenant is not None and tenant != key_tenant) or (case_id is not None and case_id != key_id):
            raise ExpectedError("case: names another case than tenant and caseId (give case alone)", "case")
        return key_tenant, key_id
    if tenant is None or case_id is None:
        raise ExpectedError("case: required (the Case's id), or else both tenant and caseId", "case")
    return tenant, case_id


@strawberry.type
class GroupingQuery:
    @strawberry.field(
        description="A case's stored grouping results (one per scheme version): name the case by its id "
        "(case: Case.id), or, deprecated, by tenant and caseId."
    )
    async def case_groupings(
        self,
        info: Info,
        tenant: str | None = None,
        case_id: CASE_ID_ARG = None,
        first: int | None = 50,
        after: str | None = None,
        case: CASE_ARG = None,
    ) -> pagination.Connection[CaseGroupingResult]:
        tenant, case_id = case_key(case, tenant, case_id)
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, uuid.UUID)
        q = (
            select(CaseGrouping)
            .where(CaseGrouping.tenant_id == tenant, CaseGrouping.case_id == case_id)
            .order_by(CaseGrouping.version_id)
            .limit(limit + 1)
        )
        if cursor:
            q = q.where(CaseGrouping.version_id > cursor[0])
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(rows, limit, lambda r: [str(r.version_id)], CaseGroupingResult.of, after=after)

    @strawberry.field(
        description="Regroup a stored case under a version and explain every step (the case: case, its Case.id; "
        "or, deprecated, tenant and caseId)."
    )
    async def case_trace(
        self,
        info: Info,
        version: strawberry.ID,
        tenant: str | None = None,
        case_id: CASE_ID_ARG = None,
        case: CASE_ARG = None,
    ) -> Grouping | None:
        from dianshu.cases.models import CaseRecord

        tenant, case_id = case_key(case, tenant, case_id)
        (vid,) = node.key_of(version, "StandardVersion", field="version", raw=node.uuid_part, what="an id")
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

    @strawberry.field(description="Transitions of a comparison job, largest first (by DRG or by ADRG).")
    async def grouping_comparison(
        self,
        info: Info,
        job: strawberry.ID,
        level: ComparisonLevel = ComparisonLevel.drg,
        hospital: str | None = None,
        first: int | None = 100,
        after: str | None = None,
    ) -> pagination.Connection[Transition]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, pagination.key_int, str, str, str)
        (jid,) = node.key_of(job, "Job", field="job", raw=node.uuid_part, what="a job id")
        G = GroupingComparison
        q = (
            select(G)
            .where(G.job_id == jid, G.level == level.value)
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
            after=after,
        )
