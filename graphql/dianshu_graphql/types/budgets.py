"""A region's budget (年度预算, SPEC section 6) as GraphQL types."""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal
from typing import Any

import strawberry

from dianshu_graphql import node
from dianshu_graphql.types.policies import Ledger
from dianshu_graphql.types.settlement import SpendingSource


@strawberry.type(description="An item paid outside the points (切块), carved out of the budget.")
class CarveOut:
    item: str = strawberry.field(description="What is paid outside the points.")
    amount: Decimal = strawberry.field(description="Its amount in yuan, to the fen.")


@strawberry.input(description="An item paid outside the points, carved out of the budget.")
class CarveOutInput:
    item: str = strawberry.field(description="What is paid outside the points (required, not blank).")
    amount: Decimal = strawberry.field(description="Its amount in yuan: not negative, to the fen.")


@strawberry.type(description="A region's budget for a year and ledger: T = spending × (1 + g) − carve-outs.")
class BudgetVersion(node.Node):
    id: strawberry.ID
    database_id: uuid.UUID = strawberry.field(description="The budget version's own id (what a run's inputs name).")
    tenant: str = strawberry.field(
        deprecation_reason="Use tenantCode: one name for a tenant's code on every type (issue 11)."
    )
    year: int
    ledger: Ledger
    version: int
    last_year_spending: Decimal = strawberry.field(
        description="Last year's inpatient fund spending (上年统筹基金支出)."
    )
    spending_source: SpendingSource
    growth_rate: Decimal = strawberry.field(description="g: the agreed growth rate (增长率).")
    carve_outs: list[CarveOut] = strawberry.field(
        description="Items carved out (last year's cross-province cases among them when the policy says so)."
    )
    reserve_ratio: Decimal = strawberry.field(description="The reserve ratio in force when it was set.")
    total: Decimal = strawberry.field(description="T: the budget (年度统筹基金预算总额).")
    reserve: Decimal = strawberry.field(description="R = T × reserve ratio (调剂金), to the fen.")
    points_budget: Decimal = strawberry.field(description="B = T − R (点数法预算), to the fen.")
    reason: str
    created_by: str
    created_at: datetime.datetime

    @classmethod
    def of(cls, b: Any) -> BudgetVersion:
        return cls(
            id=node.global_id("BudgetVersion", b.tenant_id, b.id),
            database_id=b.id,
            tenant=b.tenant_id,
            year=b.year,
            ledger=Ledger(b.ledger),
            version=b.version,
            last_year_spending=b.last_year_spending,
            spending_source=SpendingSource(b.spending_source),
            growth_rate=b.growth_rate,
            carve_outs=[CarveOut(item=c["item"], amount=Decimal(c["amount"])) for c in b.carve_outs],
            reserve_ratio=b.reserve_ratio,
            total=b.total,
            reserve=b.reserve,
            points_budget=b.points_budget,
            reason=b.reason,
            created_by=b.created_by,
            created_at=b.created_at,
        )

    @strawberry.field(description="The tenant's code (the city or region it belongs to).")
    def tenant_code(self) -> str:
        return self.tenant


@strawberry.input
class SetBudgetInput:
    tenant: str = strawberry.field(description="The region's code.")
    year: int
    ledger: Ledger = Ledger.employee
    growth_rate: Decimal = strawberry.field(description="g, from -0.5 to 0.5, e.g. 0.05")
    reason: str
    last_year_spending: Decimal | None = strawberry.field(
        default=None, description="Leave empty to take last year's fund payments from the region's cases."
    )
    carve_outs: list[CarveOutInput] | None = strawberry.field(
        default=None,
        description="Items paid outside the points; last year's cross-province cases are carved out too when the "
        "policy parameter carveOutCrossProvince is set.",
    )


@strawberry.type
class BudgetPayload:
    budget: BudgetVersion
