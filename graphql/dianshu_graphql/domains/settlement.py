from __future__ import annotations

import datetime
from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry.scalars import JSON
from strawberry.types import Info

from dianshu.scope import Role
from dianshu.settlement import policies
from dianshu.settlement.models import PolicyDefault, PolicyVersion
from dianshu.settlement.simulate import ScenarioError
from dianshu.settlement.simulate import simulate as run_simulation
from dianshu_graphql.errors import ExpectedError, FieldError, PermissionDenied, ValidationError
from dianshu_graphql.permissions import denied, require_roles, require_tenant


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


@strawberry.type
class SettlementQuery:
    @strawberry.field(description="The policy parameters in force for a region (or a city's defaults).")
    async def policy(self, info: Info, tenant: str, year: int, ledger: str = "employee") -> EffectivePolicy:
        require_tenant(info, tenant)
        if ledger not in policies.LEDGERS:
            raise ExpectedError(f"ledger: must be one of {', '.join(policies.LEDGERS)}")
        return await _load(info, tenant, year, ledger)

    @strawberry.field(description="Simulate a scenario: case points and annual clearing, nothing stored.")
    def simulate(self, info: Info, scenario: JSON) -> JSON:
        require_roles(info, {Role.city_admin, Role.city_viewer, Role.region_admin, Role.region_viewer})
        try:
            return run_simulation(scenario)
        except ScenarioError as e:
            raise ExpectedError(str(e)) from e


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
            return ValidationError(
                message=str(e),
                errors=[FieldError(record=f"policy {input.year}/{input.ledger}", field=e.field, reason=e.reason)],
            )
        return PolicyPayload(policy=await _load(info, input.tenant, input.year, input.ledger))
