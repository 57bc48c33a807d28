from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Annotated, Any

import anyio
import strawberry
from sqlalchemy import select
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON
from strawberry.types import Info

from dianshu.jobs.registry import get_kind
from dianshu.scope import Role
from dianshu.settlement.arithmetic.simulate import ScenarioError, parse_scenario
from dianshu.settlement.arithmetic.simulate import simulate as run_simulation
from dianshu.settlement.models import (
    Budget,
    CasePoint,
    PointsRun,
    PolicyDefault,
    PolicyVersion,
    SettlementLine,
    SettlementRun,
)
from dianshu.settlement.runs import budgets, policies, regional
from dianshu.settlement.runs.compare import CompareRefused, simulate_against_run
from dianshu.settlement.runs.figures import city_overview, statement_data
from dianshu.settlement.runs.points import POINTS
from dianshu.settlement.runs.publish import RunRefused, publish_run
from dianshu.settlement.runs.settle import SETTLE
from dianshu.settlement.runs.simulations import (
    SIMULATE,
    ScenarioFileError,
    decode_scenario,
    listed_issues,
    too_many_cases,
)
from dianshu_graphql.domains.grouping import JobResult, submit_job
from dianshu_graphql.errors import ExpectedError, FieldError, IdempotencyConflict, PermissionDenied, ValidationError
from dianshu_graphql.permissions import denied, require_roles, require_tenant
from dianshu_graphql.types.jobs import JobPayload


@strawberry.type
class PolicyChange:
    version: int
    level: str = strawberry.field(description="city (defaults) or region")
    parameters: JSON
    reason: str
    created_by: str
    created_at: datetime.datetime


@strawberry.type(description="The parameters in force: SPEC defaults, then the city's, then the region's.")
class EffectivePolicy:
    tenant: str
    year: int
    ledger: str
    parameters: JSON
    city_version: int | None
    region_version: int | None
    changes: list[PolicyChange]


@strawberry.input
class SetPolicyInput:
    tenant: str = strawberry.field(description="The city (its defaults) or a region (its own).")
    year: int
    ledger: str = strawberry.field(description="employee, resident or all")
    parameters: JSON = strawberry.field(description="Parameter name -> value (decimals as strings).")
    reason: str


@strawberry.type
class PolicyPayload:
    policy: EffectivePolicy


SetPolicyResult = Annotated[PolicyPayload | ValidationError | PermissionDenied, strawberry.union("SetPolicyResult")]


async def _load(info: Info, tenant: str, year: int, ledger: str) -> EffectivePolicy:
    tenants = await info.context.registry.all()
    if tenant not in tenants:
        raise ExpectedError(f"tenant: unknown tenant {tenant}")
    t = tenants[tenant]
    city, region = (tenant, None) if t.kind == "city" else (t.parent_code, tenant)
    async with info.context.session() as s:
        eff = await policies.effective_policy(s, city, region, year, ledger)
        rows = [
            ("city", r)
            for r in (
                await s.execute(
                    select(PolicyDefault).where(
                        PolicyDefault.city_code == city, PolicyDefault.year == year, PolicyDefault.ledger == ledger
                    )
                )
            ).scalars()
        ]
        if region:
            rows += [
                ("region", r)
                for r in (
                    await s.execute(
                        select(PolicyVersion).where(
                            PolicyVersion.tenant_id == region,
                            PolicyVersion.year == year,
                            PolicyVersion.ledger == ledger,
                        )
                    )
                ).scalars()
            ]
    rows.sort(key=lambda x: x[1].created_at)
    return EffectivePolicy(
        tenant=tenant,
        year=year,
        ledger=ledger,
        parameters=eff.policy.as_dict(),
        city_version=eff.city_version,
        region_version=eff.region_version,
        changes=[
            PolicyChange(
                version=r.version,
                level=level,
                parameters=r.parameters,
                reason=r.reason,
                created_by=r.created_by,
                created_at=r.created_at,
            )
            for level, r in rows
        ],
    )


