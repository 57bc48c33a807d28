"""Settlement runs in GraphQL: monthly pre-settlements and annual clearings (a job), publishing,
lines, statements, the city's overview, and what a region enters for its settlement besides
budgets (alliances, evaluation scores, audit deductions, confirmed violations). Budgets, points,
policies and simulations have their own modules beside this one."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from sqlalchemy import select, tuple_
from strawberry.types import Info

from dianshu.scope import Role
from dianshu.settlement.models import SettlementRun as SettlementRunRow
from dianshu.settlement.runs import regional
from dianshu.settlement.runs.figures import city_overview, statement_data
from dianshu.settlement.runs.publish import RunRefused, publish_run
from dianshu.settlement.runs.settle import SETTLE
from dianshu_graphql import node, pagination
from dianshu_graphql.domains import grouping
from dianshu_graphql.domains.points import parse_id, sees_every_hospital
from dianshu_graphql.errors import (
    ExpectedError,
    IdempotencyConflict,
    InvalidId,
    NotFound,
    PermissionDenied,
    StateConflict,
    ValidationError,
    invalid,
)
from dianshu_graphql.errors import refused as as_union
from dianshu_graphql.permissions import ANYONE, BUREAU, Allow
from dianshu_graphql.types.policies import Ledger
from dianshu_graphql.types.settlement import (
    Alliance,
    AlliancePayload,
    AuditDeduction,
    AuditDeductionPayload,
    CaseViolation,
    EvaluationScore,
    EvaluationScorePayload,
    RegionClearing,
    RunPayload,
    RunStatus,
    SettlementFigures,
    SettlementJobPayload,
    SettlementKind,
    SettlementLine,
    SettlementRun,
    Statement,
    StatementMonth,
    ViolationKind,
    ViolationPayload,
    duplicates,
    graphql_path,
    job_payload,
    listed_field,
)
from dianshu_graphql.types.simulation import AllianceShareInput

RunSettlementResult = Annotated[
    SettlementJobPayload | ValidationError | PermissionDenied | IdempotencyConflict,
    strawberry.union("RunSettlementResult"),
]
PublishRunResult = Annotated[
    RunPayload | ValidationError | PermissionDenied | NotFound | StateConflict, strawberry.union("PublishRunResult")
]
SetAllianceResult = Annotated[
    AlliancePayload | ValidationError | PermissionDenied, strawberry.union("SetAllianceResult")
]
SetEvaluationScoreResult = Annotated[
    EvaluationScorePayload | ValidationError | PermissionDenied, strawberry.union("SetEvaluationScoreResult")
]
RecordAuditDeductionResult = Annotated[
    AuditDeductionPayload | ValidationError | PermissionDenied, strawberry.union("RecordAuditDeductionResult")
]
ConfirmViolationResult = Annotated[
    ViolationPayload | ValidationError | PermissionDenied, strawberry.union("ConfirmViolationResult")
]


@strawberry.input
class RunSettlementInput:
    tenant: str
    kind: SettlementKind = strawberry.field(description="monthly (year to date through month) or annual.")
    year: int
    month: int = strawberry.field(default=12, description="The month settled through (monthly).")
    points_run: strawberry.ID | None = strawberry.field(
        default=None,
        description="Settle an existing points run of the same period (its id or databaseId); empty computes fresh "
        "points.",
    )
    idempotency_key: str | None = None


@strawberry.input
class SetAllianceInput:
    tenant: str
    id: str = strawberry.field(description="The alliance's id (1 to 20 characters).")
    name: str
    lead: str = strawberry.field(description="The lead hospital (牵头医院), a member.")
    shares: list[AllianceShareInput] = strawberry.field(
        description="At least two member hospitals of the region, each once, shares summing to exactly 1."
    )
    settle_as_one: bool = True


@strawberry.input
class AuditDeductionInput:
    tenant: str
    hospital: str
    year: int
    month: int
    ledger: Ledger = Ledger.employee
    amount: Decimal = strawberry.field(description="A positive amount in yuan, to the fen.")
    reference: str = strawberry.field(description="The audit's own number: recording it again is a no-op.")
    reason: str


@strawberry.input
class ConfirmViolationInput:
    tenant: str
    hospital: str
    list_id: str
    kind: ViolationKind
    serious: bool = strawberry.field(default=False, description="Serious: the case's points are also deducted.")
    reason: str


def _regional_refused(
    e: regional.RegionalRefused, root: str | None, shares: list[str] | None = None
) -> ValidationError:
    """regional.py's typed refusal: its record, and its field as the client's argument path."""
    field = e.field
    if shares is not None:
        field = listed_field(field, "shares", shares, e.reason, "share", "hospital")
    path = graphql_path(field, root)
    return as_union(e, path=lambda _: path, message=f"{e.record}.{path}: {e.reason}")  # type: ignore[return-value]


async def _regional(info: Info, tenant: str, fn: Any, *args: Any) -> Any:
    """A region admin's settlement input (regional.py), in one transaction; the row it wrote."""
    async with info.context.session() as s:
        return await fn(s, info.context.scope, tenant, *args)


