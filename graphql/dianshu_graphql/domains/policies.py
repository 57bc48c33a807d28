"""Policy parameters in GraphQL: the parameters in force for a region or a city's defaults, and
setting them (a city admin its defaults, a region admin its own)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from dianshu.scope import Role
from dianshu.settlement.models import PolicyDefault, PolicyVersion
from dianshu.settlement.runs import policies
from dianshu_graphql.errors import ExpectedError, FieldError, PermissionDenied, ValidationError
from dianshu_graphql.errors import refused as as_union
from dianshu_graphql.permissions import ANYONE, Allow
from dianshu_graphql.types.policies import (
    EffectivePolicy,
    Ledger,
    PolicyParameters,
    PolicyPayload,
    SetPolicyInput,
    policy_json,
)
from dianshu_graphql.types.settlement import graphql_path

SetPolicyResult = Annotated[PolicyPayload | ValidationError | PermissionDenied, strawberry.union("SetPolicyResult")]
# setPolicy by the tenant's kind: a city admin its city's defaults, a region admin its region's own
# (and the tenant in the caller's scope).
SET_CITY_DEFAULTS = Allow(Role.city_admin)
SET_REGION_POLICY = Allow(Role.region_admin)


async def load_policy(info: Info, tenant: str, year: int, ledger: str) -> EffectivePolicy:
    tenants = await info.context.registry.all()
    if tenant not in tenants:
        raise ExpectedError(f"tenant: unknown tenant {tenant}")
    t = tenants[tenant]
    city, region = (tenant, None) if t.kind == "city" else (t.parent_code, tenant)
    async with info.context.session() as s:
        eff = await policies.effective_policy(s, city, region, year, ledger)
        D, V = PolicyDefault, PolicyVersion
        rows = [
            ("city", r)
            for r in (
                await s.execute(select(D).where(D.city_code == city, D.year == year, D.ledger == ledger))
            ).scalars()
        ]
        if region:
            rows += [
                ("region", r)
                for r in (
                    await s.execute(select(V).where(V.tenant_id == region, V.year == year, V.ledger == ledger))
                ).scalars()
            ]
    return EffectivePolicy(
        tenant=tenant,
        year=year,
        ledger=Ledger(ledger),
        parameters=PolicyParameters.of(eff.policy),
        city_version=eff.city_version,
        region_version=eff.region_version,
        versions=rows,
    )


def _field(platform_field: str) -> str:
    """policies.PolicyRefused's field (parameters.reserve_ratio, reason) as the input's GraphQL path."""
    return graphql_path(platform_field, "input")


@strawberry.type
class PoliciesQuery:
    @strawberry.field(
        description="The policy parameters in force for a region (or a city's defaults).", extensions=[Allow(*ANYONE)]
    )
    async def policy(self, info: Info, tenant: str, year: int, ledger: Ledger = Ledger.employee) -> EffectivePolicy:
        return await load_policy(info, tenant, year, ledger.value)


@strawberry.type
class PoliciesMutation:
    @strawberry.mutation(
        description="Change policy parameters: a city admin its defaults, a region admin its own.",
        # Who of the two depends on the tenant's kind, known only once the tenant is read: the
        # resolver checks that role and the tenant, after refusing an unknown tenant.
        extensions=[Allow(Role.city_admin, Role.region_admin, tenant=False)],
    )
    async def set_policy(self, info: Info, input: SetPolicyInput) -> SetPolicyResult:
        tenants = await info.context.registry.all()
        t = tenants.get(input.tenant)
        if t is None:
            return ValidationError(
                message=f"unknown tenant {input.tenant}",
                errors=[FieldError(record="policy", field="input.tenant", reason="unknown")],
            )
        allow = SET_CITY_DEFAULTS if t.kind == "city" else SET_REGION_POLICY
        if (why := allow.refusal(info.context.scope, input.tenant)) is not None:
            return PermissionDenied(message=why)
        parameters = policy_json(input.parameters)
        ledger = input.ledger.value
        try:
            async with info.context.session() as s:
                if t.kind == "city":
                    await policies.set_city_defaults(
                        s, info.context.scope, input.tenant, input.year, ledger, parameters, input.reason
                    )
                else:
                    await policies.set_region_policy(
                        s,
                        info.context.scope,
                        t.parent_code or "",
                        input.tenant,
                        input.year,
                        ledger,
                        parameters,
                        input.reason,
                    )
        except policies.PolicyRefused as e:
            record = f"policy {input.year}/{ledger}"
            return as_union(e, path=_field, record=record, message=str(e))  # type: ignore[return-value]
        return PolicyPayload(policy=await load_policy(info, input.tenant, input.year, ledger))
