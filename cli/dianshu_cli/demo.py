"""The demo pipeline: migrate, provision the pilot city, import hospitals through real jobs run
by an in-process Dramatiq worker, print tokens and an example query, serve the API."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select, text

from dianshu.config import Settings
from dianshu.db.session import Database, scoped_session
from dianshu.jobs import service as jobs
from dianshu.scope import Role, Scope
from dianshu.standards.service import ensure_builtin_standards
from dianshu.tenancy import pilot
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from dianshu.tenancy.models import Hospital
from dianshu_cli.jobs import wait_for_jobs
from dianshu_cli.migrate import upgrade
from dianshu_tenants.identity import TokenCodec
from dianshu_tenants.provisioning import ensure_service_account, ensure_tenants

DEMO_INTEGRATOR = "svc-demo-integrator"
DEMO_EFFECTIVE = date(2024, 1, 1)


def run_demo(
    settings: Settings, console: Console, *, serve_api: bool, host: str, port: int, n_hospitals: int, stays: int = 5000
) -> None:
    console.rule("[bold]Dianshu demo: pilot city 金华市 (330700)")
    where = "embedded PostgreSQL" if settings.embedded_database else "DATABASE_URL"
    broker = "embedded Redis" if settings.embedded_broker else ("REDIS_URL" if settings.redis_url else "AMQP_URL")
    console.print(f"database: {where}; broker: {broker}; state: {settings.state_dir.resolve()}")
    upgrade(settings)
    console.print("[green]✓[/green] migrations applied")

    from dianshu_workers.main import start_in_process

    worker = start_in_process(threads=2)
    try:
        summary = asyncio.run(_provision(settings, console, n_hospitals))
        summary["batches"] = asyncio.run(_cases(settings, console, n_hospitals, stays))
        asyncio.run(_settle(settings, console, summary))
    finally:
        worker.stop()
    _print_summary(console, summary)
    tokens = _print_tokens(settings, console, summary, host, port)
    if serve_api:
        _serve(settings, console, host, port, tokens)


async def _provision(settings: Settings, console: Console, n_hospitals: int) -> dict:
    owner = Database(settings.owner_url(), pool_size=1)
    db = Database(settings.runtime_url(), pool_size=4)
    try:
        created = await ensure_tenants(owner, pilot.CITY, [(c, n) for c, n, _ in pilot.REGIONS])
        console.print(f"[green]✓[/green] tenant registry: city + {len(pilot.REGIONS)} regions ({created} new)")
        await ensure_service_account(
            owner, DEMO_INTEGRATOR, "Demo third-party team", [pilot.REGIONS[0][0], pilot.REGIONS[1][0]]
        )
        with console.status("loading the DRG standards (CHS-DRG 1.1, ZJ-DRG 2022) ..."):
            versions = await ensure_builtin_standards(owner, settings.owner_url(), DEMO_EFFECTIVE, "demo")
        console.print(f"[green]✓[/green] DRG standards published: {', '.join(versions)}")
        roster = pilot.hospitals(n_hospitals)
        by_region: dict[str, list[dict]] = {}
        for h in roster:
            by_region.setdefault(h.tenant_id, []).append(
                {
                    "id": h.id,
                    "name": h.name,
                    "level": h.level,
                    "type": h.type,
                    "coefficient": "1.0",
                    "alliance_id": h.alliance_id,
                }
            )
        submitted = await _submit_per_region(
            db,
            IMPORT_HOSPITALS,
            {
                code: ({"hospitals": rows}, f"demo-roster-{code}-{jobs.params_hash({'hospitals': rows})[:16]}")
                for code, rows in by_region.items()
            },
        )
        await wait_for_jobs(db, console, submitted)
        all_codes = [pilot.CITY[0]] + [c for c, _, _ in pilot.REGIONS]
        async with scoped_session(db, Scope.system(all_codes)) as s:
            counts = dict(
                (await s.execute(select(Hospital.tenant_id, func.count()).group_by(Hospital.tenant_id))).all()
            )
            first_hospital = (
                await s.execute(
                    select(Hospital).where(Hospital.tenant_id == pilot.REGIONS[0][0]).order_by(Hospital.id).limit(1)
                )
            ).scalar_one()
        return {"counts": counts, "hospital": first_hospital.id}
    finally:
        await db.dispose()
        await owner.dispose()


async def _submit_per_region(
    db: Database, kind: str, per_region: dict[str, tuple[dict, str]]
) -> list[tuple[str, uuid.UUID]]:
    """Submit one job of `kind` per region, as that region's admin (idempotent by key)."""
    submitted = []
    for code, (params, key) in per_region.items():
        scope = Scope(Role.region_admin, (code,), all_hospitals=True, actor=f"demo@{code}")
        async with scoped_session(db, scope) as s:
            job, _ = await jobs.submit(s, db, scope, code, kind, params, idempotency_key=key)
        submitted.append((code, job.id))
    return submitted


