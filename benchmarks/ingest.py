"""Ingestion benchmark: generate N stays (timed), then ingest them through the real job path with
`dianshu worker --processes 2` and report rows per second and the workers' peak memory.

    .venv/bin/python benchmarks/ingest.py [--stays 1000000] [--processes 2]

Uses a fresh database `dianshu_bench_ingest` on the configured server (embedded by default)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import select

from benchmarks.common import children, cpu_seconds, fresh_database, peak_rss_mb, provision_pilot
from dianshu.cases.models import IngestionBatch
from dianshu.db.session import Database, scoped_session
from dianshu.jobs.models import Job
from dianshu.scope import Scope
from dianshu.synthetic.city import GenerateOptions, generate_city
from dianshu.tenancy import pilot


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stays", type=int, default=1_000_000)
    ap.add_argument("--processes", type=int, default=2)
    a = ap.parse_args()
    settings = fresh_database("dianshu_bench_ingest")
    provision_pilot(settings)
    out = Path(tempfile.mkdtemp(prefix="dianshu-bench-"))
    started = time.perf_counter()
    files = generate_city(out, GenerateOptions(years=(2025,), stays_per_year=a.stays, processes=a.processes))
    gen_s = time.perf_counter() - started
    size = sum((out / f.path).stat().st_size for f in files)
    print(f"generate: {a.stays:,} stays in {gen_s:.1f}s ({a.stays / gen_s:,.0f}/s), {size / 2**20:.0f} MiB gzipped")

    from dianshu_cli.cases import manifest_items
    from dianshu_workers.actors import ACTORS  # noqa: F401  (the dispatcher sends to the broker)

    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "dianshu"), "worker", "--processes", str(a.processes), "--threads", "1"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )

    async def run() -> tuple[float, float, list, float, float]:
        db = Database(settings.runtime_url(), pool_size=4)
        from dianshu.cases.ingest import BatchRequest
        from dianshu.cases.service import submit_batch
        from dianshu.scope import Role

        try:
            t0 = time.perf_counter()
            subs = []
            for tenant, path, rows, total in manifest_items(out):
                scope = Scope(Role.region_admin, (tenant,), all_hospitals=True, actor="bench")

                def chunks(path=path):
                    with path.open("rb") as fh:
                        while data := fh.read(1 << 20):
                            yield data

                from decimal import Decimal

                subs.append(
                    await submit_batch(
                        db,
                        scope,
                        BatchRequest(tenant, path.name, f"bench:{path.name}", "partial", rows, Decimal(total)),
                        chunks(),
                    )
                )
            upload_s = time.perf_counter() - t0
            t1 = time.perf_counter()
            cpu0 = cpu_seconds(children(worker.pid))
            peak = 0.0
            codes = tuple(c for c, _, _ in pilot.REGIONS)
            while True:
                peak = max(peak, peak_rss_mb(children(worker.pid)))
                async with scoped_session(db, Scope.system(codes)) as s:
                    statuses = (
                        (await s.execute(select(Job.status).where(Job.id.in_([x.job.id for x in subs]))))
                        .scalars()
                        .all()
                    )
                if all(st in ("succeeded", "failed") for st in statuses):
                    break
                await asyncio.sleep(0.5)
            ingest_s = time.perf_counter() - t1
            cpu = cpu_seconds(children(worker.pid)) - cpu0
            async with scoped_session(db, Scope.system(codes)) as s:
                batches = (await s.execute(select(IngestionBatch))).scalars().all()
            return upload_s, ingest_s, batches, peak, cpu
        finally:
            await db.dispose()

    try:
        upload_s, ingest_s, batches, peak, cpu = asyncio.run(run())
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the jobs are done (or this run failed): no grace needed
        worker.wait(timeout=30)
    rows = sum(b.rows_total for b in batches)
    accepted = sum(b.rows_accepted for b in batches)
    print(f"upload (files into the database): {upload_s:.1f}s")
    print(
        f"ingest (validate + stage + merge, {a.processes} worker processes): {rows:,} rows in {ingest_s:.1f}s "
        f"= {rows / ingest_s:,.0f} rows/s; accepted {accepted:,}, refused {sum(b.rows_refused for b in batches):,}"
    )
    print(
        f"worker CPU (user + system, all worker processes) while ingesting: {cpu:.1f}s = "
        f"{cpu / max(rows, 1) * 1e6:.0f} µs per row (less sensitive to a busy machine than the wall time)"
    )
    print(f"upload + ingest: {upload_s + ingest_s:.1f}s; peak worker memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
