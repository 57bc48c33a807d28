"""Per-request dataloaders: every relation is fetched in one query per request level."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import aliased
from strawberry.dataloader import DataLoader

from dianshu.reviews.models import ReviewAssignment, ReviewEvent
from dianshu.settlement.models import SettlementLine
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


def review_steps_loader(ctx: Any) -> DataLoader[tuple[str, str], list[Any]]:
    """Every step of the reviews asked for, in one query: key (tenant, review id)."""

    async def load(keys: list[tuple[str, str]]) -> list[list[Any]]:
        wanted = [(t, uuid.UUID(r)) for t, r in keys]
        async with ctx.session() as s:
            rows = (
                await s.execute(
                    select(ReviewEvent)
                    .where(tuple_(ReviewEvent.tenant_id, ReviewEvent.review_id).in_(wanted))
                    .order_by(ReviewEvent.seq)
                )
            ).scalars()
            found: dict[tuple[str, str], list[Any]] = defaultdict(list)
            for e in rows:
                found[(e.tenant_id, str(e.review_id))].append(e)
        return [found.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


def review_opinions_loader(ctx: Any) -> DataLoader[tuple[str, str], list[Any]]:
    """The expert assignments (opinions) of the reviews asked for, in one query; row-level security
    leaves an expert its own and a hospital none."""

    async def load(keys: list[tuple[str, str]]) -> list[list[Any]]:
        wanted = [(t, uuid.UUID(r)) for t, r in keys]
        async with ctx.session() as s:
            rows = (
                await s.execute(
                    select(ReviewAssignment)
                    .where(tuple_(ReviewAssignment.tenant_id, ReviewAssignment.review_id).in_(wanted))
                    .order_by(ReviewAssignment.round, ReviewAssignment.expert)
                )
            ).scalars()
            found: dict[tuple[str, str], list[Any]] = defaultdict(list)
            for a in rows:
                found[(a.tenant_id, str(a.review_id))].append(a)
        return [found.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


def settlement_lines_loader(ctx: Any) -> DataLoader[tuple[str, str, int, str | None], list[Any]]:
    """A page of lines of each settlement run asked for: key (tenant, run id, page size + 1, the
    hospital after which the page starts). One query per distinct page (usually one per request);
    row-level security leaves a hospital its own line."""

    async def load(keys: list[tuple[str, str, int, str | None]]) -> list[list[Any]]:
        pages: dict[tuple[int, str | None], list[tuple[str, uuid.UUID]]] = defaultdict(list)
        for tenant, run, n, after in keys:
            pages[(n, after)].append((tenant, uuid.UUID(run)))
        found: dict[tuple[str, str, int, str | None], list[Any]] = defaultdict(list)
        async with ctx.session() as s:
            for (n, after), runs in pages.items():
                L = SettlementLine
                ranked = select(
                    L, func.row_number().over(partition_by=(L.tenant_id, L.run_id), order_by=L.hospital_id).label("n")
                ).where(tuple_(L.tenant_id, L.run_id).in_(runs))
                if after is not None:
                    ranked = ranked.where(L.hospital_id > after)
                sub = ranked.subquery()
                line = aliased(L, sub)
                rows = (
                    await s.execute(select(line).where(sub.c.n <= n).order_by(sub.c.tenant_id, sub.c.run_id, sub.c.n))
                ).scalars()
                for r in rows:
                    found[(r.tenant_id, str(r.run_id), n, after)].append(r)
        return [found.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


def case_groupings_loader(ctx: Any) -> DataLoader[tuple[str, int], list[Any]]:
    """The stored grouping results (one per scheme version) of the cases asked for, in one query:
    key (tenant, case id); row-level security as for the cases."""
    from dianshu.grouping.models import CaseGrouping

    async def load(keys: list[tuple[str, int]]) -> list[list[Any]]:
        async with ctx.session() as s:
            rows = (
                await s.execute(
                    select(CaseGrouping)
                    .where(tuple_(CaseGrouping.tenant_id, CaseGrouping.case_id).in_(keys))
                    .order_by(CaseGrouping.version_id)
                )
            ).scalars()
            found: dict[tuple[str, int], list[Any]] = defaultdict(list)
            for g in rows:
                found[(g.tenant_id, g.case_id)].append(g)
        return [found.get(k, []) for k in keys]

    return DataLoader(load_fn=load)


def case_points_loader(ctx: Any) -> DataLoader[tuple[str, int], Any]:
    """Each case's points in its year's latest points run (settlement.latest), in one query: key
    (tenant, case id); None when no run has counted that version."""
    from dianshu.settlement.latest import latest_case_points

    async def load(keys: list[tuple[str, int]]) -> list[Any]:
        async with ctx.session() as s:
            found = await latest_case_points(s, keys)
        return [found.get(k) for k in keys]

    return DataLoader(load_fn=load)
