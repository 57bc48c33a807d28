"""Regroup a city year through the grouping jobs, database included.

    .venv/bin/python -m benchmarks.regroup [--processes 2] [--versions 1] [--diverse]

Runs on the database left by benchmarks/ingest.py (`dianshu_bench_ingest`, 1,000,000 stays of 2025
by default): loads the built-in standards, starts `dianshu worker --processes N`, submits one grouping
job per region (under ZJ-DRG 2022, and CHS-DRG 1.1 too with --versions 2) and waits for all of them.
With --diverse the same year is regrouped in a copy of that database (`dianshu_bench_diverse`,
made once) whose cases carry the diverse record set instead (dianshu.grouping.samples: every ADRG
equally often, codes as the tables write them, 0-15 secondary diagnoses); hospitals, months and
everything else stay the generator's."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from benchmarks.common import CODES, Run, through_workers
from dianshu.cases.current import current_cases
from dianshu.config import Settings, reset_settings
from dianshu.db.session import Database, scoped_session, sync_url
from dianshu.grouping.service import GROUP_CASES
from dianshu.scope import Scope
from dianshu.standards.service import ensure_builtin_standards
from dianshu.tenancy import pilot

CITY_DB = "dianshu_bench_ingest"
DIVERSE_DB = "dianshu_bench_diverse"


def use_database(name: str) -> Settings:
    """Point this process (and the workers it starts) at database `name` on the configured server."""
    base = Settings()
    os.environ["DATABASE_URL"] = make_url(base.owner_url()).set(database=name).render_as_string(hide_password=False)
    reset_settings()
    return Settings()


def _admin(settings: Settings, sql: str, database: str = "postgres") -> list[tuple]:
    engine = create_engine(
        sync_url(make_url(settings.owner_url()).set(database=database).render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        poolclass=pool.NullPool,
    )
    try:
        with engine.connect() as c:
            result = c.execute(text(sql))
            return [tuple(r) for r in result] if result.returns_rows else []
    finally:
        engine.dispose()


def year_cases(database: str) -> int | None:
    """Current, active cases discharged in 2025 in `database`, or None when it does not exist."""
    settings = use_database(database)
    if not _admin(settings, f"select 1 from pg_database where datname = '{database}'"):
        return None

    async def count() -> int:
        db = Database(settings.runtime_url(), pool_size=1)
        try:
            async with scoped_session(db, Scope.system(CODES)) as s:
                return (
                    await s.execute(
                        text(
                            f"select count(*) from case_record where {current_cases()} "
                            "and discharge_month between '2025-01-01' and '2025-12-01'"
                        )
                    )
                ).scalar_one()
        finally:
            await db.dispose()

    return asyncio.run(count())


def make_diverse_database(standard: str = "zhejiang_2022", seed: int = 7) -> int:
    """A copy of the city database whose cases carry the diverse record set (made once, reused
    while the city database keeps the same cases). Returns the number of cases rewritten."""
    from dianshu.grouping.samples import diverse_records
    from dianshu_cli.group import load_grouper

    settings = use_database(CITY_DB)
    _admin(settings, f'drop database if exists "{DIVERSE_DB}" with (force)')
    _admin(settings, f'create database "{DIVERSE_DB}" template "{CITY_DB}"')
    settings = use_database(DIVERSE_DB)
    g = load_grouper(standard)

    async def rewrite() -> int:
        db = Database(settings.runtime_url(), pool_size=1)
        try:
            async with scoped_session(db, Scope.system(CODES)) as s:
                ids = (await s.execute(text("select tenant_id, id from case_record order by tenant_id, id"))).all()
                await s.execute(
                    text(
                        "create temporary table diverse (tenant_id text, id bigint, sex smallint, age_years smallint, "
                        "age_days smallint, birth_weight_g integer, los_days integer, discharge_way smallint, "
                        "diagnoses text[], procedures text[], vent_hours numeric, icu_hours numeric, "
                        "discharge_dept text) on commit drop"
                    )
                )
                pg = (await (await s.connection()).get_raw_connection()).driver_connection
                records = [
                    (
                        t,
                        i,
                        r.sex,
                        r.age_years,
                        r.age_days,
                        r.birth_weight_g,
                        max(1, r.los_days or 1),
                        r.discharge_way,
                        list(r.diagnoses),
                        list(r.procedures),
                        r.vent_hours,
                        r.icu_hours,
                        r.dept,
                    )
                    for (t, i), r in zip(ids, diverse_records(g, len(ids), seed=seed), strict=True)
                ]
                await pg.copy_records_to_table("diverse", records=records)
                await s.execute(
                    text(
                        "update case_record c set sex = d.sex, age_years = d.age_years, age_days = d.age_days, "
                        "birth_weight_g = d.birth_weight_g, los_days = d.los_days, discharge_way = d.discharge_way, "
                        "diagnoses = d.diagnoses, procedures = d.procedures, vent_hours = d.vent_hours, "
                        "icu_hours = d.icu_hours, discharge_dept = d.discharge_dept, coding = 'yibao' "
                        "from diverse d where c.tenant_id = d.tenant_id and c.id = d.id"
                    )
                )
                await s.commit()
                return len(records)
        finally:
            await db.dispose()

    n = asyncio.run(rewrite())
    _admin(settings, "vacuum analyze case_record", DIVERSE_DB)  # the rewrite left a dead copy of every row
    return n


def regroup(database: str, processes: int = 2, versions: int = 1) -> tuple[Run, int]:
    """Regroup the 2025 year of `database` through the jobs: the run and its cases."""
    settings = use_database(database)
    from dianshu_workers.actors import ACTORS  # noqa: F401  (the dispatcher sends to the broker)

    async def prepare() -> dict[str, object]:
        owner = Database(settings.owner_url(), pool_size=1)
        try:
            return await ensure_builtin_standards(owner, settings.owner_url(), date(2024, 1, 1), "bench")
        finally:
            await owner.dispose()

    chosen_versions = asyncio.run(prepare())
    chosen = [str(chosen_versions["zhejiang_2022"])] + ([str(chosen_versions["chs_drg_11"])] if versions == 2 else [])
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "dianshu"), "worker", "--processes", str(processes), "--threads", "1"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    time.sleep(3)  # let the workers boot (each compiles its groupers on first use, inside the timing)

    async def run() -> tuple[Run, int]:
        db = Database(settings.runtime_url(), pool_size=4)
        try:
            stamp = str(time.time())
            params = {"from": "2025-01", "to": "2025-12", "versions": chosen, "run": stamp}
            done = await through_workers(db, worker.pid, GROUP_CASES, {c: params for c in CODES})
            return done, sum(r.result["cases"] for r in done.jobs)
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--versions", type=int, default=1, choices=(1, 2))
    ap.add_argument("--diverse", action="store_true", help="regroup the diverse record set (a copy of the city)")
    a = ap.parse_args()
    database = CITY_DB
    if a.diverse:
        city, diverse = year_cases(CITY_DB), year_cases(DIVERSE_DB)
        if city is None:
            raise SystemExit(f"no {CITY_DB}: run benchmarks.ingest first")
        if diverse != city:
            started = time.perf_counter()
            n = make_diverse_database()
            print(f"{DIVERSE_DB}: {n:,} cases rewritten with the diverse set in {time.perf_counter() - started:.0f}s")
        database = DIVERSE_DB
    done, cases = regroup(database, a.processes, a.versions)
    print(
        f"regroup ({'diverse' if a.diverse else 'city'}): {cases:,} cases × {a.versions} scheme(s) through "
        f"{len(pilot.REGIONS)} jobs on {a.processes} worker processes in {done.seconds:.1f}s = "
        f"{cases * a.versions / done.seconds:,.0f} groupings/s (database included); {cpu_text(done)}; "
        f"peak worker memory {done.peak_worker_mb:.0f} MB"
    )


def cpu_text(done: Run) -> str:
    """CPU seconds spent, a figure the machine's other load disturbs less than the wall time."""
    server = f", PostgreSQL {done.server_cpu_s:.1f}s" if done.server_cpu_s is not None else ""
    return f"CPU: workers {done.worker_cpu_s:.1f}s{server}"


if __name__ == "__main__":
    main()