@strawberry.type(description="A simulation's result: the same JSON as `dianshu simulate` writes.")
class SimulationPayload:
    result: JSON


SimulateResult = Annotated[SimulationPayload | ValidationError | PermissionDenied, strawberry.union("SimulateResult")]


@strawberry.type
class SettlementQuery:
    @strawberry.field(description="The policy parameters in force for a region (or a city's defaults).")
    async def policy(self, info: Info, tenant: str, year: int, ledger: str = "employee") -> EffectivePolicy:
        require_tenant(info, tenant)
        if ledger not in policies.LEDGERS:
            raise ExpectedError(f"ledger: must be one of {', '.join(policies.LEDGERS)}")
        return await _load(info, tenant, year, ledger)

    @strawberry.field(
        description="Simulate a scenario (docs/scenario.schema.json): case points and annual clearing, nothing "
        "stored. At most DIANSHU_SIMULATE_MAX_CASES cases; larger scenarios run as a job (startSimulation)."
    )
    async def simulate(self, info: Info, scenario: JSON) -> SimulateResult:
        try:
            require_roles(info, BUREAU)
        except ExpectedError as e:
            return PermissionDenied(message=str(e))
        limit = info.context.settings.simulate_max_cases
        if (why := too_many_cases(scenario, limit)) is not None:
            return _refused("scenario", "cases", f"{why} synchronously: use startSimulation (a job)", f"cases: {why}")
        try:
            # Off the event loop: other requests go on while it computes (the size limit bounds the
            # time the thread holds the GIL).
            return SimulationPayload(result=await anyio.to_thread.run_sync(run_simulation, scenario))
        except ScenarioError as e:
            return scenario_refused(e)


def scenario_refused(e: ScenarioError) -> ValidationError:
    """Every JSON path of a refused scenario as a field error (the first MAX_LISTED_ISSUES)."""
    return ValidationError(
        message=f"scenario refused: {len(e.issues)} issue(s), first {e.issues[0]}",
        errors=[FieldError(record="scenario", field=i["path"], reason=i["reason"]) for i in listed_issues(e)],
    )


@strawberry.type
class SettlementMutation:
    @strawberry.mutation(description="Change policy parameters: a city admin its defaults, a region admin its own.")
    async def set_policy(self, info: Info, input: SetPolicyInput) -> SetPolicyResult:
        tenants = await info.context.registry.all()
        t = tenants.get(input.tenant)
        if t is None:
            return ValidationError(
                message=f"unknown tenant {input.tenant}",
                errors=[FieldError(record="policy", field="tenant", reason="unknown")],
            )
        role = {Role.city_admin} if t.kind == "city" else {Role.region_admin}
        if (refused := denied(info, role, input.tenant)) is not None:
            return refused
        try:
            async with info.context.session() as s:
                if t.kind == "city":
                    await policies.set_city_defaults(
                        s, info.context.scope, input.tenant, input.year, input.ledger, input.parameters, input.reason
                    )
                else:
                    await policies.set_region_policy(
                        s,
                        info.context.scope,
                        t.parent_code or "",
                        input.tenant,
                        input.year,
                        input.ledger,
                        input.parameters,
                        input.reason,
                    )
        except policies.PolicyRefused as e:
            record = f"policy {input.year}/{input.ledger}"
            return ValidationError(
                message=str(e), errors=[FieldError(record=record, field=f, reason=r) for f, r in e.issues]
            )
        return PolicyPayload(policy=await _load(info, input.tenant, input.year, input.ledger))


# ---- budgets, runs, lines, statements, side-by-side simulation ----------------------------------

BUREAU = {Role.city_admin, Role.city_viewer, Role.region_admin, Role.region_viewer}


