"""Job: calibrate a draft payment standard for a city from its regions' history years."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, text

from dianshu.audit import service as audit
from dianshu.cases.current import current_cases
from dianshu.grouping.service import CASE_FIELDS, case_input
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.kinds import job_kind
from dianshu.standards.calibration import CalibrationParams, Calibrator, Stay
from dianshu.standards.models import DrgSchemeVersion, PaymentStandard, PaymentStandardDrg
from dianshu.standards.service import StandardsError, grouper_for

CALIBRATE = "standards.calibrate"
FETCH = 20_000


def calibration_params(p: dict[str, Any]) -> tuple[uuid.UUID, CalibrationParams]:
    try:
        version_id = uuid.UUID(str(p["version"]))
        years = tuple(int(y) for y in p["years"])
        weights = tuple(Decimal(str(w)) for w in p["year_weights"]) if p.get("year_weights") else None
        params = CalibrationParams(years=years, year_weights=weights, iqr_k=Decimal(str(p.get("iqr_k", "1.5"))))
        params.weights()
    except (KeyError, TypeError, ValueError, ArithmeticError) as e:
        raise JobRejected(f"parameters: {e}", field="parameters") from e
    return version_id, params


async def check_calibration(session: Any, tenant: str, p: dict[str, Any]) -> None:
    calibration_params(p)


@job_kind(CALIBRATE, roles={"city_admin"}, check=check_calibration)
async def calibrate_standard(ctx: JobContext) -> dict[str, Any]:
    p, s = ctx.params, ctx.session
    version_id, params = calibration_params(p)
    years, weights = params.years, params.year_weights
    label = str(p.get("label") or f"calibrated {min(years)}-{max(years)}")
    version = await s.get(DrgSchemeVersion, version_id)
    if version is None:
        raise JobRejected(f"version: no scheme version {version_id}", field="version")
    city = ctx.tenant_id
    regions = [t for t in ctx.scope.tenant_ids if t != city]
    if not regions:
        raise JobRejected("a calibration runs for a city (with its regions), not for a region", field="tenant")
    try:
        grouper = await grouper_for(s, version_id)
    except StandardsError as e:
        raise JobRejected(f"version: {e}", field="version") from e
    bed_day_prefixes = tuple(p.get("bed_day_prefixes") or ("U",))  # MDCU: psychiatric long stays
    bed_day = frozenset(d for d in grouper.tables.drg_names if d.startswith(bed_day_prefixes))
    params = CalibrationParams(years=years, year_weights=weights, iqr_k=params.iqr_k, bed_day_drgs=bed_day)
    total = (
        await s.execute(
            text(
                f"select count(*) from case_record where tenant_id = any(:t) and {current_cases()} "
                "and extract(year from discharge_month)::int = any(:y)"
            ),
            {"t": regions, "y": list(years)},
        )
    ).scalar_one()
    await ctx.progress(0, total, "grouping the history years")
    by_drg: dict[str, list[tuple[int, int, int]]] = {}  # drg -> (year, cost in fen, los): compact
    ungrouped, done, last = 0, 0, (regions[0], 0)
    while True:
        rows = (
            await s.execute(
                text(
                    f"select tenant_id, total_cost, discharge_month, {CASE_FIELDS} from case_record "
                    f"where tenant_id = any(:t) and {current_cases()} "
                    "and extract(year from discharge_month)::int = any(:y) and (tenant_id, id) > (:lt, :li) "
                    "order by tenant_id, id limit :n"
                ),
                {"t": regions, "y": list(years), "lt": last[0], "li": last[1], "n": FETCH},
            )
        ).all()
        if not rows:
            break
        last = (rows[-1].tenant_id, rows[-1].id)
        for row in rows:
            r = grouper.group(case_input(row))
            if r.status != "grouped":
                ungrouped += 1
                continue
            by_drg.setdefault(r.drg, []).append((row.discharge_month.year, int(row.total_cost * 100), row.los_days))
        done += len(rows)
        await ctx.progress(done, total)
    if not by_drg:
        raise JobRejected(f"no grouped stays in {', '.join(map(str, years))} to calibrate on")
    cal = Calibrator(params)
    for drg in sorted(by_drg):
        cal.add_drg(drg, (Stay(y, drg, Decimal(c) / 100, los) for y, c, los in by_drg.pop(drg)))
    result = cal.finish()
    standard_id = uuid.uuid4()
    await s.execute(
        insert(PaymentStandard).values(
            id=standard_id,
            city_code=city,
            scheme_version_id=version_id,
            label=label,
            status="draft",
            avg_cost_all=result.avg_cost_all,
            source="calibration",
            created_by=ctx.scope.actor,
            parameters={
                "years": list(years),
                "year_weights": {str(k): str(v) for k, v in result.weights.items()},
                "iqr_k": str(params.iqr_k),
                "min_cases": params.min_cases,
                "max_cv": str(params.max_cv),
                "bed_day_prefixes": list(bed_day_prefixes),
                "stays": result.stays,
                "stays_trimmed": result.stays_trimmed,
                "ungrouped": ungrouped,
            },
        )
    )
    await s.execute(
        insert(PaymentStandardDrg),
        [
            {
                "standard_id": standard_id,
                "drg": g.drg,
                "cases": g.cases,
                "avg_cost": g.avg_cost,
                "base_points": g.base_points,
                "avg_los": g.avg_los,
                "cv": g.cv,
                "stable": g.stable,
                "base_group": False,
                "bed_day": g.bed_day,
                "avg_daily_cost": g.avg_daily_cost,
                "base_points_per_day": g.base_points_per_day,
                "tcm": False,
            }
            for g in result.groups.values()
        ],
    )
    await audit.record(
        s,
        ctx.scope,
        city,
        "standards.calibrated",
        f"payment_standard:{standard_id}",
        version=str(version_id),
        years=list(years),
        drgs=len(result.groups),
    )
    return {
        "payment_standard": str(standard_id),
        "avg_cost_all": str(result.avg_cost_all),
        "drgs": len(result.groups),
        "stable": sum(g.stable for g in result.groups.values()),
        "stays": result.stays,
        "trimmed": result.stays_trimmed,
        "ungrouped": ungrouped,
        "drgs_without_stays": grouper.tables.drg_count - len(result.groups),
    }
