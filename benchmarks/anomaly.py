"""Supervision benchmark: the anomaly run (anomaly.run) and the signals run (signals.run) on a
generated city year, database included.

    .venv/bin/python -m benchmarks.anomaly [--cases 1000000] [--repeat 1] [--skip-setup] [--only anomaly.run]

Makes a fresh database `dianshu_bench_anomaly` with the pilot city (150 hospitals, 9 regions) and the
built-in standards, writes N grouped cases of 2025 straight into case_record and case_grouping by SQL
(generate_series: spread over the hospitals, costs, LOS, MCC/CC, charges and patients drawn at random
under a fixed seed; ingestion and grouping have their own benchmarks) and a published payment
standard over every ZJ-DRG group, then times each job for the whole city (one model over every
region), run in this process as a city admin's job, and prints the anomaly job's own split (load,
model, store), and the CPU seconds spent in this process and in PostgreSQL (wall time on a shared
machine says little)."""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from benchmarks.common import CODES, fresh_database, postmaster_pid, provision_pilot, server_cpu_seconds
from dianshu.config import Settings, reset_settings
from dianshu.db.session import Database, scoped_session
from dianshu.jobs import service as jobs
from dianshu.jobs.models import Job
from dianshu.scope import Role, Scope
from dianshu.standards.models import DrgSchemeVersion
from dianshu.supervision.anomaly.service import ANOMALY
from dianshu.supervision.signals.service import SIGNALS
from dianshu.tenancy import pilot

DATABASE = "dianshu_bench_anomaly"

CASES_SQL = """
with h as (select tenant_id, id, row_number() over (order by tenant_id, id) as k from hospital),
nh as (select count(*) as n from h),
g as (
  select i, random()::numeric as r1, random()::numeric as r2, random()::numeric as r3, random()::numeric as r4,
         random()::numeric as r5
  from generate_series(1, :n) i
),
c as (
  select g.*, h.tenant_id, h.id as hospital_id,
         timestamp '2025-01-01 09:00' + (floor(g.r1 * 330)::int || ' days')::interval as admit,
         1 + floor(g.r2 * g.r2 * 20)::int as los,
         round((2000 + g.r3 * g.r3 * 30000)::numeric, 0) as total
  from g join nh on true join h on h.k = 1 + (g.i % nh.n)
)
insert into case_record (tenant_id, hospital_id, list_id, version, is_current, status, batch_id, row_no,
  content_hash, mrn, patient_id, sex, age_years, fund_type, insured_place, admit_time, discharge_time, los_days,
  discharge_way, readmit_planned, coding, diagnoses, procedures, charges, total_cost, fund_pay, self_pay, own_pay,
  discharge_month)
select tenant_id, hospital_id, 'B' || i, 1, true, 'active', '00000000-0000-0000-0000-000000000000', i,
  left(md5(i::text), 32), 'M' || i, 'P' || (i % (:n / 3 + 1)), 1 + (i % 2), 20 + (i % 60), 'employee', 1,
  admit, admit + (los || ' days')::interval, los, 1, false, 'yibao', array['J18.900'], array[]::text[],
  array[round(total * 0.05, 2), 0, round(total * (0.05 + r4 * 0.1), 2), round(total * 0.1, 2), 0, 0, 0,
        round(total * r5 * 0.3, 2), round(total * (0.5 - r4 * 0.1 - r5 * 0.3), 2), 0, 0, 0, 0, 0]::numeric[],
  total, total - round(total * 0.2, 2) - round(total * r4 * 0.1, 2), round(total * 0.2, 2), round(total * r4 * 0.1, 2),
  date_trunc('month', admit + (los || ' days')::interval)::date
from c
"""

GROUPING_SQL = """
with drgs as (select array_agg(drg order by drg) as a from drg_group where version_id = :v)
insert into case_grouping (tenant_id, case_id, version_id, hospital_id, mdc, adrg, drg, status, mcc, cc, messages,
                           job_id)
select c.tenant_id, c.id, :v, c.hospital_id, left(d.drg, 1), left(d.drg, 3), d.drg, 'grouped',
       case when random() < 0.15 then array['A49.100x005'] else array[]::text[] end,
       case when random() < 0.3 then array['I10.x00x002'] else array[]::text[] end, '[]'::jsonb,
       '00000000-0000-0000-0000-000000000000'
from case_record c cross join drgs
cross join lateral (select drgs.a[1 + (c.id % array_length(drgs.a, 1))] as drg) d
"""