@strawberry.type(description="A region's budget for a year and ledger: T = spending × (1 + g) − carve-outs.")
class BudgetVersion:
    tenant: str
    year: int
    ledger: str
    version: int
    last_year_spending: Decimal
    spending_source: str = strawberry.field(description="cases (computed) or entered")
    growth_rate: Decimal
    carve_outs: JSON
    reserve_ratio: Decimal
    total: Decimal = strawberry.field(description="T")
    reserve: Decimal = strawberry.field(description="R = T × reserve ratio")
    points_budget: Decimal = strawberry.field(description="B = T − R")
    reason: str
    created_by: str
    created_at: datetime.datetime

    @classmethod
    def of(cls, b: Budget) -> BudgetVersion:
        return cls(
            tenant=b.tenant_id,
            year=b.year,
            ledger=b.ledger,
            version=b.version,
            last_year_spending=b.last_year_spending,
            spending_source=b.spending_source,
            growth_rate=b.growth_rate,
            carve_outs=b.carve_outs,
            reserve_ratio=b.reserve_ratio,
            total=b.total,
            reserve=b.reserve,
            points_budget=b.points_budget,
            reason=b.reason,
            created_by=b.created_by,
            created_at=b.created_at,
        )


@strawberry.type(description="A hospital's figures in a run (a hospital sees only its own line).")
class SettlementLineOut:
    hospital: str
    alliance: str | None
    cases: int
    points: Decimal
    deductions: Decimal
    self_pay: Decimal
    fund_pay: Decimal
    due: Decimal
    payable: Decimal | None
    holdback: Decimal | None
    paid_before: Decimal | None
    payment: Decimal | None
    prepaid: Decimal | None
    score: Decimal | None
    balance: Decimal | None
    withheld: Decimal | None
    audit_deductions: Decimal = strawberry.field(description="Money deducted by audits, year to date")


@strawberry.type(description="A monthly pre-settlement or an annual clearing of one ledger.")
class SettlementRunOut:
    id: strawberry.ID
    tenant: str
    kind: str
    year: int
    month: int
    ledger: str
    version: int
    status: str
    points_run: strawberry.ID
    figures: JSON
    inputs: JSON
    created_by: str
    created_at: datetime.datetime
    published_at: datetime.datetime | None

    @strawberry.field(description="Per-hospital lines (row-level security: a hospital gets its own).")
    async def lines(self, info: Info) -> list[SettlementLineOut]:
        async with info.context.session() as s:
            rows = (
                await s.execute(
                    select(SettlementLine)
                    .where(SettlementLine.tenant_id == self.tenant, SettlementLine.run_id == uuid.UUID(str(self.id)))
                    .order_by(SettlementLine.hospital_id)
                )
            ).scalars()
            return [
                SettlementLineOut(
                    hospital=r.hospital_id,
                    alliance=r.alliance_id,
                    cases=r.cases,
                    points=r.points,
                    deductions=r.deductions,
                    self_pay=r.self_pay,
                    fund_pay=r.fund_pay,
                    due=r.due,
                    payable=r.payable,
                    holdback=r.holdback,
                    paid_before=r.paid_before,
                    payment=r.payment,
                    prepaid=r.prepaid,
                    score=r.score,
                    balance=r.balance,
                    withheld=r.withheld,
                    audit_deductions=r.audit_deductions,
                )
                for r in rows
            ]

    @classmethod
    def of(cls, r: SettlementRun, info: Info) -> SettlementRunOut:
        whole = sees_every_hospital(info)
        return cls(
            id=strawberry.ID(str(r.id)),
            tenant=r.tenant_id,
            kind=r.kind,
            year=r.year,
            month=r.month,
            ledger=r.ledger,
            version=r.version,
            status=r.status,
            points_run=strawberry.ID(str(r.points_run_id)),
            # Per-hospital figures (alliances' dues, scores, coefficients) only for callers who see
            # every hospital: a hospital user gets the region's totals and its own line.
            figures=r.figures if whole else {k: v for k, v in r.figures.items() if k != "alliances"},
            inputs=r.inputs if whole else {},
            created_by=r.created_by,
            created_at=r.created_at,
            published_at=r.published_at,
        )


