"""Supervision (智能监管) in GraphQL: the rule catalogue, findings (a hospital user sees its own), a
supervision run (a job), and the bureau's decisions on findings."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import strawberry
from sqlalchemy import Numeric, case, cast, func, literal, or_, select, tuple_
from strawberry.types import Info

from dianshu.scope import Role
from dianshu.supervision import service
from dianshu.supervision.catalogue import RULES
from dianshu.supervision.models import SupervisionFinding as FindingRow
from dianshu.supervision.run import SUPERVISION_RUN
from dianshu.tenancy.models import Tenant
from dianshu_graphql import node, pagination
from dianshu_graphql.domains import grouping
from dianshu_graphql.errors import (
    IdempotencyConflict,
    InvalidId,
    NotFound,
    PermissionDenied,
    StateConflict,
    ValidationError,
    invalid,
)
from dianshu_graphql.errors import refused as as_union
from dianshu_graphql.permissions import ANYONE, Allow
from dianshu_graphql.types.settlement import job_payload
from dianshu_graphql.types.supervision import (
    ConfirmFindingInput,
    DecideFindingInput,
    FindingPayload,
    FindingState,
    SupervisionFinding,
    SupervisionJobPayload,
    SupervisionRule,
)

RunSupervisionResult = Annotated[
    SupervisionJobPayload | ValidationError | PermissionDenied | IdempotencyConflict,
    strawberry.union("RunSupervisionResult"),
]
FindingResult = Annotated[
    FindingPayload | ValidationError | PermissionDenied | NotFound | StateConflict, strawberry.union("FindingResult")
]
# The bureau decides: the region's (and the city's) administrators.
DECIDERS = (Role.region_admin, Role.city_admin)
READ_FINDINGS = Allow(*ANYONE)
INPUT_FIELDS = {
    "id": "input.finding",
    "reason": "input.reason",
    "state": "input.finding",
    "serious": "input.serious",
    "cases": "input.cases",
}


async def fetch_finding(info: Info, tenant: str, finding_id: uuid.UUID) -> SupervisionFinding | None:
    F = FindingRow
    async with info.context.session() as s:
        f = (await s.execute(select(F).where(F.tenant_id == tenant, F.id == finding_id))).scalar_one_or_none()
    return SupervisionFinding.of(f) if f else None


node.register(SupervisionFinding, node.code_part, node.uuid_part, fetch=fetch_finding, allow=READ_FINDINGS)


def _finding_id(value: strawberry.ID) -> uuid.UUID | ValidationError:
    try:
        return node.key_of(value, "SupervisionFinding", field="input.finding", raw=node.uuid_part, what="an id")[-1]
    except InvalidId as e:
        return invalid(f"finding {str(value)[:100]}", "input.finding", "not an id", str(e))


def _batch_id(value: strawberry.ID) -> str:
    """An ingestion batch (its id or databaseId) as the job's parameter; anything else is passed on
    for the job kind's check to refuse by field."""
    try:
        return str(node.key_of(value, "IngestionBatch", field="batch", raw=node.uuid_part)[-1])
    except InvalidId:
        return str(value)


def key_decimal(value: Any) -> Decimal:
    d = Decimal(str(value))
    if d.is_nan():
        raise InvalidOperation("not a number")
    return d


# The audit queue's order: priority (the anomaly score) highest first, unset last; then severity
# (high first), then the oldest detected; the id breaks ties. As one ascending key for the cursor.
ORDER_PRIORITY = func.coalesce(-FindingRow.priority, cast(literal("Infinity"), Numeric))
ORDER_SEVERITY = case((FindingRow.severity == "high", 0), (FindingRow.severity == "medium", 1), else_=2)


async def _decide(
    info: Info, tenant: str, value: strawberry.ID, state: str, reason: str, serious: bool, cases: list[str] | None
) -> Any:
    fid = _finding_id(value)
    if isinstance(fid, ValidationError):
        return fid
    try:
        async with info.context.session() as s:
            f = await service.decide(s, info.context.scope, fid, state, reason, serious, tenant=tenant, cases=cases)
            return FindingPayload(finding=SupervisionFinding.of(f))
    except service.FindingRefused as e:
        return as_union(e, path=lambda f: INPUT_FIELDS.get(f, f), message=str(e))


