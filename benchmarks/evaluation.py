"""Evaluation and supervision benchmark on a 1,000,000-case city year, database included.

    .venv/bin/python -m benchmarks.ingest          # 1,000,000 stays of 2025 into dianshu_bench_ingest
    .venv/bin/python -m benchmarks.regroup         # group them under ZJ-DRG 2022
    .venv/bin/python -m benchmarks.settlement --repeat 1   # a payment standard and points runs
    .venv/bin/python -m benchmarks.evaluation [--processes 2] [--repeat 3]

On that database it publishes the built-in evaluation catalogue (once), then times, each repeated
and the median reported (the issue's goal: each under 60 s for the city year):
  indicators  compute_indicators over every region of the city (the city's peers), one process;
  evaluation  the evaluation job of every region (indicators, entered values, scoring, the draft run)
              through `dianshu worker --processes N`;
  rules       every supervision rule, one job per region, through the workers;
  signals     the PEPPER-style hospital signals, one job per region, through the workers;
  anomaly     the IsolationForest anomaly ranking of every case, one job per region, through the workers.
The workstation check's latency is benchmarks/workstation.py."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from sqlalchemy.engine import make_url

from benchmarks.common import CODES, through_workers
from dianshu.config import Settings, reset_settings
from dianshu.db.session import Database, scoped_session
from dianshu.evaluation.runs import RUN as EVALUATION
from dianshu.scope import Role, Scope
from dianshu.supervision.anomaly.service import ANOMALY
from dianshu.supervision.run import SUPERVISION_RUN
from dianshu.supervision.signals.service import SIGNALS
from dianshu.tenancy import pilot

YEAR = 2025


def _settings() -> Settings:
    base = Settings()
    os.environ["DATABASE_URL"] = (
        make_url(base.owner_url()).set(database="dianshu_bench_ingest").render_as_string(hide_password=False)
    )
    reset_settings()
    return Settings()


async def prepare(settings: Settings) -> None:
    """The built-in catalogue published (idempotent)."""
    from dianshu.evaluation.versions import ensure_builtin_catalogue

    owner = Database(settings.owner_url(), pool_size=1)
    try:
        scope = Scope.system((pilot.CITY[0], *CODES))
        async with scoped_session(owner, scope) as s:
            await ensure_builtin_catalogue(s, scope)
    finally:
        await owner.dispose()


async def time_indicators(db: Database) -> tuple[float, int]:
    from dianshu.evaluation.indicators import compute_indicators

    city = Scope(Role.city_admin, (pilot.CITY[0], *CODES), all_hospitals=True, actor="bench")
    t0 = time.perf_counter()
    async with scoped_session(db, city) as s:
        got = await compute_indicators(s, list(CODES), YEAR)
    return time.perf_counter() - t0, sum(got.cases.values())


def _line(name: str, seconds: list[float], what: str) -> str:
    return f"{name}: median {statistics.median(seconds):.1f}s ({', '.join(f'{x:.1f}' for x in seconds)}) {what}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=("indicators", "evaluation", "rules", "signals", "anomaly"), action="append")
    a = ap.parse_args()
    only = set(a.only or ("indicators", "evaluation", "rules", "signals", "anomaly"))
    settings = _settings()
    from dianshu_workers.actors import ACTORS  # noqa: F401  (the dispatcher sends to the broker)

    asyncio.run(prepare(settings))
    worker = subprocess.Popen(
        [str(Path(sys.executable).parent / "dianshu"), "worker", "--processes", str(a.processes), "--threads", "1"],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    time.sleep(3)

    async def run() -> list[str]:
        db = Database(settings.runtime_url(), pool_size=4)
        lines = []
        try:
            if "indicators" in only:
                runs, cases = [], 0
                for _ in range(a.repeat):
                    seconds, cases = await time_indicators(db)
                    runs.append(seconds)
                    print(f"indicators: {cases:,} cases in {seconds:.1f}s", flush=True)
                lines.append(_line("indicators", runs, f"for {cases:,} cases, city peers, one process"))
            for name, kind in (
                ("evaluation", EVALUATION),
                ("rules", SUPERVISION_RUN),
                ("signals", SIGNALS),
                ("anomaly", ANOMALY),
            ):
                if name not in only:
                    continue
                runs = []
                for _ in range(a.repeat):
                    r = await through_workers(db, worker.pid, kind, {c: {"year": YEAR} for c in CODES})
                    runs.append(r.seconds)
                    print(
                        f"{name}: {len(CODES)} region jobs in {r.seconds:.1f}s; CPU workers {r.worker_cpu_s:.1f}s"
                        + (f", PostgreSQL {r.server_cpu_s:.1f}s" if r.server_cpu_s is not None else ""),
                        flush=True,
                    )
                lines.append(_line(name, runs, f"{len(CODES)} region jobs on {a.processes} worker processes"))
        finally:
            await db.dispose()
        return lines

    try:
        lines = asyncio.run(run())
    finally:
        os.killpg(worker.pid, signal.SIGKILL)  # the jobs are done (or this run failed): no grace needed
        worker.wait(timeout=30)
    print(f"--- {date.today()}: medians of {a.repeat}")
    for line in lines:
        print(line)


if __name__ == "__main__":
    main()
