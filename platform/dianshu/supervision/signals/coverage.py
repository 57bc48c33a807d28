"""What a supervision run covers: the job's tenant is a region (its hospitals, peers within the
region) or a city (every region of it, peers city-wide); the standard in force at the year's end
(its scheme version is the grouping the run reads) and the policy parameters in force (the employee
ledger's: signals and the anomaly model are not per ledger). Shared by signals and anomaly runs."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu import bounds
from dianshu.jobs.errors import JobRejected
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.runs.inputs import require_standard_in_force
from dianshu.settlement.runs.policies import effective_policy
from dianshu.standards.models import PaymentStandard
from dianshu.tenancy.models import Tenant

POLICY_LEDGER = "employee"


@dataclass(frozen=True)
class Coverage:
    requested: str  # the job's tenant
    city: str
    regions: tuple[str, ...]
    peers: str  # region | city
    standard: PaymentStandard
    policy: Policy


def check_year(value: Any) -> int:
    if (reason := bounds.year_reason(value)) is not None:
        raise JobRejected(f"year: {reason}", field="year")
    return int(value)


async def _tenant(session: AsyncSession, tenant: str) -> Tenant:
    t = (await session.execute(select(Tenant).where(Tenant.code == tenant))).scalar_one_or_none()
    if t is None:
        raise JobRejected(f"tenant: no tenant {tenant}", field="tenant")
    return t


async def check_params(session: AsyncSession, tenant: str, p: dict[str, Any]) -> None:
    """The job kinds' submission check: a year, and a known tenant."""
    check_year(p.get("year"))
    await _tenant(session, tenant)


async def coverage(session: AsyncSession, tenant: str, year: int) -> Coverage:
    t = await _tenant(session, tenant)
    if t.kind == "region":
        city, regions, peers = str(t.parent_code), (tenant,), "region"
    else:
        city, peers = tenant, "city"
        regions = tuple(
            sorted((await session.execute(select(Tenant.code).where(Tenant.parent_code == tenant))).scalars())
        )
    std = await require_standard_in_force(session, city, datetime.date(year, 12, 31))
    policy = (await effective_policy(session, city, tenant if peers == "region" else None, year, POLICY_LEDGER)).policy
    return Coverage(tenant, city, regions, peers, std, policy)
