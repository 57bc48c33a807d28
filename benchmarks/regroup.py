"""Regroup a city year through the grouping jobs, database included.

    .venv/bin/python -m benchmarks.regroup [--processes 2] [--versions 1]

Runs on the database left by benchmarks/ingest.py (`dianshu_bench_ingest`, 1,000,000 stays of 2025):
loads the built-in standards, starts `dianshu worker --processes N`, submits one grouping job per
region (under ZJ-DRG 2022, and CHS-DRG 1.1 too with --versions 2) and waits for all of them."""

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

from sqlalchemy.engine import make_url

from benchmarks.common import CODES, through_workers
from dianshu.config import Settings, reset_settings
from dianshu.db.session import Database
from dianshu.grouping.service import GROUP_CASES
from dianshu.standards.service import ensure_builtin_standards
from dianshu.tenancy import pilot


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--versions", type=int, default=1, choices=(1, 2))
    a = ap.parse_args()
    base = Settings()
    os.environ["DATABASE_URL"] = (
        make_url(base.owner_url()).set(database="dianshu_bench_ingest").render_as_string(hide_password=False)
    )
    reset_settings()
    settings = Settings()
    from dianshu_workers.actors import ACTORS  # noqa: F401  (the dispatcher sends to the broker)

    async def prepare() -> dict[str, object]:
        owner = Database(settings.owner_url(), pool_size=1)
        try:
            return await ensure_builtin_standards(owner, settings.owner_url(), date(2024, 1, 1), "bench")
        finally:
            await owner.dispose()

    versions = asyncio.run(prepare())
    chosen = [str(versions["zhejiang_2022"])] + ([str(versions["chs_drg_11"])] if a.versions == 2 else [])
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "dianshu"), "worker", "--processes", str(a.processes), "--threads", "1"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    time.sleep(3)  # let the workers boot (each compiles its groupers on first use, inside the timing)

    async def run() -> tuple[float, int, float]:
        db = Database(settings.runtime_url(), pool_size=4)
        try:
            stamp = str(time.time())
            params = {"from": "2025-01", "to": "2025-12", "versions": chosen, "run": stamp}
            elapsed, rows, peak = await through_workers(db, worker.pid, GROUP_CASES, {c: params for c in CODES})
            return elapsed, sum(r.result["cases"] for r in rows), peak
        finally:
            await db.dispose()

    try:
        elapsed, cases, peak = asyncio.run(run())
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    print(
        f"regroup: {cases:,} cases × {a.versions} scheme(s) through {len(pilot.REGIONS)} jobs on {a.processes} "
        f"worker processes in {elapsed:.1f}s = {cases * a.versions / elapsed:,.0f} groupings/s (database included); "
        f"peak worker memory {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()