async def _cases(settings: Settings, console: Console, n_hospitals: int, stays: int) -> list:
    """Generate a small city year and ingest it through the real job path (idempotent: the same
    seed gives the same files, and re-sent batches are recognised by key and content)."""
    from dianshu.synthetic.city import GenerateOptions, generate_city
    from dianshu_cli.cases import ingest_files, manifest_items

    out = settings.state_dir / "pilot-city"
    with console.status(f"generating {stays:,} stays of 2025 for the pilot city ..."):
        generate_city(out, GenerateOptions(years=(2025,), stays_per_year=stays, hospitals=n_hospitals, seed=2026))
    db = Database(settings.runtime_url(), pool_size=4)
    try:
        batches = await ingest_files(db, console, manifest_items(out), "demo", "demo")
    finally:
        await db.dispose()
    await _group(db_url=settings.runtime_url(), console=console)
    accepted = sum(b.rows_accepted for b in batches)
    console.print(
        f"[green]✓[/green] settlement lists ingested: {sum(b.rows_total for b in batches):,} rows, "
        f"{accepted:,} accepted now, {sum(b.rows_unchanged for b in batches):,} unchanged, "
        f"{sum(b.rows_refused for b in batches):,} refused"
    )
    return batches


async def _group(db_url: str, console: Console) -> None:
    """Group the year under the city's scheme (ZJ-DRG) and the national one (CHS-DRG), per region."""
    from dianshu.grouping.drg_codes import is_ungroupable
    from dianshu.grouping.service import GROUP_CASES
    from dianshu.standards.models import DrgSchemeVersion

    db = Database(db_url, pool_size=4)
    try:
        async with db.session(None) as s:
            versions = dict(
                (
                    await s.execute(
                        select(DrgSchemeVersion.scheme_code, DrgSchemeVersion.id).where(
                            DrgSchemeVersion.status == "published"
                        )
                    )
                ).all()
            )
        params = {
            "from": "2025-01",
            "to": "2025-12",
            "versions": [str(versions["zhejiang_2022"]), str(versions["chs_drg_11"])],
        }
        key = f"demo-group-2025-{jobs.params_hash(params)[:12]}"
        submitted = await _submit_per_region(db, GROUP_CASES, {code: (params, key) for code, _, _ in pilot.REGIONS})
        await wait_for_jobs(db, console, submitted, "grouping under ZJ-DRG 2022 and CHS-DRG 1.1")
        codes = tuple(c for c, _, _ in pilot.REGIONS)
        async with scoped_session(db, Scope.system(codes)) as s:
            rows = (
                await s.execute(
                    text("""
                select v.scheme_code, g.drg, count(*) as n, sum(count(*)) over (partition by v.scheme_code) as total,
                       sum(count(*)) filter (where g.status = 'grouped') over (partition by v.scheme_code) as grouped
                from case_grouping g join drg_scheme_version v on v.id = g.version_id
                group by v.scheme_code, g.drg, g.status order by v.scheme_code, n desc""")
                )
            ).all()
        table = Table(title="Grouping of 2025: rate and the five largest DRGs per scheme")
        for col in ("scheme", "grouped", "DRG", "stays"):
            table.add_column(col, justify="right")
        seen: dict[str, int] = {}
        for r in rows:
            if is_ungroupable(r.drg):
                continue
            seen[r.scheme_code] = seen.get(r.scheme_code, 0) + 1
            if seen[r.scheme_code] <= 5:
                rate = f"{(r.grouped or 0) / r.total:.1%}" if seen[r.scheme_code] == 1 else ""
                table.add_row(r.scheme_code if seen[r.scheme_code] == 1 else "", rate, r.drg, f"{r.n:,}")
        Console().print(table)
    finally:
        await db.dispose()


def _print_summary(console: Console, summary: dict) -> None:
    table = Table(title="Pilot city 金华市: hospitals and stays per pooling region")
    table.add_column("code")
    table.add_column("region")
    table.add_column("hospitals", justify="right")
    table.add_column("stays 2025", justify="right")
    stays = {b.tenant_id: b.rows_total for b in summary.get("batches", [])}
    for code, name, _ in pilot.REGIONS:
        table.add_row(code, name, str(summary["counts"].get(code, 0)), f"{stays.get(code, 0):,}")
    table.add_row("", "total", str(sum(summary["counts"].values())), f"{sum(stays.values()):,}")
    Console().print(table)