async def prepare(owner: Database, n: int) -> uuid.UUID:
    async with owner.session(None) as s, s.begin():
        zj = (
            await s.execute(select(DrgSchemeVersion.id).where(DrgSchemeVersion.scheme_code == "zhejiang_2022"))
        ).scalar_one()
        await s.execute(text("select setseed(0.42)"))
        t0 = time.perf_counter()
        await s.execute(text(CASES_SQL), {"n": n})
        await s.execute(text(GROUPING_SQL), {"v": zj})
        std = uuid.uuid4()
        await s.execute(
            text(
                "insert into payment_standard (id, city_code, scheme_version_id, label, status, avg_cost_all, source, "
                "parameters, created_by) values (:id, :c, :v, 'bench', 'draft', 9000, 'import', '{}', 'bench')"
            ),
            {"id": std, "c": pilot.CITY[0], "v": zj},
        )
        await s.execute(
            text(
                "insert into payment_standard_drg (standard_id, drg, cases, avg_cost, base_points, stable, base_group, "
                "bed_day, tcm) select :s, drg, 100, round((3000 + random() * 20000)::numeric, 2), 100, true, false, "
                "false, false from drg_group "
                "where version_id = :v"
            ),
            {"s": std, "v": zj},
        )
        await s.execute(
            text(
                "update payment_standard set status = 'published', effective_from = date '2025-01-01', "
                "published_at = now() where id = :s"
            ),
            {"s": std},
        )
        print(f"wrote {n:,} grouped cases in {time.perf_counter() - t0:.1f}s", flush=True)
    async with owner.session(None) as s, s.begin():
        await s.execute(text("analyze case_record"))
        await s.execute(text("analyze case_grouping"))
    return zj


async def time_job(db: Database, kind: str) -> tuple[float, dict[str, Any]]:
    city = Scope(Role.city_admin, (pilot.CITY[0], *CODES), all_hospitals=True, actor="bench")
    async with scoped_session(db, city) as s:
        job, _ = await jobs.submit(s, db, city, pilot.CITY[0], kind, {"year": 2025}, idempotency_key=str(uuid.uuid4()))
    postmaster = await postmaster_pid(db)
    server0 = server_cpu_seconds(postmaster) if postmaster else 0.0
    t0, c0 = time.perf_counter(), time.process_time()
    outcome = await jobs.execute(db, pilot.CITY[0], job.id)
    seconds = time.perf_counter() - t0
    cpu = time.process_time() - c0
    server = (server_cpu_seconds(postmaster) - server0) if postmaster else float("nan")
    print(f"{kind}: CPU {cpu:.1f}s in this process (the model), {server:.1f}s in PostgreSQL", flush=True)
    async with scoped_session(db, Scope.system((pilot.CITY[0],))) as s:
        j = (await s.execute(select(Job).where(Job.id == job.id))).scalar_one()
    assert outcome == "succeeded", j.error
    return seconds, j.result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--skip-setup", action="store_true", help="reuse the database an earlier run left")
    ap.add_argument("--only", choices=(ANOMALY, SIGNALS), help="time one job only")
    a = ap.parse_args()
    if a.skip_setup:
        base = Settings()
        os.environ["DATABASE_URL"] = (
            make_url(base.owner_url()).set(database=DATABASE).render_as_string(hide_password=False)
        )
        reset_settings()
        settings = Settings()
    else:
        settings = fresh_database(DATABASE)
        provision_pilot(settings, standards=True)

    async def run() -> None:
        owner = Database(settings.owner_url(), pool_size=1)
        db = Database(settings.runtime_url(), pool_size=2)
        try:
            if not a.skip_setup:
                await prepare(owner, a.cases)
            for kind in (a.only,) if a.only else (ANOMALY, SIGNALS):
                times = []
                for _ in range(a.repeat):
                    seconds, result = await time_job(db, kind)
                    times.append(seconds)
                    extra = result.get("seconds") or {k: result[k] for k in ("rows", "flagged") if k in result}
                    print(f"{kind}: {seconds:.1f}s {extra}", flush=True)
                print(f"{kind}: median {statistics.median(times):.1f}s over {a.repeat} run(s), {a.cases:,} cases")
        finally:
            await db.dispose()
            await owner.dispose()

    asyncio.run(run())


if __name__ == "__main__":
    main()
