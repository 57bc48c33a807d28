"""Settlement benchmark: case points for a city year, the annual clearing of every region, and a
100,000-case simulation.

    .venv/bin/python -m benchmarks.ingest          # 1,000,000 stays of 2025 into dianshu_bench_ingest
    .venv/bin/python -m benchmarks.regroup         # group them under ZJ-DRG 2022
    .venv/bin/python -m benchmarks.settlement [--processes 2] [--repeat 3] [--prune]

On that database it calibrates and publishes a payment standard from the year (once), sets every
region's budget, then times:
  points     one points job per region through `dianshu worker --processes N` (database included);
  clearing   the annual clearing of every region and ledger from those points runs (through the workers);
  simulate   simulate() on a generated 100,000-case scenario (pure, no database).
Each is repeated and the median reported. With --prune, after each round the superseded points runs
are pruned (settlement/runs/prune.py, as `dianshu db prune-runs` does; timed), so case_point holds the
latest run only; the sizes of case_point and its partitions are printed after each round."""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from benchmarks.common import CODES, through_workers
from dianshu.config import Settings, reset_settings
from dianshu.db.session import Database, scoped_session
from dianshu.jobs import service as jobs
from dianshu.scope import Role, Scope
from dianshu.settlement.arithmetic.simulate import simulate
from dianshu.settlement.runs import budgets
from dianshu.settlement.runs.points import POINTS
from dianshu.settlement.runs.settle import SETTLE
from dianshu.standards.jobs import CALIBRATE
from dianshu.standards.models import PaymentStandard
from dianshu.standards.service import ensure_builtin_standards, publish_payment_standard
from dianshu.tenancy import pilot