def _print_tokens(settings: Settings, console: Console, summary: dict, host: str, port: int) -> dict[str, str]:
    codec = TokenCodec(settings)
    region = pilot.REGIONS[0][0]
    tokens = {
        "city_admin": codec.encode(subject="demo-city-admin", role=Role.city_admin, tenant_ids=[pilot.CITY[0]]),
        "region_admin": codec.encode(subject="demo-region-admin", role=Role.region_admin, tenant_ids=[region]),
        "hospital_user": codec.encode(
            subject="demo-hospital-user", role=Role.hospital_user, tenant_ids=[region], hospital_id=summary["hospital"]
        ),
        "integrator": codec.encode(
            subject="demo-integrator", role=Role.integrator, tenant_ids=[region], service_account=DEMO_INTEGRATOR
        ),
    }
    token_file = settings.state_dir / "demo-tokens.json"
    token_file.write_text(json.dumps(tokens, indent=2))
    table = Table(title=f"Tokens (also in {token_file})")
    table.add_column("role")
    table.add_column("scope")
    table.add_row("city_admin", f"{pilot.CITY[0]} and all regions")
    table.add_row("region_admin", region)
    table.add_row("hospital_user", f"{region} / {summary['hospital']}")
    table.add_row("integrator", f"{region} via {DEMO_INTEGRATOR}")
    Console().print(table)
    query = (
        "{ me { role tenantCodes } "
        "hospitals(first: 5) { nodes { code name level type } pageInfo { hasNextPage endCursor } } }"
    )
    console.print("Example query:")
    console.print(
        f"  curl -s http://{host}:{port}/graphql -H 'Content-Type: application/json' "
        f'-H "Authorization: Bearer $(jq -r .region_admin {token_file})" '
        f"-d '{json.dumps({'query': query})}'",
        soft_wrap=True,
    )
    return tokens


def _serve(settings: Settings, console: Console, host: str, port: int, tokens: dict[str, str]) -> None:
    import uvicorn

    from dianshu_graphql.app import create_app
    from dianshu_workers.main import start_in_process

    worker = start_in_process(threads=2)
    console.print(f"[bold green]API on http://{host}:{port}/graphql[/bold green] (Ctrl-C to stop)")
    tokens_file = settings.state_dir / "demo-tokens.json"
    console.print(f"Portal on http://{host}:{port}/ (sign in with a token from {tokens_file})")
    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_config=None, log_level="info")
    finally:
        worker.stop()


