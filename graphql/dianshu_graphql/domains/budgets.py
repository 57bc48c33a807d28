"""Budgets in GraphQL: a region's budget versions, and setting one (a new version; retries add
nothing)."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from dianshu.scope import Role
from dianshu.settlement.models import Budget
from dianshu.settlement.runs import budgets
from dianshu_graphql import node, pagination
from dianshu_graphql.errors import PermissionDenied, ValidationError, invalid
from dianshu_graphql.errors import refused as as_union
from dianshu_graphql.permissions import ANYONE, Allow
from dianshu_graphql.types.budgets import BudgetPayload, BudgetVersion, SetBudgetInput
from dianshu_graphql.types.policies import Ledger
from dianshu_graphql.types.settlement import graphql_path

SetBudgetResult = Annotated[BudgetPayload | ValidationError | PermissionDenied, strawberry.union("SetBudgetResult")]


async def fetch_budget(info: Info, tenant: str, budget_id: uuid.UUID) -> BudgetVersion | None:
    """One budget version, as `budgets` shows it (row-level security)."""
    async with info.context.session() as s:
        b = (
            await s.execute(select(Budget).where(Budget.tenant_id == tenant, Budget.id == budget_id))
        ).scalar_one_or_none()
    return BudgetVersion.of(b) if b else None


# Who may read budgets (any role, in its own tenants): budgets' declaration and node(id:)'s.
READ_BUDGETS = Allow(*ANYONE)
node.register(BudgetVersion, node.code_part, node.uuid_part, fetch=fetch_budget, allow=READ_BUDGETS)


@strawberry.type
class BudgetsQuery:
    @strawberry.field(
        description="Budget versions of a region: by ledger, newest version first.", extensions=[READ_BUDGETS]
    )
    async def budgets(
        self,
        info: Info,
        tenant: str,
        year: int,
        ledger: Ledger | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> pagination.Connection[BudgetVersion]:
        limit = pagination.page_size(first)
        cursor = pagination.decode_cursor(after, str, pagination.key_int)
        q = (
            select(Budget)
            .where(Budget.tenant_id == tenant, Budget.year == year)
            .order_by(Budget.ledger, Budget.version.desc())
            .limit(limit + 1)
        )
        if ledger is not None:
            q = q.where(Budget.ledger == ledger.value)
        if cursor:
            led, version = cursor
            q = q.where((Budget.ledger > led) | ((Budget.ledger == led) & (Budget.version < version)))
        async with info.context.session() as s:
            rows = list((await s.execute(q)).scalars())
        return pagination.build(rows, limit, lambda b: [b.ledger, b.version], BudgetVersion.of, after=after)


@strawberry.type
class BudgetsMutation:
    @strawberry.mutation(
        description="Set a region's budget for a year and ledger (a new version; retries add nothing).",
        extensions=[Allow(Role.region_admin)],
    )
    async def set_budget(self, info: Info, input: SetBudgetInput) -> SetBudgetResult:
        tenants = await info.context.registry.all()
        t = tenants.get(input.tenant)
        if t is None or t.kind == "city":
            return invalid("budget", "input.tenant", "not a region", f"tenant: {input.tenant} is not a region")
        carve_outs = (
            None if input.carve_outs is None else [{"item": c.item, "amount": str(c.amount)} for c in input.carve_outs]
        )
        try:
            async with info.context.session() as s:
                b = await budgets.set_budget(
                    s,
                    info.context.scope,
                    t.parent_code or "",
                    input.tenant,
                    input.year,
                    input.ledger.value,
                    growth_rate=input.growth_rate,
                    reason=input.reason,
                    last_year_spending=input.last_year_spending,
                    carve_outs=carve_outs,
                )
                return BudgetPayload(budget=BudgetVersion.of(b))
        except budgets.BudgetRefused as e:
            return as_union(  # type: ignore[return-value]
                e, path=lambda f: graphql_path(f, "input"), record=f"budget {input.year}/{input.ledger.value}"
            )