@strawberry.type(description="A computation of case points for a year up to a month, with its inputs.")
class PointsRunOut:
    id: strawberry.ID
    tenant: str
    year: int
    through_month: int
    version: int
    summary: JSON
    inputs: JSON
    created_at: datetime.datetime


@strawberry.type(description="One case's points in a points run.")
class CasePointOut:
    case_id: int
    list_id: str
    hospital: str
    ledger: str
    month: int
    drg: str
    type: str
    points: Decimal
    addon: Decimal
    deduction: Decimal
    reason: str


@strawberry.input
class SetBudgetInput:
    tenant: str
    year: int
    ledger: str = "employee"
    growth_rate: Decimal = strawberry.field(description="g, e.g. 0.05")
    reason: str
    last_year_spending: Decimal | None = strawberry.field(
        default=None, description="Leave empty to take last year's fund payments from the region's cases."
    )
    carve_outs: JSON | None = strawberry.field(
        default=None,
        description='[{"item": "...", "amount": "..."}]; last year\'s cross-province cases are carved out too when '
        "the policy parameter carve_out_cross_province is set.",
    )


@strawberry.input
class RunSettlementInput:
    tenant: str
    kind: str = strawberry.field(description="monthly (year to date through month) or annual")
    year: int
    month: int = 12
    points_run: strawberry.ID | None = strawberry.field(
        default=None, description="Settle an existing points run; empty computes fresh points."
    )
    idempotency_key: str | None = None


@strawberry.input
class SetAllianceInput:
    tenant: str
    id: str
    name: str
    lead: str
    shares: JSON = strawberry.field(description='hospital -> ratio, summing to 1: {"H1": "0.6", "H2": "0.4"}')
    settle_as_one: bool = True


@strawberry.input
class AuditDeductionInput:
    tenant: str
    hospital: str
    year: int
    month: int
    ledger: str = "employee"
    amount: Decimal
    reference: str = strawberry.field(description="The audit's own number: recording it again is a no-op.")
    reason: str


@strawberry.input
class ConfirmViolationInput:
    tenant: str
    hospital: str
    list_id: str
    kind: str
    serious: bool = False
    reason: str


async def read_scenario_file(file: Upload, limit: int) -> Any:
    """An uploaded scenario file, read up to `limit` bytes and decoded off the event loop."""
    data = bytearray()
    while chunk := await file.read(1 << 20):
        data += chunk
        if len(data) > limit:
            raise ScenarioFileError(f"larger than {limit} bytes (DIANSHU_SIMULATE_FILE_MAX_BYTES)")
    return await anyio.to_thread.run_sync(decode_scenario, bytes(data))


def _refused(record: str, field: str, reason: str, message: str) -> ValidationError:
    return ValidationError(message=message, errors=[FieldError(record=record, field=field, reason=reason)])


@strawberry.type
class BudgetPayload:
    budget: BudgetVersion


@strawberry.type
class RunPayload:
    run: SettlementRunOut


@strawberry.type
class Done:
    ok: bool
    message: str


SetBudgetResult = Annotated[BudgetPayload | ValidationError | PermissionDenied, strawberry.union("SetBudgetResult")]
PublishRunResult = Annotated[RunPayload | ValidationError | PermissionDenied, strawberry.union("PublishRunResult")]
RegionalResult = Annotated[Done | ValidationError | PermissionDenied, strawberry.union("RegionalResult")]
StartSimulationResult = Annotated[
    JobPayload | ValidationError | PermissionDenied | IdempotencyConflict, strawberry.union("StartSimulationResult")
]


