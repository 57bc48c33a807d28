"""Shared set-up for benchmarks: a fresh database with the pilot city provisioned."""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, pool, select, text
from sqlalchemy.engine import make_url

from dianshu.config import Settings, reset_settings
from dianshu.db.session import Database, scoped_session, sync_url
from dianshu.jobs import service as jobs
from dianshu.jobs.models import Job
from dianshu.scope import Role, Scope
from dianshu.tenancy import pilot
from dianshu.tenancy.service import upsert_hospitals, validate_roster

# The patient-id key of the served benchmarks (prod profile needs one and refuses the dev key). Not a
# secret: a benchmark's data are generated. Fixed, so a run with --skip-setup hashes as the set-up did.
BENCH_PSN_KEY = "dianshu-benchmark-psn-key: generated data only, never a real site's"


def fresh_database(name: str) -> Settings:
    """Drop and recreate database `name` on the configured server (embedded by default), migrate it,
    and point this process's settings (and child processes') at it."""
    from dianshu_cli.migrate import upgrade

    base = Settings()
    admin = make_url(base.owner_url())
    engine = create_engine(
        sync_url(admin.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        poolclass=pool.NullPool,
    )
    with engine.connect() as c:
        c.execute(text(f'drop database if exists "{name}" with (force)'))
        c.execute(text(f'create database "{name}"'))
    engine.dispose()
    os.environ["DATABASE_URL"] = admin.set(database=name).render_as_string(hide_password=False)
    reset_settings()
    settings = Settings()
    upgrade(settings)
    return settings


def provision_pilot(settings: Settings, hospitals: int = 150, standards: bool = False) -> None:
    from dianshu_tenants.provisioning import ensure_tenants

    async def run() -> None:
        owner = Database(settings.owner_url(), pool_size=1)
        db = Database(settings.runtime_url(), pool_size=2)
        try:
            await ensure_tenants(owner, pilot.CITY, [(c, n) for c, n, _ in pilot.REGIONS])
            roster = pilot.hospitals(hospitals)
            for code, _, _ in pilot.REGIONS:
                rows = validate_roster(
                    code,
                    [
                        {"id": h.id, "name": h.name, "level": h.level, "type": h.type, "alliance_id": h.alliance_id}
                        for h in roster
                        if h.tenant_id == code
                    ],
                )
                async with scoped_session(db, Scope.system((code,))) as s:
                    await upsert_hospitals(s, rows)
            if standards:
                from dianshu.standards.service import ensure_builtin_standards

                await ensure_builtin_standards(owner, settings.owner_url(), date(2024, 1, 1), "bench")
        finally:
            await db.dispose()
            await owner.dispose()

    asyncio.run(run())


def peak_rss_mb(pids: set[int]) -> float:
    peak = 0.0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) / 1024)
        except OSError:
            pass
    return peak


def cpu_seconds(pids: set[int]) -> float:
    """User + system CPU time of these processes so far (0 for one that is gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / tick


def server_cpu_seconds(postmaster: int) -> float:
    """CPU of a PostgreSQL server so far: the postmaster, its live processes and (reaped by the
    postmaster, so counted in its children's times) the backends that have exited."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{postmaster}/stat").read_text().rsplit(")", 1)[1].split()
    reaped = int(fields[13]) + int(fields[14])  # cutime, cstime (fields 16 and 17 of stat)
    return reaped / tick + cpu_seconds(children(postmaster))


async def postmaster_pid(db: Database) -> int | None:
    """The server's postmaster when it runs on this machine (the parent of this connection's
    backend), else None."""
    async with scoped_session(db, Scope.system(CODES)) as s:
        backend = (await s.execute(text("select pg_backend_pid()"))).scalar_one()
    stat = Path(f"/proc/{backend}/stat")
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])  # noqa: ASYNC240  (a tiny /proc file)
    except OSError:
        return None


def children(pid: int) -> set[int]:
    out = {pid}
    try:
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            out |= children(int(child))
    except OSError:
        pass
    return out


CODES = tuple(c for c, _, _ in pilot.REGIONS)


@dataclass
class Run:
    seconds: float
    jobs: list[Any]
    peak_worker_mb: float
    worker_cpu_s: float  # all worker processes, from the first submission to the last job's end
    server_cpu_s: float | None  # the PostgreSQL server over the same time, when it runs here


async def through_workers(db: Database, worker_pid: int, kind: str, params: dict[str, dict[str, Any]]) -> Run:
    """Submit one job per region, wait for all."""
    postmaster = await postmaster_pid(db)
    workers0 = cpu_seconds(children(worker_pid))
    server0 = server_cpu_seconds(postmaster) if postmaster else None
    t0 = time.perf_counter()
    ids = []
    for code in CODES:
        scope = Scope(Role.region_admin, (code,), all_hospitals=True, actor="bench")
        async with scoped_session(db, scope) as s:
            job, _ = await jobs.submit(s, db, scope, code, kind, params[code])
        ids.append(job.id)
    peak = 0.0
    while True:
        peak = max(peak, peak_rss_mb(children(worker_pid)))
        async with scoped_session(db, Scope.system(CODES)) as s:
            rows = (
                await s.execute(select(Job.tenant_id, Job.status, Job.result, Job.error).where(Job.id.in_(ids)))
            ).all()
        if all(r.status in ("succeeded", "failed") for r in rows):
            break
        await asyncio.sleep(0.1)
    elapsed = time.perf_counter() - t0
    worker_cpu = cpu_seconds(children(worker_pid)) - workers0
    server_cpu = server_cpu_seconds(postmaster) - server0 if postmaster and server0 is not None else None
    failed = [r for r in rows if r.status == "failed"]
    if failed:
        raise SystemExit(f"{kind} jobs failed: {failed[0].error}")
    return Run(elapsed, rows, peak, worker_cpu, server_cpu)


def run_locust(
    locustfile: Path, host: str, users: int, seconds: float, env: dict[str, str], name: str | None = None
) -> dict[str, Any]:
    """Run `locustfile` headless in its own process (gevent there, asyncio here) with `users`
    concurrent users, all started at once, for `seconds` after they are all running (the stats are
    reset then: --reset-stats); return the aggregated p50/p95/p99 (ms), requests a second and
    failures from locust's CSV statistics. Locust rounds its percentiles (2 significant figures
    above 100 ms)."""
    import csv
    import subprocess
    import sys
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dianshu-locust-") as d:
        cmd = [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            str(locustfile),
            "--headless",
            "--host",
            host,
            "-u",
            str(users),
            "-r",
            str(users),
            "-t",
            f"{int(seconds + 1)}s",
            "--reset-stats",
            "--only-summary",
            "--csv",
            f"{d}/run",
            "--loglevel",
            "WARNING",
        ]
        done = subprocess.run(cmd, env={**os.environ, **env}, capture_output=True, text=True, timeout=seconds + 120)
        path = Path(f"{d}/run_stats.csv")
        if not path.exists():
            raise SystemExit(f"locust failed ({done.returncode}): {done.stderr[-2000:]}")
        rows = {r["Name"]: r for r in csv.DictReader(path.open())}
        failures = Path(f"{d}/run_failures.csv")
        examples = [r["Error"] for r in csv.DictReader(failures.open())] if failures.exists() else []
    total = rows.get(name or "Aggregated") or rows["Aggregated"]
    return {
        "requests": int(total["Request Count"]),
        "failed": int(total["Failure Count"]),
        "p50_ms": float(total["50%"]),
        "p95_ms": float(total["95%"]),
        "p99_ms": float(total["99%"]),
        "per_s": float(total["Requests/s"]),
        "failure_examples": examples[:3],
    }
