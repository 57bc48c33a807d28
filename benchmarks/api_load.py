"""API load benchmark: a hospital's analytics dashboard through the served app (production profile,
`dianshu serve --workers N`) on the 1,000,000-case year, 20 concurrent clients (Locust).

    .venv/bin/python -m benchmarks.api_load [--database dianshu_bench_analytics]
        [--template dianshu_bench_ingest] [--workers 2] [--clients 20] [--seconds 15] [--runs 3]
        [--year 2025] [--rate 0] [--skip-setup | --setup-only]

Set-up (once; `--skip-setup` reuses it): a copy of benchmarks.ingest's database (made by
benchmarks.ingest, grouped by benchmarks.regroup, with the points runs of benchmarks.settlement):
`create database <--database> template <--template>` (the template is never migrated, changed or
dropped; the copy needs no one connected to the template), migrated to this branch's head, then
one analytics.refresh job per region of the year, timed (the summary cells the dashboards read).

The dashboard is one GraphQL request per hospital user, with its own token: its year's total, by
department and by month (`analytics` three times, aliased), each row with the figures a dashboard
shows. Every hospital with cells is a client in turn. After a warm-up (each request once), Locust
(benchmarks/locust/requests_file.py, FastHttpUser, in its own process) runs `--clients` users in a
closed loop (each sends its next request when the answer is in) for `--seconds`, `--runs` times;
the median run by p95 is reported: p50, p95, p99 and requests a second. Goal: p95 under 100 ms.
Server, database and Locust share the machine's cores: the figures are the whole machine's."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

DASHBOARD = """query($t: String!, $y: Int!) {
  total: analytics(tenant: $t, year: $y) { nodes { figures { ...F } } }
  departments: analytics(tenant: $t, year: $y, groupBy: [department], first: 100) {
    nodes { key { department } figures { ...F } } }
  months: analytics(tenant: $t, year: $y, groupBy: [month], first: 12) { nodes { key { month } figures { ...F } } }
}
fragment F on AnalyticsFigures {
  cases cmi totalWeight costIndex timeIndex points expectedPayment cost profitLoss
  highOutlierShare lowOutlierShare drugShare consumablesShare ownPayShare overspendCases overspendAmount severeCases
}"""

LOCUSTFILE = Path(__file__).resolve().parent / "locust" / "requests_file.py"


def copy_database(template: str, name: str) -> None:
    """create database `name` template `template`, unless `name` exists (never touches the template)."""
    from dianshu.config import Settings
    from dianshu.db.session import sync_url

    admin = make_url(Settings().owner_url())
    engine = create_engine(
        sync_url(admin.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        poolclass=pool.NullPool,
    )
    with engine.connect() as c:
        if c.execute(text("select 1 from pg_database where datname = :n"), {"n": name}).first() is None:
            busy = c.execute(
                text("select count(*) from pg_stat_activity where datname = :t"), {"t": template}
            ).scalar_one()
            if busy:
                raise SystemExit(f"{template} has {busy} connection(s): copy it when no one is connected")
            t0 = time.perf_counter()
            c.execute(text(f'create database "{name}" template "{template}"'))
            print(f"set-up: {name} copied from {template} in {time.perf_counter() - t0:.0f}s", flush=True)
    engine.dispose()


def point_at(name: str) -> Any:
    from dianshu.config import Settings, reset_settings

    base = make_url(Settings().owner_url())
    os.environ["DATABASE_URL"] = base.set(database=name).render_as_string(hide_password=False)
    reset_settings()
    return Settings()


async def refresh_all(settings: Any, year: int) -> None:
    """One analytics.refresh per region, run in this process (timed)."""
    from dianshu.analytics.refresh import REFRESH
    from dianshu.db.session import Database, scoped_session
    from dianshu.jobs import service as jobs
    from dianshu.scope import Role, Scope
    from dianshu.tenancy import pilot

    db = Database(settings.runtime_url(), pool_size=2)
    try:
        total = 0.0
        for code, _, _ in pilot.REGIONS:
            scope = Scope(Role.region_admin, (code,), all_hospitals=True, actor="bench")
            async with scoped_session(db, scope) as s:
                job, _ = await jobs.submit(s, db, scope, code, REFRESH, {"year": year})
            t0 = time.perf_counter()
            outcome = await jobs.execute(db, code, job.id)
            took = time.perf_counter() - t0
            total += took
            async with scoped_session(db, Scope.system((code,))) as s:
                row = (await s.execute(text("select result, error from job where id = :i"), {"i": job.id})).one()
            if outcome != "succeeded":
                raise SystemExit(f"refresh of {code} failed: {row.error}")
            print(f"refresh {code} {year}: {row.result['cases']:,} cases, {row.result['cells']:,} cells in {took:.1f}s")
        print(f"refresh: every region in {total:.1f}s", flush=True)
    finally:
        await db.dispose()


async def hospitals_with_cells(settings: Any, year: int) -> list[tuple[str, str]]:
    from dianshu.db.session import Database, scoped_session
    from dianshu.scope import Scope
    from dianshu.tenancy import pilot

    db = Database(settings.runtime_url(), pool_size=1)
    try:
        async with scoped_session(db, Scope.system([c for c, _, _ in pilot.REGIONS])) as s:
            rows = await s.execute(
                text("select distinct tenant_id, hospital_id from analytics_cell where year = :y order by 1, 2"),
                {"y": year},
            )
            return [(r.tenant_id, r.hospital_id) for r in rows]
    finally:
        await db.dispose()


async def warm_up(port: int, requests: list[list[str]], clients: int) -> int:
    failed = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=120) as client:
        pending = iter(requests)

        async def each() -> None:
            nonlocal failed
            for path, body, token, expect in pending:
                r = await client.post(
                    path, content=body, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                )
                failed += r.status_code != 200 or expect not in r.text or '"errors"' in r.text

        await asyncio.gather(*(each() for _ in range(clients)))
    return failed


def response_cache_counts(port: int, token: str) -> dict[str, float]:
    """dianshu_analytics_response_cache_total by result, summed over the server's processes."""
    r = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    r.raise_for_status()
    counts: dict[str, float] = {}
    for line in r.text.splitlines():
        if line.startswith("dianshu_analytics_response_cache_total{"):
            labels, value = line.rsplit(" ", 1)
            result = labels.split('result="', 1)[1].split('"', 1)[0]
            counts[result] = counts.get(result, 0) + float(value)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--database", default="dianshu_bench_analytics", help="the copy to migrate and measure")
    ap.add_argument("--template", default="dianshu_bench_ingest", help="benchmarks.ingest's database (read only)")
    ap.add_argument("--year", type=int, default=2025)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument(
        "--rate", type=float, default=0.0, help="dashboards a second per client (0: closed loop, the saturation)"
    )
    ap.add_argument(
        "--response-cache-entries",
        type=int,
        default=None,
        help="the server's DIANSHU_ANALYTICS_RESPONSE_CACHE_ENTRIES (0: every request resolved)",
    )
    ap.add_argument("--skip-setup", action="store_true", help="reuse the migrated, refreshed copy")
    ap.add_argument("--setup-only", action="store_true", help="copy, migrate and refresh, then stop")
    a = ap.parse_args()
    if a.database == a.template:
        raise SystemExit("--database must be a copy, not the template")

    os.environ.setdefault("DIANSHU_JWT_SECRET", secrets.token_urlsafe(48))
    from benchmarks.common import BENCH_PSN_KEY

    os.environ.setdefault("DIANSHU_PSN_KEY", BENCH_PSN_KEY)
    from benchmarks.common import run_locust
    from benchmarks.workstation import free_port, start_server, stop_server
    from dianshu.embedded import embedded_redis
    from dianshu.scope import Role
    from dianshu_tenants.identity import TokenCodec

    if not a.skip_setup:
        copy_database(a.template, a.database)
    settings = point_at(a.database)
    if not a.skip_setup:
        from dianshu_cli.migrate import upgrade

        upgrade(settings)
        asyncio.run(refresh_all(settings, a.year))
    if a.setup_only:
        return
    hospitals = asyncio.run(hospitals_with_cells(settings, a.year))
    if not hospitals:
        raise SystemExit(f"no analytics cells of {a.year} in {a.database}: run without --skip-setup")
    codec = TokenCodec(settings)
    requests = []
    for tenant, hospital in hospitals:
        token = codec.encode(
            subject=f"dash-{hospital}", role=Role.hospital_user, tenant_ids=[tenant], hospital_id=hospital
        )
        body = json.dumps({"query": DASHBOARD, "variables": {"t": tenant, "y": a.year}})
        requests.append(["/graphql", body, token, '"departments"'])
    print(f"{len(hospitals)} hospitals' dashboards", flush=True)

    redis = embedded_redis(settings.state_dir)
    env = {
        **os.environ,
        "DIANSHU_PROFILE": "prod",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": f"unix://{redis.socket_file}",
        "DIANSHU_METRICS_TOKEN": (metrics_token := secrets.token_urlsafe(24)),
    }
    if a.response_cache_entries is not None:
        env["DIANSHU_ANALYTICS_RESPONSE_CACHE_ENTRIES"] = str(a.response_cache_entries)
    port = free_port()
    server = start_server(a.workers, port, env)
    try:
        failed = asyncio.run(warm_up(port, requests, a.clients))
        print(f"warm-up: {len(requests)} dashboards, {failed} failed", flush=True)
        with tempfile.TemporaryDirectory(prefix="dianshu-api-load-") as d:
            path = Path(d, "dashboard.json")
            path.write_text(json.dumps(requests))
            load_env = {
                "DIANSHU_LOAD_REQUESTS": str(path),
                "DIANSHU_LOAD_NAME": "dashboard",
                "DIANSHU_LOAD_RATE": str(a.rate),
            }
            host = f"http://127.0.0.1:{port}"
            runs = [run_locust(LOCUSTFILE, host, a.clients, a.seconds, load_env, "dashboard") for _ in range(a.runs)]
        cache = response_cache_counts(port, metrics_token)
        hits, misses = cache.get("hit", 0), cache.get("miss", 0)
        print(f"whole-response cache (warm-up included): {hits:,.0f} hits, {misses:,.0f} misses")
    finally:
        stop_server(server)
    median = sorted(runs, key=lambda r: r["p95_ms"])[len(runs) // 2]
    print(
        f"dashboard: {a.clients} clients, {a.workers} server processes, "
        f"{'closed loop' if not a.rate else f'{a.rate:g}/s per client'}: p50 {median['p50_ms']:.1f} ms  "
        f"p95 {median['p95_ms']:.1f} ms  p99 {median['p99_ms']:.1f} ms  {median['per_s']:.1f} req/s  "
        f"(p95 of runs: {', '.join(format(r['p95_ms'], '.1f') for r in runs)}; "
        f"{sum(r['failed'] for r in runs)} failed) goal p95 < 100 ms: {'met' if median['p95_ms'] < 100 else 'missed'}",
        flush=True,
    )
    print(json.dumps({"median": median, "runs": runs}, indent=1, default=float))
    sys.exit(0)


if __name__ == "__main__":
    main()
