"""Workstation-check benchmark: the served app in the production profile with several processes,
20 concurrent clients, for the GraphQL query, the REST endpoint and `{ me }` (the floor).

    .venv/bin/python -m benchmarks.workstation [--stays 20000] [--workers 2] [--clients 20]
                                                [--rates 0 2] [--seconds 10] [--runs 3] [--skip-setup]

Set-up (once; `--skip-setup` reuses it): a fresh database `dianshu_bench_workstation`, then the demo
pipeline on it (`run_demo`: the pilot city's 150 hospitals, a generated 2025 of `--stays` stays
ingested and grouped through the jobs, the payment standard calibrated and published, budgets, the
June pre-settlement and the annual clearing published, so 2026 drafts are priced at 2025's final
point value and 2025 drafts at the first year's fixed one).

Drafts are drawn from the generated cases (different DRGs, their newborns, ventilation and
surgical cases): the case's codes, age, sex, newborn fields, department and fund type, a cost so far
and days so far short of its stay, half of them in 2026; a third are readmissions (the same patient
at the same hospital, admitted 1 to 14 days after one of its discharges); some newborns lose their
birth weight, some drafts their discharge way. Each client is a hospital's system with its
hospital's own token.

The server is `dianshu serve --workers N` in a subprocess (DIANSHU_PROFILE=prod: POST only, no
introspection, masked errors; Redis is the embedded one through its socket). After a warm-up (every
draft once through GraphQL and REST, so each process has read each region-year), the clients are
Locust users (benchmarks/locust/requests_file.py, FastHttpUser, in a Locust process of their own)
on the same 2 cores as the server and the database: the figures are for the whole machine, and
noisy when other work runs. Each scenario runs `--seconds` once all clients are running, `--runs`
times; the median run (by p95) is reported.

Two loads (`--rates`): a closed loop (0: each client sends its next request as soon as the answer
is in, so the figures are the machine's saturation: latency = clients ÷ throughput), and a paced
one (2: each client a hospital's HIS sending about 2 checks a second, each after a random
think time, exponential with mean 0.5 s, so the clients' requests arrive independently)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from dianshu.cases.current import current_cases

DB_NAME = "dianshu_bench_workstation"
QUERY = (
    "query($d: WorkstationDraftInput!) { workstationCheck(draft: $d) { __typename "
    "... on WorkstationCheck { drg points expectedPayment costRatio highOutlierThreshold warnings { code } } "
    "... on ValidationError { message } ... on PermissionDenied { message } ... on NotFound { message } "
    "... on StateConflict { message } } }"
)
ME = "{ me { role tenantCodes hospitalCode } }"
CAMEL = {
    "patient_id": "patientId",
    "list_id": "listId",
    "age_years": "ageYears",
    "age_days": "ageDays",
    "birth_weight_g": "birthWeightG",
    "admission_time": "admissionTime",
    "discharge_time": "dischargeTime",
    "days_so_far": "daysSoFar",
    "discharge_dept": "dischargeDept",
    "discharge_way": "dischargeWay",
    "vent_hours": "ventHours",
    "icu_hours": "icuHours",
    "total_cost": "totalCost",
    "fund_type": "fundType",
}


def setup(stays: int, settings: Any) -> None:
    from rich.console import Console

    from dianshu_cli.demo import run_demo

    t0 = time.perf_counter()
    run_demo(settings, Console(stderr=True), serve_api=False, host="127.0.0.1", port=0, n_hospitals=150, stays=stays)
    print(f"set-up: demo pipeline on {stays:,} stays in {time.perf_counter() - t0:.0f}s", flush=True)


CASES_SQL = f"""
select c.hospital_id, c.patient_id, c.sex, c.age_years, c.age_days, c.birth_weight_g, c.admit_time,
       c.discharge_time, c.los_days, c.discharge_dept, c.discharge_way, c.diagnoses, c.procedures,
       c.vent_hours, c.icu_hours, c.total_cost, c.fund_type, g.drg
