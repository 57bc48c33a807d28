"""compute_indicators: the year's computed indicators of every hospital of the given tenants (see
the package's docstring for the definitions)."""

from __future__ import annotations

import datetime
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu import bounds
from dianshu.db.planner import NO_NESTED_LOOPS, planner_settings
from dianshu.errors import Refused
from dianshu.evaluation.indicators import queries as q
from dianshu.evaluation.indicators.formulas import Figures, Measure, measures
from dianshu.standards.in_force import in_force
from dianshu.standards.models import PaymentStandard


class IndicatorsRefused(Refused):
    """Indicators refused: record "indicators <year>", the field and why."""


@dataclass
class IndicatorSet:
    # (hospital_id, computation) -> Measure, for every hospital and every computed indicator.
    values: dict[tuple[str, str], Measure] = field(default_factory=dict)
    cases: dict[str, int] = field(default_factory=dict)  # hospital_id -> the year's cases
    hospitals: dict[str, tuple[str, int]] = field(default_factory=dict)  # hospital_id -> (tenant, level)
    year: int | None = None
    # city -> (payment standard id, scheme version id) the grouping indicators read
    standards: dict[str, tuple[uuid.UUID, uuid.UUID]] = field(default_factory=dict)


def _rows(result: Any) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in result]


async def _standards(
    session: AsyncSession, tenants: Sequence[str], year: int, record: str
) -> tuple[dict[str, str], dict[str, tuple[uuid.UUID, uuid.UUID]]]:
    """tenant -> its city, and city -> the standard in force on the year's last day (the annual
    clearing's standard, settlement/runs/inputs.py), for every city with hospitals among the tenants."""
    rows = await session.execute(
        text(
            "select t.code, coalesce(t.parent_code, t.code) as city from tenant t "
            "where t.code = any(cast(:t as text[])) and exists (select 1 from hospital h where h.tenant_id = t.code)"
        ),
        {"t": list(tenants)},
    )
    city_of = {r.code: r.city for r in rows}
    on = datetime.date(year, 12, 31)
    out: dict[str, tuple[uuid.UUID, uuid.UUID]] = {}
    for city in sorted(set(city_of.values())):
        std = (await session.execute(in_force(city, on, PaymentStandard.id, PaymentStandard.scheme_version_id))).first()
        if std is None:
            raise IndicatorsRefused(
                record,
                "standard",
                f"no published payment standard of {city} is in force on {on}: the grouping indicators need one",
                kind="state",
            )
        out[city] = (std.id, std.scheme_version_id)
    return city_of, out


async def compute_indicators(session: AsyncSession, tenants: Sequence[str], year: int) -> IndicatorSet:
    """Every computed indicator (formulas.COMPUTATIONS) of every hospital of `tenants` for `year`,
    in a handful of set-wise statements under the session's scope, which must see every hospital of
    its tenants (a region or the city): a hospital's scope would see no peers and is refused."""
    record = f"indicators {year}"
    if (reason := bounds.year_reason(year)) is not None:
        raise IndicatorsRefused(record, "year", reason)
    tenants = sorted(set(tenants))
    if not tenants:
        raise IndicatorsRefused(record, "tenants", "at least one tenant is required")
    all_hospitals = (
        await session.execute(text("select coalesce(current_setting('app.all_hospitals', true) = 'on', false)"))
    ).scalar_one()
    if not all_hospitals:
        raise IndicatorsRefused(
            record,
            "scope",
            "indicators are computed for a region or the city: a hospital's scope sees no peers",
            kind="state",
        )
    city_of, standards = await _standards(session, tenants, year, record)
    mapped = sorted(city_of)
    params: dict[str, Any] = {
        "tenants": tenants,
        "year": year,
        "start": datetime.date(year, 1, 1),
        "end": datetime.date(year, 12, 1),
        "next_start": datetime.date(year + 1, 1, 1),
        # 31 days after the last discharge day of the year: admitted before 1 February.
        "lookahead": datetime.datetime(year + 1, 2, 1),
        "last_start": datetime.date(year - 1, 1, 1),
        "last_end": datetime.date(year - 1, 12, 1),
        "map_tenants": mapped,
        "map_standards": [standards[city_of[t]][0] for t in mapped],
        "map_versions": [standards[city_of[t]][1] for t in mapped],
    }
    out = IndicatorSet(year=year, standards=standards)
    for r in await session.execute(text(q.HOSPITALS), params):
        out.hospitals[r.id] = (r.tenant_id, r.level)

    figures: dict[str, dict[str, Any]] = defaultdict(dict)

    def take(rows: list[dict[str, Any]], rename: dict[str, str] | None = None) -> None:
        for row in rows:
            h = row.pop("hospital_id")
            row.pop("tenant_id", None)
            if h in out.hospitals:
                figures[h].update({(rename or {}).get(k, k): v for k, v in row.items()})

    # A city year's sorts and hashes in memory, for these statements only.
    async with planner_settings(session, {"work_mem": q.WORK_MEM}):
        # No nested loop in the case figures: row-level security's predicates hide the tenants' row
        # counts from the planner, and for one region it estimated one row of per-DRG figures, joined
        # them to their peers' percentiles by a nested loop over some 10,000 × 10,000 rows and ran for
        # minutes (8 s without). The other statements keep their nested loops (points: 2 s with, 6 without).
        async with planner_settings(session, NO_NESTED_LOOPS):
            take(_rows(await session.execute(text(q.CASE_FIGURES), params)))
        take(_rows(await session.execute(text(q.CORRECTED_TIMELY), params)))
        take(_rows(await session.execute(text(q.REVIEW_FIGURES), params)))
        for row in _rows(await session.execute(text(q.POINT_FIGURES), params)):
            ry = row.pop("year")
            if ry == year:
                take([row])
            else:
                take([{"tenant_id": row["tenant_id"], "hospital_id": row["hospital_id"], "last_points": row["points"]}])
        take(_rows(await session.execute(text(q.LAST_YEAR_FIGURES), params)))
        take(_rows(await session.execute(text(q.AUDIT_FIGURES), params)))
        take(_rows(await session.execute(text(q.BATCH_FIGURES), params)))

    for h in out.hospitals:
        f = Figures(figures.get(h, {}))
        out.cases[h] = int(f["cases"])  # type: ignore[call-overload]
        for name, m in measures(f).items():
            out.values[(h, name)] = m
    return out