async def fetch_run(info: Info, tenant: str, run_id: uuid.UUID) -> SettlementRun | None:
    """One settlement run, as `settlementRun` shows it (row-level security; its inputs and the
    alliances' figures to callers who see every hospital)."""
    R = SettlementRunRow
    async with info.context.session() as s:
        r = (await s.execute(select(R).where(R.tenant_id == tenant, R.id == run_id))).scalar_one_or_none()
    return SettlementRun.of(r, sees_every_hospital(info)) if r else None


# Who may read a run (any role, in its own tenants): settlementRun's declaration and node(id:)'s.
READ_RUN = Allow(*ANYONE)
node.register(SettlementRun, node.code_part, node.uuid_part, fetch=fetch_run, allow=READ_RUN)


def points_run_param(value: strawberry.ID) -> str:
    """RunSettlementInput.pointsRun (a global id or a databaseId) as the job's parameter; anything
    else is passed on as sent, for the job kind's check to refuse by field."""
    try:
        return str(parse_id(value, "input.pointsRun", "PointsRun"))
    except InvalidId:
        return str(value)


@strawberry.type
class SettlementQuery:
    @strawberry.field(
        description="Settlement runs of a region and year (monthly and annual, every version).",
        extensions=[Allow(*ANYONE)],
    )
    async def settlement_runs(
        self,
        info: Info,
        tenant: str,
        year: int,
        kind: SettlementKind | None = None,
        ledger: Ledger | None = None,
        status: RunStatus | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[SettlementRun]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, str, pagination.key_int, str, pagination.key_int)
        R = SettlementRunRow
        order = (R.kind, R.month, R.ledger, R.version)
        q = select(R).where(R.tenant_id == tenant, R.year == year).order_by(*order).limit(limit + 1)
        if kind is not None:
            q = q.where(R.kind == kind.value)
        if ledger is not None:
            q = q.where(R.ledger == ledger.value)
        if status is not None:
            q = q.where(R.status == status.value)
        if cursor:
            q = q.where(tuple_(*order) > tuple_(*cursor))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        whole = sees_every_hospital(info)
        return pagination.build(
            rows,
            limit,
            lambda r: [r.kind, r.month, r.ledger, r.version],
            lambda r: SettlementRun.of(r, whole),
            after=after,
        )

    @strawberry.field(description="One settlement run.", extensions=[READ_RUN])
    async def settlement_run(self, info: Info, tenant: str, id: strawberry.ID) -> SettlementRun | None:
        return await fetch_run(info, tenant, parse_id(id, "id", "SettlementRun"))

    @strawberry.field(
        description="A hospital's statement for a run (also as /statements/{tenant}/{run}/{hospital}.csv|.html); "
        "null when the run or the hospital's line is not visible to you.",
        extensions=[Allow(*ANYONE)],
    )
    async def statement(self, info: Info, tenant: str, run: strawberry.ID, hospital: str) -> Statement | None:
        run_id = parse_id(run, "run", "SettlementRun")
        R = SettlementRunRow
        async with info.context.session() as s:
            data = await statement_data(s, tenant, run_id, hospital)
            if data is None:
                return None
            row = (await s.execute(select(R).where(R.tenant_id == tenant, R.id == run_id))).scalar_one()
        line = data["line"]
        return Statement(
            tenant=data["tenant"],
            hospital=data["hospital"],
            hospital_name=data["hospital_name"],
            alliance=data["alliance"],
            run=SettlementRun.of(row, sees_every_hospital(info)),
            line=SettlementLine(
                hospital=data["hospital"],
                alliance=data["alliance"],
                **{k: (None if v is None else Decimal(v)) for k, v in line.items() if k != "cases"},
                cases=int(line["cases"]),
            ),
            months=[
                StatementMonth(
                    month=m["month"],
                    cases=int(m["cases"]),
                    points=Decimal(m["points"]),
                    self_pay=Decimal(m["self_pay"]),
                    payment=Decimal(m["payment"]),
                )
                for m in data["months"]
            ],
        )

    @strawberry.field(
        description="Every region's clearing of a year side by side (published, else the newest draft), by region "
        "and ledger; also as /reports/{city}/settlement/{year}.html|.csv with a chart. `tenant`: the city.",
        # `tenant` is the city, not a scope check: a region's callers get their own region's rows
        # (row-level security), as /reports/{city}/... gives them.
        extensions=[Allow(*BUREAU, tenant=False)],
    )
    async def settlement_overview(self, info: Info, tenant: str, year: int) -> list[RegionClearing]:
        async with info.context.session() as s:
            rows = await city_overview(s, tenant, year)
        return [
            RegionClearing(
                region=r["region"],
                name=r["name"],
                ledger=Ledger(r["ledger"]),
                run=strawberry.ID(r["run"]),
                version=r["version"],
                status=RunStatus(r["status"]),
                figures=SettlementFigures.of(r, alliances=False),
            )
            for r in rows
        ]


