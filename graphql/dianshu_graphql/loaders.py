"""Per-request dataloaders: every relation is fetched in one query per request level."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from strawberry.dataloader import DataLoader

from dianshu.tenancy.models import Hospital, Tenant
from dianshu.tenancy.service import get_hospitals


def tenant_loader(ctx: Any) -> DataLoader[str, Tenant | None]:
    async def load(codes: list[str]) -> list[Tenant | None]:
        async with ctx.session() as s:
            rows = {t.code: t for t in (await s.execute(select(Tenant).where(Tenant.code.in_(codes)))).scalars()}
        # Only tenants in the caller's scope resolve.
        return [rows.get(c) if ctx.scope.sees_tenant(c) else None for c in codes]

    return DataLoader(load_fn=load)


def hospital_loader(ctx: Any) -> DataLoader[tuple[str, str], Hospital | None]:
    async def load(keys: list[tuple[str, str]]) -> list[Hospital | None]:
        async with ctx.session() as s:
            found = await get_hospitals(s, keys)
        return [found.get(k) for k in keys]

    return DataLoader(load_fn=load)