@strawberry.type
class SettlementRunsQuery:
    @strawberry.field(description="Budget versions of a region (newest first).")
    async def budgets(self, info: Info, tenant: str, year: int) -> list[BudgetVersion]:
        require_tenant(info, tenant)
        async with info.context.session() as s:
            rows = (
                await s.execute(
                    select(Budget)
                    .where(Budget.tenant_id == tenant, Budget.year == year)
                    .order_by(Budget.ledger, Budget.version.desc())
                )
            ).scalars()
            return [BudgetVersion.of(b) for b in rows]

    @strawberry.field(description="Settlement runs of a region and year (monthly and annual, every version).")
    async def settlement_runs(
        self, info: Info, tenant: str, year: int, kind: str | None = None
    ) -> list[SettlementRunOut]:
        require_tenant(info, tenant)
        async with info.context.session() as s:
            q = select(SettlementRun).where(SettlementRun.tenant_id == tenant, SettlementRun.year == year)
            if kind:
                q = q.where(SettlementRun.kind == kind)
            rows = (
                await s.execute(
                    q.order_by(SettlementRun.kind, SettlementRun.month, SettlementRun.ledger, SettlementRun.version)
                )
            ).scalars()
            return [SettlementRunOut.of(r, info) for r in rows]

    @strawberry.field(description="One settlement run.")
    async def settlement_run(self, info: Info, tenant: str, id: strawberry.ID) -> SettlementRunOut | None:
        require_tenant(info, tenant)
        async with info.context.session() as s:
            r = (
                await s.execute(
                    select(SettlementRun).where(SettlementRun.tenant_id == tenant, SettlementRun.id == _uuid(id))
                )
            ).scalar_one_or_none()
            return SettlementRunOut.of(r, info) if r else None

    @strawberry.field(description="Points runs of a region and year.")
    async def points_runs(self, info: Info, tenant: str, year: int) -> list[PointsRunOut]:
        require_tenant(info, tenant)
        async with info.context.session() as s:
            rows = (
                await s.execute(
                    select(PointsRun)
                    .where(PointsRun.tenant_id == tenant, PointsRun.year == year)
                    .order_by(PointsRun.through_month, PointsRun.version)
                )
            ).scalars()
            return [
                PointsRunOut(
                    id=strawberry.ID(str(r.id)),
                    tenant=r.tenant_id,
                    year=r.year,
                    through_month=r.through_month,
                    version=r.version,
                    summary=r.summary,
                    inputs=r.inputs if sees_every_hospital(info) else {},
                    created_at=r.created_at,
                )
                for r in rows
            ]

    @strawberry.field(description="Case points of a points run (a hospital sees its own), at most 500 a page.")
    async def case_points(
        self,
        info: Info,
        tenant: str,
        points_run: strawberry.ID,
        hospital: str | None = None,
        type: str | None = None,
        after_case: int = 0,
        first: int = 100,
    ) -> list[CasePointOut]:
        require_tenant(info, tenant)
        async with info.context.session() as s:
            q = select(CasePoint).where(
                CasePoint.tenant_id == tenant, CasePoint.run_id == _uuid(points_run), CasePoint.case_id > after_case
            )
            if hospital:
                q = q.where(CasePoint.hospital_id == hospital)
            if type:
                q = q.where(CasePoint.type == type)
            rows = (await s.execute(q.order_by(CasePoint.case_id).limit(max(1, min(first, 500))))).scalars()
            return [
                CasePointOut(
                    case_id=r.case_id,
                    list_id=r.list_id,
                    hospital=r.hospital_id,
                    ledger=r.ledger,
                    month=r.month,
                    drg=r.drg,
                    type=r.type,
                    points=r.points,
                    addon=r.addon,
                    deduction=r.deduction,
                    reason=r.reason,
                )
                for r in rows
            ]

    @strawberry.field(
        description="A hospital's statement for a run (also as /statements/{tenant}/{run}/{hospital}.csv|.html)."
    )
    async def statement(self, info: Info, tenant: str, run: strawberry.ID, hospital: str) -> JSON | None:
        require_tenant(info, tenant)
        async with info.context.session() as s:
            return await statement_data(s, tenant, _uuid(run), hospital)

    @strawberry.field(
        description="Every region's clearing of a year side by side (published, else the newest draft); "
        "also as /reports/{city}/settlement/{year}.html|.csv with a chart."
    )
    async def settlement_overview(self, info: Info, city: str, year: int) -> JSON:
        require_roles(info, BUREAU)
        async with info.context.session() as s:
            return await city_overview(s, city, year)

    @strawberry.field(
        description="Simulate the region's real year on changed parameters and compare it, hospital by hospital, "
        "with an annual clearing run. Nothing is stored."
    )
    async def simulate_against_run(
        self,
        info: Info,
        tenant: str,
        run: strawberry.ID,
        parameters: JSON | None = None,
        coefficients: JSON | None = None,
        growth_rate: Decimal | None = None,
    ) -> SimulateResult:
        if (refused := denied(info, BUREAU, tenant)) is not None:
            return refused
        try:
            run_id = uuid.UUID(str(run))
        except ValueError:
            return _refused(f"run {run}", "run", "not an id", f"run: {run!r} is not an id")
        try:
            async with info.context.session() as s:
                result = await simulate_against_run(
                    s, tenant, run_id, parameters=parameters, coefficients=coefficients, growth_rate=growth_rate
                )
        except CompareRefused as e:
            return _refused(f"run {run}", e.field, e.reason, str(e))
        return SimulationPayload(result=result)