@strawberry.type
class SettlementMutation:
    @strawberry.mutation(
        description="Run a monthly pre-settlement or the annual clearing (a job; draft runs).",
        extensions=[Allow(job=SETTLE)],
    )
    async def run_settlement(self, info: Info, input: RunSettlementInput) -> RunSettlementResult:
        params: dict[str, Any] = {"kind": input.kind.value, "year": input.year, "month": input.month}
        if input.points_run:
            params["points_run"] = points_run_param(input.points_run)
        result = await grouping.submit(info, input.tenant, SETTLE, params, input.idempotency_key)
        return job_payload(result, SettlementJobPayload, root="input")

    @strawberry.mutation(
        description="Publish a draft run: it is frozen from then on (publishing again is a no-op).",
        extensions=[Allow(Role.region_admin)],
    )
    async def publish_settlement_run(self, info: Info, tenant: str, id: strawberry.ID) -> PublishRunResult:
        try:
            run_id = parse_id(id, "id", "SettlementRun")
        except ExpectedError as e:
            return invalid(f"run {str(id)[:100]}", "id", "not an id", str(e))
        try:
            async with info.context.session() as s:
                run = await publish_run(s, info.context.scope, tenant, run_id)
                return RunPayload(run=SettlementRun.of(run, sees_every_hospital(info)))
        except RunRefused as e:
            return as_union(e, path=lambda _: "id", message=str(e))

    @strawberry.mutation(
        description="Configure a medical alliance settled as one budget holder.", extensions=[Allow(Role.region_admin)]
    )
    async def set_alliance(self, info: Info, input: SetAllianceInput) -> SetAllianceResult:
        members = [s.hospital for s in input.shares]
        if twice := duplicates(members, "shares", "hospital"):
            return invalid(f"alliance {input.id}", f"input.{twice[0][0]}", twice[0][1])
        try:
            row = await _regional(
                info,
                input.tenant,
                regional.set_alliance,
                input.id,
                input.name,
                input.lead,
                {s.hospital: str(s.share) for s in input.shares},
                input.settle_as_one,
            )
        except regional.RegionalRefused as e:
            return _regional_refused(e, "input", members)
        return AlliancePayload(alliance=Alliance.of(row))

    @strawberry.mutation(
        description="Enter a hospital's evaluation score for a year (releases the holdback): an override with the "
        'reason "entered (setEvaluationScore)".',
        extensions=[Allow(Role.region_admin)],
        deprecation_reason="Use overrideEvaluationScore, which takes the reason the override needs (issue 12).",
    )
    async def set_evaluation_score(
        self, info: Info, tenant: str, hospital: str, year: int, score: Decimal
    ) -> SetEvaluationScoreResult:
        try:
            row = await _regional(info, tenant, regional.set_evaluation_score, hospital, year, score)
        except regional.RegionalRefused as e:
            return _regional_refused(e, None)
        return EvaluationScorePayload(score=EvaluationScore.of(row))

    @strawberry.mutation(
        description="Record money an audit deducts from a hospital (off its due, year to date).",
        extensions=[Allow(Role.region_admin)],
    )
    async def record_audit_deduction(self, info: Info, input: AuditDeductionInput) -> RecordAuditDeductionResult:
        try:
            row = await _regional(
                info,
                input.tenant,
                regional.record_audit_deduction,
                input.hospital,
                input.year,
                input.month,
                input.ledger.value,
                input.amount,
                input.reference,
                input.reason,
            )
        except regional.RegionalRefused as e:
            return _regional_refused(e, "input")
        return AuditDeductionPayload(
            deduction=AuditDeduction(
                hospital=row.hospital_id,
                year=row.year,
                month=row.month,
                ledger=Ledger(row.ledger),
                amount=row.amount,
                reference=row.reference,
                reason=row.reason,
                created_by=row.created_by,
                created_at=row.created_at,
            )
        )

    @strawberry.mutation(
        description="Confirm a violation on a case: its points are not counted (serious: deducted).",
        extensions=[Allow(Role.region_admin)],
    )
    async def confirm_violation(self, info: Info, input: ConfirmViolationInput) -> ConfirmViolationResult:
        try:
            row = await _regional(
                info,
                input.tenant,
                regional.confirm_violation,
                input.hospital,
                input.list_id,
                input.kind.value,
                input.serious,
                input.reason,
            )
        except regional.RegionalRefused as e:
            return _regional_refused(e, "input")
        return ViolationPayload(
            violation=CaseViolation(
                hospital=row.hospital_id,
                list_id=row.list_id,
                kind=ViolationKind(row.kind),
                serious=row.serious,
                reason=row.reason,
                confirmed_by=row.confirmed_by,
                confirmed_at=row.confirmed_at,
            )
        )