async def _settle(settings: Settings, console: Console, summary: dict) -> None:
    """Calibrate and publish the city's payment standard on the year, set every region's budgets,
    run and publish the June pre-settlement, then the annual clearing of each region (all through
    the real jobs, idempotent by key), and write one hospital's statement as HTML and PDF."""
    from dianshu.reports.render import pdf
    from dianshu.settlement.models import SettlementRun
    from dianshu.settlement.reports.statements import to_html
    from dianshu.settlement.runs import budgets, policies
    from dianshu.settlement.runs.figures import city_overview, statement_data
    from dianshu.settlement.runs.publish import publish_run
    from dianshu.settlement.runs.settle import SETTLE
    from dianshu.standards.jobs import CALIBRATE
    from dianshu.standards.models import DrgSchemeVersion, PaymentStandard
    from dianshu.standards.service import publish_payment_standard
    from dianshu_cli.demo_evaluation import points_runs, supervise_and_evaluate
    from dianshu_cli.settlement import print_overview

    city = pilot.CITY[0]
    codes = tuple(c for c, _, _ in pilot.REGIONS)
    admin = Scope(Role.city_admin, (city, *codes), all_hospitals=True, actor="demo@city")
    db = Database(settings.runtime_url(), pool_size=4)
    try:
        async with scoped_session(db, admin) as s:
            std = (
                await s.execute(
                    select(PaymentStandard)
                    .where(PaymentStandard.city_code == city, PaymentStandard.status == "published")
                    .order_by(PaymentStandard.effective_from.desc())
                    .limit(1)  # the newest: a city may have published several
                )
            ).scalar_one_or_none()
            zj = (
                await s.execute(
                    select(DrgSchemeVersion.id)
                    .where(DrgSchemeVersion.scheme_code == "zhejiang_2022", DrgSchemeVersion.status == "published")
                    .order_by(DrgSchemeVersion.effective_from.desc())
                    .limit(1)
                )
            ).scalar_one()
        if std is None:
            async with scoped_session(db, admin) as s:
                job, _ = await jobs.submit(
                    s, db, admin, city, CALIBRATE, {"version": str(zj), "years": [2025]}, idempotency_key="demo-calib"
                )
            await wait_for_jobs(db, console, [(city, job.id)], "calibrating the payment standard on 2025")
            async with scoped_session(db, admin) as s:
                sid = (
                    await s.execute(select(PaymentStandard.id).where(PaymentStandard.city_code == city).limit(1))
                ).scalar_one()
                std = await publish_payment_standard(s, sid, date(2025, 1, 1))
        # A first year: no clearing of 2024 to take the provisional point value from. Points are
        # cost / avg_cost_all × 100, so a point is worth about avg_cost_all / 100 yuan.
        pv = (std.avg_cost_all / 100).quantize(Decimal("0.01"))
        for ledger in ("employee", "resident"):
            async with scoped_session(db, admin) as s:
                await policies.set_city_defaults(
                    s, admin, city, 2025, ledger, {"provisional_point_value": str(pv)}, "demo: first year"
                )
        for code in codes:
            region = Scope(Role.region_admin, (code,), all_hospitals=True, actor=f"demo@{code}")
            async with scoped_session(db, region) as s:
                for ledger in ("employee", "resident"):
                    spent = await budgets.spending(s, code, 2025, ledger)
                    await budgets.set_budget(
                        s,
                        region,
                        city,
                        code,
                        2025,
                        ledger,
                        growth_rate="0.03",
                        last_year_spending=str(spent or 1),
                        reason="demo: last year's spending × 1.03",
                    )
        for kind, month in (("monthly", 6), ("annual", 12)):
            params = {"kind": kind, "year": 2025, "month": month}
            per_region = {c: (params, f"demo-{kind}-2025-{month}") for c in codes}
            if kind == "annual":
                # The year's points run, then supervision and the published evaluation (issue 12),
                # which the annual clearing reads (its scores release the quality holdback).
                year_points = await points_runs(db, console)
                owner = Database(settings.owner_url(), pool_size=1)
                try:
                    await supervise_and_evaluate(owner, db, console)
                finally:
                    await owner.dispose()
                per_region = {c: ({**params, "points_run": year_points[c]}, f"demo-{kind}-2025-{month}") for c in codes}
            submitted = await _submit_per_region(db, SETTLE, per_region)
            await wait_for_jobs(
                db,
                console,
                submitted,
                f"{kind} settlement of 2025" + (f" through month {month}" if kind == "monthly" else ""),
            )
            if kind == "monthly":
                for code in codes:
                    region = Scope(Role.region_admin, (code,), all_hospitals=True, actor=f"demo@{code}")
                    async with scoped_session(db, region) as s:
                        runs = (
                            (
                                await s.execute(
                                    select(SettlementRun.id).where(
                                        SettlementRun.tenant_id == code,
                                        SettlementRun.kind == "monthly",
                                        SettlementRun.month == month,
                                        SettlementRun.status == "draft",
                                    )
                                )
                            )
                            .scalars()
                            .all()
                        )
                        for run_id in runs:
                            await publish_run(s, region, code, run_id)
        async with scoped_session(db, Scope(Role.city_viewer, (city, *codes), all_hospitals=True, actor="demo")) as s:
            overview = await city_overview(s, city, 2025)
        print_overview(Console(), 2025, overview)  # a table: stdout
        async with scoped_session(db, Scope.system(codes)) as s:
            runs = (
                (
                    await s.execute(
                        select(SettlementRun).where(SettlementRun.id.in_([uuid.UUID(r["run"]) for r in overview]))
                    )
                )
                .scalars()
                .all()
            )
        runs.sort(key=lambda r: (r.tenant_id, r.ledger))
        first = runs[0] if runs else None
        if first is not None:
            async with scoped_session(db, Scope.system((first.tenant_id,))) as s:
                hospital = (
                    await s.execute(
                        text("select hospital_id from settlement_line where run_id = :r order by due desc limit 1"),
                        {"r": first.id},
                    )
                ).scalar_one()
                data = await statement_data(s, first.tenant_id, first.id, hospital)
            out = settings.state_dir / "statements"
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"{first.tenant_id}-{hospital}-2025-{first.ledger}.html"
            page = to_html(data)
            path.write_text(page, encoding="utf-8")
            path.with_suffix(".pdf").write_bytes(pdf(page))  # the same page, printed (A4, signatures)
            console.print(f"[green]✓[/green] statement of {hospital} (with its chart by month): {path} and .pdf")
    finally:
        await db.dispose()
