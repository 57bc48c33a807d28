"""The anomaly run (job anomaly.run): the year's case features of a region (or of every region of a
city) under the scheme version of the standard in force at the year's end, one IsolationForest for
that scheme and year, every case scored and explained, and each hospital's mean score and top-decile
share. Stored as a new run (anomaly_run, case_anomaly, hospital_anomaly), never changed.

Case scores are 0-100 with 2 places (model.py); the rank orders by the unrounded score, then case id.
Hospital: mean of its cases' stored scores (2 places, half-up), the share of its cases among the run's
top decile (rank ≤ ⌈n / 10⌉), and its rank by mean score (then tenant and hospital code)."""

from __future__ import annotations

import io
import math
import time
import uuid
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.db.copy import raw_connection, stage
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.kinds import job_kind
from dianshu.supervision.anomaly.features import FEATURES, SIGNATURE, load_features
from dianshu.supervision.anomaly.model import DRIVERS, score_cases
from dianshu.supervision.anomaly.models import AnomalyRun, CaseAnomaly, HospitalAnomaly
from dianshu.supervision.queue import prioritise
from dianshu.supervision.signals.coverage import check_params, check_year, coverage

ANOMALY = "anomaly.run"
STAGE = "anomaly_stage"
STAGE_COLUMNS = (
    ("tenant_ix", "int4"),
    ("case_id", "int8"),
    ("score", "float8"),
    ("rank", "int4"),
    *((c, t) for k in range(1, DRIVERS + 1) for c, t in ((f"d{k}", "int2"), (f"v{k}", "float8"), (f"m{k}", "float8"))),
)
_OUT = np.dtype(
    [("n", ">i2"), ("l_t", ">i4"), ("t", ">i4"), ("l_c", ">i4"), ("c", ">i8"), ("l_s", ">i4"), ("s", ">f8")]
    + [("l_r", ">i4"), ("r", ">i4")]
    + [
        x
        for k in range(1, DRIVERS + 1)
        for x in (
            (f"l_d{k}", ">i4"),
            (f"d{k}", ">i2"),
            (f"l_v{k}", ">i4"),
            (f"v{k}", ">f8"),
            (f"l_m{k}", ">i4"),
            (f"m{k}", ">f8"),
        )
    ]
)
_SIZES = {"i2": 2, "i4": 4, "i8": 8, "f8": 8}


def binary_rows(tenants: np.ndarray, ids: np.ndarray, scored: Any) -> bytes:
    """The stage's rows in COPY binary format, built by numpy."""
    out = np.empty(len(ids), dtype=_OUT)
    out["n"] = len(STAGE_COLUMNS)
    for name in _OUT.names:
        if name.startswith("l_"):
            out[name] = _SIZES[_OUT[name[2:]].str[-2:]]
    out["t"], out["c"], out["s"], out["r"] = tenants, ids, scored.score, scored.rank
    for k in range(DRIVERS):
        out[f"d{k + 1}"] = scored.drivers[:, k]
        out[f"v{k + 1}"] = scored.values[:, k]
        out[f"m{k + 1}"] = scored.medians[:, k]
    return SIGNATURE + b"\x00" * 8 + out.tobytes() + b"\xff\xff"


def _driver_columns() -> tuple[str, str]:
    cols, sel = [], []
    for k in range(1, DRIVERS + 1):
        cols += [f"driver_{k}", f"driver_{k}_value", f"driver_{k}_median"]
        sel += [
            f"(cast(:features as text[]))[s.d{k} + 1]",
            f"round(s.v{k}::numeric, 4)",
            f"round(s.m{k}::numeric, 4)",
        ]
    return ", ".join(cols), ", ".join(sel)