def scenario(cases: int, seed: int = 7) -> dict[str, Any]:
    rnd = random.Random(seed)
    groups = [
        {"drg": f"G{i:03d}", "avg_cost": str(rnd.randint(3000, 60000)), "base_points": str(rnd.randint(30, 600))}
        for i in range(600)
    ]
    for g in groups[:30]:
        g["stable"] = False
    hospitals = [{"code": f"H{i:02d}", "coefficient": str(Decimal(rnd.randint(90, 115)) / 100)} for i in range(50)]
    out = []
    for i in range(cases):
        g = groups[rnd.randrange(600)] if rnd.random() > 0.01 else {"drg": "0000", "avg_cost": "10000"}
        cost = int(Decimal(g["avg_cost"]) * Decimal(rnd.lognormvariate(0, 0.5)))
        out.append(
            {
                "id": f"C{i}",
                "hospital": f"H{rnd.randrange(50):02d}",
                "drg": g["drg"],
                "total_cost": str(cost),
                "los_days": rnd.randint(1, 30),
                "discharge_way": rnd.choice((1, 1, 1, 1, 2, 5)),
                "self_pay": str(cost // 4),
                "fund_type": rnd.choice(("employee", "resident")),
            }
        )
    return {
        "standard": {"avg_cost_all": "12000"},
        "groups": groups,
        "hospitals": hospitals,
        "cases": out,
        "budget": {
            "employee": {"amount": "900000000", "fee_for_service_fund": "850000000"},
            "resident": {"amount": "900000000", "fee_for_service_fund": "950000000"},
        },
    }


async def prepare(settings: Settings, db: Database) -> None:
    """A published payment standard calibrated on the year, and every region's budget."""
    owner = Database(settings.owner_url(), pool_size=1)
    try:
        versions = await ensure_builtin_standards(owner, settings.owner_url(), date(2024, 1, 1), "bench")
    finally:
        await owner.dispose()
    city = Scope(Role.city_admin, (pilot.CITY[0], *CODES), all_hospitals=True, actor="bench")
    async with scoped_session(db, city) as s:
        published = (await s.execute(select(PaymentStandard.id).where(PaymentStandard.status == "published"))).first()
    if published is None:
        print("calibrating a payment standard on 2025 …", flush=True)
        async with scoped_session(db, city) as s:
            job, _ = await jobs.submit(
                s, db, city, pilot.CITY[0], CALIBRATE, {"version": str(versions["zhejiang_2022"]), "years": [2025]}
            )
        assert await jobs.execute(db, pilot.CITY[0], job.id) == "succeeded"
        async with scoped_session(db, city) as s:
            sid = (await s.execute(select(PaymentStandard.id).order_by(PaymentStandard.created_at.desc()))).scalar()
            await publish_payment_standard(s, sid, date(2025, 1, 1))
    for code in CODES:
        region = Scope(Role.region_admin, (code,), all_hospitals=True, actor="bench")
        async with scoped_session(db, region) as s:
            for ledger in ("employee", "resident"):
                spent = await budgets.spending(s, code, 2025, ledger)
                await budgets.set_budget(
                    s,
                    region,
                    pilot.CITY[0],
                    code,
                    2025,
                    ledger,
                    growth_rate="0.03",
                    last_year_spending=str(spent),
                    reason="benchmark",
                )


async def time_points(db: Database, worker_pid: int) -> tuple[float, int, float, dict[str, str], str]:
    stamp = str(time.time())
    params = {c: {"year": 2025, "month": 12, "run": stamp} for c in CODES}
    run = await through_workers(db, worker_pid, POINTS, params)
    elapsed, rows, peak = run.seconds, run.jobs, run.peak_worker_mb
    # CPU seconds say more than the wall time on a shared, loaded machine.
    cpu = f"CPU: workers {run.worker_cpu_s:.1f}s" + (
        f", PostgreSQL {run.server_cpu_s:.1f}s" if run.server_cpu_s is not None else ""
    )
    runs = {r.tenant_id: r.result["points_run"] for r in rows}
    return elapsed, sum(r.result["cases"] for r in rows), peak, runs, cpu


async def time_clearing(db: Database, worker_pid: int, runs: dict[str, str]) -> tuple[float, int]:
    params = {c: {"kind": "annual", "year": 2025, "points_run": runs[c]} for c in CODES}
    run = await through_workers(db, worker_pid, SETTLE, params)
    elapsed, rows = run.seconds, run.jobs
    return elapsed, sum(run["hospitals"] for r in rows for run in r.result["runs"])


async def time_prune(settings: Settings) -> None:
    from dianshu.settlement.runs.prune import prune_runs, vacuum_statements

    owner = Database(settings.owner_url(), pool_size=1)
    scope = Scope.system(CODES, actor="bench")
    try:
        t0 = time.perf_counter()
        async with scoped_session(owner, scope) as s:
            pruned = await prune_runs(s, scope, CODES)
        rows = sum(r.case_points for r in pruned)
        t1 = time.perf_counter()
        raw = await owner.engine.connect()
        try:
            await raw.execution_options(isolation_level="AUTOCOMMIT")
            for statement in vacuum_statements(pruned):
                await raw.execute(text(statement))
        finally:
            await raw.close()
        vacuumed = time.perf_counter() - t1
        print(f"prune: {len(pruned)} runs, {rows:,} case points in {t1 - t0:.2f}s, vacuum {vacuumed:.2f}s", flush=True)
    finally:
        await owner.dispose()


async def print_sizes(settings: Settings) -> None:
    """case_point's total size (table, indexes, TOAST), its partitions' included."""
    owner = Database(settings.owner_url(), pool_size=1)
    try:
        async with scoped_session(owner, None) as s:
            size = (
                await s.execute(
                    text("""select coalesce(sum(pg_total_relation_size(c.oid)), 0) from pg_class c
                            where c.relname = 'case_point' or c.oid in (
                              select inhrelid from pg_inherits where inhparent = 'case_point'::regclass)""")
                )
            ).scalar_one()
        print(f"case_point: {size / 2**20:,.0f} MiB", flush=True)
    finally:
        await owner.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scenario-cases", type=int, default=100_000)
    ap.add_argument("--prune", action="store_true", help="prune the superseded points runs after each round")
    a = ap.parse_args()

    sc = scenario(a.scenario_cases)
    sims = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        simulate(sc)
        sims.append(time.perf_counter() - t0)
    print(
        f"simulate: {a.scenario_cases:,} cases, median {statistics.median(sims):.2f}s "
        f"(runs {', '.join(f'{x:.2f}' for x in sims)})",
        flush=True,
    )

    base = Settings()
    os.environ["DATABASE_URL"] = (
        make_url(base.owner_url()).set(database="dianshu_bench_ingest").render_as_string(hide_password=False)
    )
    reset_settings()
    settings = Settings()
    from dianshu_workers.actors import ACTORS  # noqa: F401  (the dispatcher sends to the broker)

    async def setup() -> None:
        db = Database(settings.runtime_url(), pool_size=2)
        try:
            await prepare(settings, db)
        finally:
            await db.dispose()

    asyncio.run(setup())
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "dianshu"), "worker", "--processes", str(a.processes), "--threads", "1"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    time.sleep(3)

    async def run() -> None:
        db = Database(settings.runtime_url(), pool_size=4)
        points, clears = [], []
        try:
            for _ in range(a.repeat):
                elapsed, cases, peak, runs, cpu = await time_points(db, worker.pid)
                points.append(elapsed)
                print(
                    f"points: {cases:,} cases in {elapsed:.1f}s ({cases / elapsed:,.0f}/s), {cpu}, "
                    f"peak worker {peak:.0f} MB",
                    flush=True,
                )
                c_elapsed, lines = await time_clearing(db, worker.pid, runs)
                clears.append(c_elapsed)
                print(f"clearing: {len(CODES)} regions, {lines} hospital lines in {c_elapsed:.2f}s", flush=True)
                if a.prune:
                    await time_prune(settings)
                await print_sizes(settings)
        finally:
            await db.dispose()
        print(
            f"medians: points {statistics.median(points):.1f}s for the city year; clearing of all regions "
            f"{statistics.median(clears):.2f}s; simulation of {a.scenario_cases:,} cases {statistics.median(sims):.2f}s"
        )

    try:
        asyncio.run(run())
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)


if __name__ == "__main__":
    main()