async def _regional(info: Info, tenant: str, done: str, fn: Any, *args: Any) -> RegionalResult:
    """A region admin's settlement input (regional.py): the typed refusal names record, field, reason."""
    if (refused := denied(info, {Role.region_admin}, tenant)) is not None:
        return refused
    try:
        async with info.context.session() as s:
            await fn(s, info.context.scope, tenant, *args)
    except regional.RegionalRefused as e:
        return _refused(e.record, e.field, e.reason, str(e))
    return Done(ok=True, message=done)


def sees_every_hospital(info: Info) -> bool:
    return info.context.scope.all_hospitals


def _uuid(value: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise ExpectedError(f"id: {value!r} is not an id") from None


@strawberry.type
class SettlementRunsMutation:
    @strawberry.mutation(
        description="Set a region's budget for a year and ledger (a new version; retries add nothing)."
    )
    async def set_budget(self, info: Info, input: SetBudgetInput) -> SetBudgetResult:
        if (refused := denied(info, {Role.region_admin}, input.tenant)) is not None:
            return refused
        tenants = await info.context.registry.all()
        t = tenants.get(input.tenant)
        if t is None or t.kind == "city":
            return _refused("budget", "tenant", "not a region", f"tenant: {input.tenant} is not a region")
        try:
            async with info.context.session() as s:
                b = await budgets.set_budget(
                    s,
                    info.context.scope,
                    t.parent_code or "",
                    input.tenant,
                    input.year,
                    input.ledger,
                    growth_rate=input.growth_rate,
                    reason=input.reason,
                    last_year_spending=input.last_year_spending,
                    carve_outs=input.carve_outs,
                )
                return BudgetPayload(budget=BudgetVersion.of(b))
        except budgets.BudgetRefused as e:
            return _refused(f"budget {input.year}/{input.ledger}", e.field, e.reason, str(e))

    @strawberry.mutation(description="Compute a region's case points for a year up to a month (a job).")
    async def compute_points(
        self, info: Info, tenant: str, year: int, month: int = 12, idempotency_key: str | None = None
    ) -> JobResult:
        return await submit_job(info, tenant, POINTS, {"year": year, "month": month}, idempotency_key)

    @strawberry.mutation(description="Run a monthly pre-settlement or the annual clearing (a job; draft runs).")
    async def run_settlement(self, info: Info, input: RunSettlementInput) -> JobResult:
        params: dict[str, Any] = {"kind": input.kind, "year": input.year, "month": input.month}
        if input.points_run:
            params["points_run"] = str(input.points_run)
        return await submit_job(info, input.tenant, SETTLE, params, input.idempotency_key)

    @strawberry.mutation(description="Publish a draft run: it is frozen from then on (publishing again is a no-op).")
    async def publish_settlement_run(self, info: Info, tenant: str, id: strawberry.ID) -> PublishRunResult:
        if (refused := denied(info, {Role.region_admin}, tenant)) is not None:
            return refused
        try:
            async with info.context.session() as s:
                run = await publish_run(s, info.context.scope, tenant, _uuid(id))
                return RunPayload(run=SettlementRunOut.of(run, info))
        except RunRefused as e:
            return _refused(f"run {id}", e.field, e.reason, str(e))

    @strawberry.mutation(description="Configure a medical alliance settled as one budget holder.")
    async def set_alliance(self, info: Info, input: SetAllianceInput) -> RegionalResult:
        return await _regional(
            info,
            input.tenant,
            f"alliance {input.id} set",
            regional.set_alliance,
            input.id,
            input.name,
            input.lead,
            input.shares,
            input.settle_as_one,
        )

    @strawberry.mutation(
        description="Simulate a scenario of any size up to DIANSHU_SIMULATE_JOB_MAX_CASES cases as a job "
        "(settlement.simulate): poll job(id) for its status; its result is the same JSON as simulate's, a refused "
        "scenario's paths are in its error."
    )
    async def start_simulation(
        self,
        info: Info,
        tenant: str,
        scenario: JSON | None = None,
        file: Annotated[
            Upload | None,
            strawberry.argument(
                description="The scenario as a JSON file (GraphQL multipart; up to DIANSHU_MAX_UPLOAD_BYTES), "
                "for scenarios larger than a request body may be. Give this or scenario, not both."
            ),
        ] = None,
        idempotency_key: str | None = None,
    ) -> StartSimulationResult:
        if (refused := denied(info, get_kind(SIMULATE).roles, tenant)) is not None:
            return refused
        if (scenario is None) == (file is None):
            return _refused(
                "scenario", "scenario", "give either scenario or file", "scenario: give one of scenario, file"
            )
        if file is not None:
            try:
                scenario = await read_scenario_file(file, info.context.settings.simulate_file_max_bytes)
            except ScenarioFileError as e:
                return _refused("scenario", "file", str(e), f"file: {e}")
        if not isinstance(scenario, dict):
            return _refused("scenario", "scenario", "must be a JSON object", "scenario: must be a JSON object")
        if (why := too_many_cases(scenario, info.context.settings.simulate_job_max_cases)) is not None:
            return _refused("scenario", "cases", why, f"cases: {why}")
        try:
            # The strict reader at submission (off the event loop): a malformed scenario is refused
            # now with every path, as simulate refuses it, not queued; the job checks it again.
            await anyio.to_thread.run_sync(parse_scenario, scenario)
        except ScenarioError as e:
            return scenario_refused(e)
        return await submit_job(info, tenant, SIMULATE, {"scenario": scenario}, idempotency_key)

    @strawberry.mutation(description="Enter a hospital's evaluation score for a year (releases the holdback).")
    async def set_evaluation_score(
        self, info: Info, tenant: str, hospital: str, year: int, score: Decimal
    ) -> RegionalResult:
        return await _regional(
            info, tenant, f"{hospital} {year}: {score}", regional.set_evaluation_score, hospital, year, score
        )

    @strawberry.mutation(description="Record money an audit deducts from a hospital (off its due, year to date).")
    async def record_audit_deduction(self, info: Info, input: AuditDeductionInput) -> RegionalResult:
        return await _regional(
            info,
            input.tenant,
            f"{input.amount} deducted from {input.hospital} ({input.reference})",
            regional.record_audit_deduction,
            input.hospital,
            input.year,
            input.month,
            input.ledger,
            input.amount,
            input.reference,
            input.reason,
        )

    @strawberry.mutation(description="Confirm a violation on a case: its points are not counted (serious: deducted).")
    async def confirm_violation(self, info: Info, input: ConfirmViolationInput) -> RegionalResult:
        return await _regional(
            info,
            input.tenant,
            f"{input.kind} confirmed on {input.hospital}/{input.list_id}",
            regional.confirm_violation,
            input.hospital,
            input.list_id,
            input.kind,
            input.serious,
            input.reason,
        )