async def compute_anomaly(ctx: JobContext, year: int) -> tuple[uuid.UUID, dict[str, Any]]:
    s = ctx.session
    cov = await coverage(s, ctx.tenant_id, year)
    p = cov.policy
    tenants = list(cov.regions)
    await ctx.progress(0, None, "reading case features")
    t0 = time.perf_counter()
    pg = await raw_connection(s)
    f = await load_features(
        pg,
        tenants,
        cov.standard.scheme_version_id,
        cov.standard.id,
        cov.standard.avg_cost_all,
        year,
        p.signal_anomaly_gap_cap_days,
    )
    n = len(f)
    if n < 2:
        raise JobRejected(
            f"{n} case(s) of {year} grouped under the standard's scheme version {cov.standard.scheme_version_id}: "
            "the model needs at least 2 (run grouping for the year first)",
            field="cases",
        )
    t1 = time.perf_counter()
    await ctx.progress(0, n, f"{n:,} cases: fitting and scoring")
    scored = score_cases(
        f.X,
        f.groups,
        f.ids,
        seed=p.signal_anomaly_seed,
        trees=p.signal_anomaly_trees,
        max_samples=p.signal_anomaly_max_samples,
    )
    t2 = time.perf_counter()
    run_id = uuid.uuid4()
    parameters = {
        "model": "sklearn.ensemble.IsolationForest",
        "n_estimators": p.signal_anomaly_trees,
        "max_samples": min(p.signal_anomaly_max_samples, n),
        "gap_cap_days": p.signal_anomaly_gap_cap_days,
        "features": list(FEATURES),
        "drivers": "robust z against the DRG: (x - median) / (IQR / 1.349)",
        "standard": {"id": str(cov.standard.id), "label": cov.standard.label},
        "peers": cov.peers,
    }
    for region in tenants:
        s.add(
            AnomalyRun(
                tenant_id=region,
                id=run_id,
                year=year,
                requested_tenant=cov.requested,
                standard_id=cov.standard.id,
                scheme_version_id=cov.standard.scheme_version_id,
                seed=p.signal_anomaly_seed,
                n_cases=n,
                parameters=parameters,
                job_id=ctx.job_id,
                created_by=ctx.scope.actor,
            )
        )
    await s.flush()
    staged = await stage(s, STAGE, STAGE_COLUMNS)
    await staged.connection.copy_to_table(
        STAGE,
        source=io.BytesIO(binary_rows(f.tenants, f.ids, scored)),
        columns=[c for c, _ in STAGE_COLUMNS],
        format="binary",
    )
    # The planner's statistics of the staged rows and of the tenants' index (a subscripted array would
    # hide them), so that the joins below are hash joins rather than a million index look-ups.
    await s.execute(text(f"create temporary table {STAGE}_tenant (ix int4, tenant_id text) on commit drop"))
    await s.execute(
        text(f"insert into {STAGE}_tenant select i, t from unnest(cast(:t as text[])) with ordinality as u(t, i)"),
        {"t": tenants},
    )
    await s.execute(text(f"analyze {STAGE}"))
    await s.execute(text(f"analyze {STAGE}_tenant"))
    cols, sel = _driver_columns()
    params = {"r": run_id, "features": list(FEATURES), "v": cov.standard.scheme_version_id}
    await s.execute(
        text(
            f"insert into case_anomaly (tenant_id, run_id, case_id, hospital_id, list_id, drg, score, rank, {cols}) "
            f"select c.tenant_id, cast(:r as uuid), s.case_id, c.hospital_id, c.list_id, g.drg, "
            f"round(s.score::numeric, 2), s.rank, {sel} "
            f"from {STAGE} s join {STAGE}_tenant t on t.ix = s.tenant_ix "
            f"join case_record c on c.tenant_id = t.tenant_id and c.id = s.case_id "
            f"join case_grouping g on g.tenant_id = c.tenant_id and g.case_id = c.id and g.version_id = :v"
        ),
        params,
    )
    top = math.ceil(n / 10)
    await s.execute(
        text(
            "insert into hospital_anomaly (tenant_id, run_id, hospital_id, cases, mean_score, top_decile_cases, "
            "top_decile_share, rank) "
            "select tenant_id, run_id, hospital_id, cases, mean_score, top_cases, "
            "round(top_cases::numeric / cases, 4), "
            "row_number() over (order by mean_score desc, tenant_id, hospital_id) "
            "from (select tenant_id, run_id, hospital_id, count(*) as cases, round(avg(score), 2) as mean_score, "
            "count(*) filter (where rank <= :top) as top_cases from case_anomaly "
            "where tenant_id = any(cast(:tenants as text[])) and run_id = :r group by tenant_id, run_id, hospital_id) h"
        ),
        {"r": run_id, "tenants": tenants, "top": top},
    )
    # The open findings' audit-queue order follows the new scores.
    await prioritise(s, tenants, year)
    t3 = time.perf_counter()
    summary = {
        "anomaly_run": str(run_id),
        "year": year,
        "peers": cov.peers,
        "regions": len(tenants),
        "cases": n,
        "seed": p.signal_anomaly_seed,
        "seconds": {"load": round(t1 - t0, 2), "model": round(t2 - t1, 2), "store": round(t3 - t2, 2)},
    }
    await audit.record(s, ctx.scope, ctx.tenant_id, "supervision.anomaly", f"anomaly_run:{run_id}", **summary)
    return run_id, summary


@job_kind(ANOMALY, roles={"city_admin", "region_admin"}, check=check_params)
async def anomaly_job(ctx: JobContext) -> dict[str, Any]:
    _, summary = await compute_anomaly(ctx, check_year(ctx.params.get("year")))
    return summary


# ---- reads (under the caller's scope) ------------------------------------------------------------


async def latest_run(session: AsyncSession, tenant: str, year: int) -> AnomalyRun | None:
    R = AnomalyRun
    return (
        await session.execute(
            select(R).where(R.tenant_id == tenant, R.year == year).order_by(R.created_at.desc(), R.id).limit(1)
        )
    ).scalar_one_or_none()


async def case_anomaly_scores(session: AsyncSession, tenant: str, year: int) -> dict[tuple[str, str], Decimal]:
    """(hospital, list id) → the case's score in the latest anomaly run of the tenant's year (the
    cases the caller's scope sees; empty when there is no run). For the supervision audit queue."""
    run = await latest_run(session, tenant, year)
    if run is None:
        return {}
    C = CaseAnomaly
    rows = await session.execute(
        select(C.hospital_id, C.list_id, C.score).where(C.tenant_id == tenant, C.run_id == run.id)
    )
    return {(h, lid): score for h, lid, score in rows}


async def case_anomalies(
    session: AsyncSession,
    run: AnomalyRun,
    *,
    hospital: str | None = None,
    after_rank: int | None = None,
    limit: int | None = None,
) -> list[CaseAnomaly]:
    """The run's cases of its tenant by rank (the most unusual first)."""
    C = CaseAnomaly
    q = select(C).where(C.tenant_id == run.tenant_id, C.run_id == run.id)
    if hospital is not None:
        q = q.where(C.hospital_id == hospital)
    if after_rank is not None:
        q = q.where(C.rank > after_rank)
    q = q.order_by(C.rank)
    if limit is not None:
        q = q.limit(limit)
    return list((await session.execute(q)).scalars())


async def hospital_anomalies(
    session: AsyncSession, run: AnomalyRun, *, after_rank: int | None = None, limit: int | None = None
) -> list[HospitalAnomaly]:
    H = HospitalAnomaly
    q = select(H).where(H.tenant_id == run.tenant_id, H.run_id == run.id)
    if after_rank is not None:
        q = q.where(H.rank > after_rank)
    q = q.order_by(H.rank)
    if limit is not None:
        q = q.limit(limit)
    return list((await session.execute(q)).scalars())