from case_record c
join payment_standard p on p.status = 'published'
join case_grouping g on g.tenant_id = c.tenant_id and g.case_id = c.id and g.version_id = p.scheme_version_id
where {current_cases("c")}
"""


async def load_cases(settings: Any) -> list[Any]:
    from dianshu.db.session import Database, scoped_session
    from dianshu.scope import Scope
    from dianshu.tenancy import pilot

    db = Database(settings.runtime_url(), pool_size=1)
    try:
        async with scoped_session(db, Scope.system([c for c, _, _ in pilot.REGIONS])) as s:
            return list((await s.execute(text(CASES_SQL))).all())
    finally:
        await db.dispose()


def drafts(cases: list[Any], n: int, seed: int = 12) -> list[tuple[str, dict[str, Any]]]:
    """(hospital, draft) pairs, spread over DRGs: at most a few per DRG before repeating."""
    rng = random.Random(seed)
    by_drg: dict[str, list[Any]] = {}
    for c in cases:
        by_drg.setdefault(c.drg, []).append(c)
    pool: list[Any] = []
    while len(pool) < n:
        for group in by_drg.values():
            pool.append(rng.choice(group))
    rng.shuffle(pool)
    out = []
    for i, c in enumerate(pool[:n]):
        readmit = i % 3 == 0
        later_year = not readmit and i % 2 == 0
        if readmit:
            admitted = c.discharge_time + timedelta(days=rng.randint(1, 14), hours=2)
        else:
            admitted = c.admit_time.replace(year=2026) if later_year else c.admit_time
        los = max(1, c.los_days)
        so_far = rng.randint(0, max(0, los - 1))
        share = Decimal(rng.randint(30, 110)) / 100
        d: dict[str, Any] = {
            "patient_id": c.patient_id,
            "sex": c.sex,
            "age_years": c.age_years,
            "admission_time": admitted.strftime("%Y-%m-%d %H:%M"),
            "discharge_time": (admitted + timedelta(days=los)).strftime("%Y-%m-%d %H:%M"),
            "days_so_far": so_far,
            "diagnoses": list(c.diagnoses),
            "procedures": list(c.procedures),
            "total_cost": str((c.total_cost * share).quantize(Decimal("0.01"))),
            "fund_type": c.fund_type,
        }
        if c.age_years == 0 and c.age_days is not None:
            d["age_days"] = c.age_days
            if c.birth_weight_g is not None and rng.random() < 0.7:
                d["birth_weight_g"] = c.birth_weight_g
        if c.discharge_dept:
            d["discharge_dept"] = c.discharge_dept
        if rng.random() < 0.5:
            d["discharge_way"] = c.discharge_way
        if c.vent_hours is not None and rng.random() < 0.8:
            d["vent_hours"] = str(c.vent_hours)
        if c.icu_hours is not None:
            d["icu_hours"] = str(c.icu_hours)
        out.append((c.hospital_id, d))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(workers: int, port: int, env: dict[str, str]) -> subprocess.Popen:
    # The server's log (an access line per request) goes to a file: a pipe nobody reads fills up
    # and stops the server.
    log = tempfile.NamedTemporaryFile(prefix="dianshu-serve-", suffix=".log", delete=False)
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "dianshu"), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    server.log_path = log.name  # type: ignore[attr-defined]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"server exited: {Path(log.name).read_text()[-2000:]}")
        time.sleep(0.3)
    raise SystemExit("server did not become ready")


def stop_server(server: subprocess.Popen) -> None:
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)


def request_for(kind: str, hospital: str, d: dict[str, Any], tokens: dict[str, str]) -> tuple[str, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {tokens[hospital]}"}
    if kind == "rest":
        return "/workstation/check", {"json": {"draft": d}, "headers": headers}
    if kind == "graphql":
        variables = {"d": {CAMEL.get(k, k): v for k, v in d.items()}}
        return "/graphql", {"json": {"query": QUERY, "variables": variables}, "headers": headers}
    return "/graphql", {"json": {"query": ME}, "headers": headers}


EXPECT = {"rest": '"drg"', "graphql": "WorkstationCheck", "me": '"role"'}


def prepared(kind: str, work: list[tuple[str, dict[str, Any]]], tokens: dict[str, str]) -> list[list[str]]:
    """The requests of `kind` for benchmarks/locust/requests_file.py: [path, body, token, expect]."""
    out = []
    for hospital, d in work:
        path, kw = request_for(kind, hospital, d, tokens)
        out.append([path, json.dumps(kw["json"], ensure_ascii=False), tokens[hospital], EXPECT[kind]])
    return out


def ok(kind: str, r: httpx.Response) -> bool:
    if r.status_code != 200:
        return False
    if kind == "rest":
        return "drg" in r.json()
    body = r.json()
    if body.get("errors"):
        return False
    return kind == "me" or body["data"]["workstationCheck"]["__typename"] == "WorkstationCheck"


async def warm_up(port: int, work: list[tuple[str, dict[str, Any]]], tokens: dict[str, str], clients: int) -> int:
    """Every draft once through GraphQL and REST: each server process reads each region-year's
    standing once (and compiles the grouper) on its first checks; the measured loads come after.
    Returns the failed answers (there should be none)."""
    failed = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=300) as client:
        for kind in ("graphql", "rest"):
            pending = iter(work)

            async def each(kind: str = kind, pending: Any = pending) -> None:
                nonlocal failed
                for hospital, d in pending:
                    path, kw = request_for(kind, hospital, d, tokens)
                    failed += not ok(kind, await client.post(path, **kw))

            await asyncio.gather(*(each() for _ in range(clients)))
    return failed


LOCUSTFILE = Path(__file__).resolve().parent / "locust" / "requests_file.py"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stays", type=int, default=20_000)
    ap.add_argument("--workers", type=int, nargs="+", default=[2], help="server processes (several: each measured)")
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument(
        "--rates",
        type=float,
        nargs="+",
        default=[0.0, 2.0],
        help="checks a second per client (0: closed loop, as fast as the server answers; 2: a paced HIS)",
    )
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--drafts", type=int, default=3000)
    ap.add_argument("--skip-setup", action="store_true", help="reuse the database of an earlier run")
    a = ap.parse_args()

    os.environ.setdefault("DIANSHU_JWT_SECRET", secrets.token_urlsafe(48))
    from benchmarks.common import BENCH_PSN_KEY

    os.environ.setdefault("DIANSHU_PSN_KEY", BENCH_PSN_KEY)
    from benchmarks.common import fresh_database, run_locust
    from dianshu.config import Settings, reset_settings
    from dianshu.embedded import embedded_redis
    from dianshu.scope import Role
    from dianshu_tenants.identity import TokenCodec

    if a.skip_setup:
        from sqlalchemy.engine import make_url

        base = make_url(Settings().owner_url())
        os.environ["DATABASE_URL"] = base.set(database=DB_NAME).render_as_string(hide_password=False)
        reset_settings()
        settings = Settings()
    else:
        settings = fresh_database(DB_NAME)
        setup(a.stays, settings)
    cases = asyncio.run(load_cases(settings))
    work = drafts(cases, a.drafts)
    drgs = len({c.drg for c in cases})
    newborns = sum(1 for _, d in work if d["age_years"] == 0)
    print(f"{len(cases):,} cases in {drgs} groups; {len(work):,} drafts ({newborns} newborns, a third readmissions)")
    codec = TokenCodec(settings)
    tenant_of = {c.hospital_id: c.hospital_id[1:7] for c in cases}
    tokens = {
        h: codec.encode(subject=f"his-{h}", role=Role.hospital_user, tenant_ids=[t], hospital_id=h)
        for h, t in tenant_of.items()
    }
    redis = embedded_redis(settings.state_dir)  # the server's broker, through its socket (kept alive here)
    env = {
        **os.environ,
        "DIANSHU_PROFILE": "prod",
        "DATABASE_URL": os.environ["DATABASE_URL"],
        "REDIS_URL": f"unix://{redis.socket_file}",
    }
    results: dict[str, Any] = {}
    for workers in a.workers:
        port = free_port()
        server = start_server(workers, port, env)
        try:
            failed = asyncio.run(warm_up(port, work, tokens, a.clients))
            print(f"warm-up: {2 * len(work):,} checks, {failed} failed", flush=True)
            with tempfile.TemporaryDirectory(prefix="dianshu-ws-") as d:
                for kind in ("me", "graphql", "rest"):
                    Path(d, f"{kind}.json").write_text(json.dumps(prepared(kind, work, tokens), ensure_ascii=False))
                for rate in a.rates:
                    for kind in ("me", "graphql", "rest"):
                        env = {
                            "DIANSHU_LOAD_REQUESTS": str(Path(d, f"{kind}.json")),
                            "DIANSHU_LOAD_NAME": kind,
                            "DIANSHU_LOAD_RATE": str(rate),
                        }
                        host = f"http://127.0.0.1:{port}"
                        runs = [run_locust(LOCUSTFILE, host, a.clients, a.seconds, env, kind) for _ in range(a.runs)]
                        median = sorted(runs, key=lambda r: r["p95_ms"])[len(runs) // 2]
                        pace = f"{rate:g}/s per client" if rate else "closed loop"
                        results[f"{workers}w/{kind}/{pace}"] = {"median": median, "runs": runs}
                        failed = sum(r["failed"] for r in runs)
                        print(
                            f"workers {workers}  {pace:18s} {kind:8s} p50 {median['p50_ms']:6.1f} ms  "
                            f"p95 {median['p95_ms']:6.1f} ms  p99 {median['p99_ms']:6.1f} ms  "
                            f"{median['per_s']:7.1f} req/s  "
                            f"(p95 of runs: {', '.join(format(r['p95_ms'], '.1f') for r in runs)}; {failed} failed)",
                            flush=True,
                        )
        finally:
            stop_server(server)
    print(json.dumps(results, indent=1, default=float))


if __name__ == "__main__":
    main()