@strawberry.type
class SupervisionQuery:
    @strawberry.field(
        description="The supervision rule catalogue (智能监管规则), in order.", extensions=[Allow(*ANYONE)]
    )
    def supervision_rules(self) -> list[SupervisionRule]:
        return [SupervisionRule.of(r) for r in RULES]

    @strawberry.field(
        description="Findings of a region (or of every region of a city), the audit queue's order: priority "
        "(the anomaly score) highest first and unset last, then severity, then the oldest. A hospital user "
        "sees its own hospital's.",
        extensions=[READ_FINDINGS],
    )
    async def findings(
        self,
        info: Info,
        tenant: str,
        year: int | None = None,
        rule: str | None = None,
        state: FindingState | None = None,
        hospital: str | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[SupervisionFinding]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, key_decimal, pagination.key_int, pagination.iso_datetime, uuid.UUID)
        F = FindingRow
        regions = select(Tenant.code).where(or_(Tenant.code == tenant, Tenant.parent_code == tenant))
        q = (
            select(F, ORDER_PRIORITY.label("k_priority"), ORDER_SEVERITY.label("k_severity"))
            .where(F.tenant_id.in_(regions))
            .order_by(ORDER_PRIORITY, ORDER_SEVERITY, F.detected_at, F.id)
            .limit(limit + 1)
        )
        if year is not None:
            q = q.where(F.year == year)
        if rule:
            q = q.where(F.rule == rule)
        if state is not None:
            q = q.where(F.state == state.value)
        if hospital:
            q = q.where(F.hospital_id == hospital)
        if cursor:
            q = q.where(
                tuple_(ORDER_PRIORITY, ORDER_SEVERITY, F.detected_at, F.id)
                > tuple_(literal(cursor[0], Numeric), cursor[1], cursor[2], cursor[3])
            )
        async with info.context.session() as s:
            rows = list((await s.execute(q)).all())
        return pagination.build(
            rows,
            limit,
            lambda r: [
                str(r.k_priority),
                r.k_severity,
                r.SupervisionFinding.detected_at.isoformat(),
                str(r.SupervisionFinding.id),
            ],
            lambda r: SupervisionFinding.of(r.SupervisionFinding),
            after=after,
        )


@strawberry.type
class SupervisionMutation:
    @strawberry.mutation(
        description="Run every supervision rule over a region's year (a city: all its regions, peers city-wide), "
        "or only the case-level rules' cases of some discharge months, or of the months an ingestion batch "
        "touched (`batch`: the incremental run after an ingestion or a correction); "
        "a job. Re-running finds the same findings, never twice.",
        extensions=[Allow(job=SUPERVISION_RUN)],
    )
    async def run_supervision(
        self,
        info: Info,
        tenant: str,
        year: int,
        months: list[int] | None = None,
        batch: strawberry.ID | None = None,
        version: strawberry.ID | None = None,
        idempotency_key: str | None = None,
    ) -> RunSupervisionResult:
        params: dict[str, Any] = {"year": year}
        if months is not None:
            params["months"] = months
        if batch is not None:
            params["batch"] = _batch_id(batch)
        if version is not None:
            params["version"] = grouping.version_id(version, "version")
        result = await grouping.submit(info, tenant, SUPERVISION_RUN, params, idempotency_key)
        return job_payload(result, SupervisionJobPayload)

    @strawberry.mutation(
        description="Confirm a finding (the bureau): its cases' points are withdrawn in the next points run and, "
        "serious, multiple × b deducted (SPEC section 5). A hospital-level upcoding signal: the cases named in "
        "`cases` (among its evidence cases) are the violations. The same decision again changes nothing.",
        extensions=[Allow(*DECIDERS)],
    )
    async def confirm_finding(self, info: Info, input: ConfirmFindingInput) -> FindingResult:
        return await _decide(info, input.tenant, input.finding, "confirmed", input.reason, input.serious, input.cases)

    @strawberry.mutation(
        description="Dismiss a finding (the bureau), saying why. The same decision again changes nothing.",
        extensions=[Allow(*DECIDERS)],
    )
    async def dismiss_finding(self, info: Info, input: DecideFindingInput) -> FindingResult:
        return await _decide(info, input.tenant, input.finding, "dismissed", input.reason, False, None)
