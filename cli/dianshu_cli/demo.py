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
from dianshu_cli.words import code_word, en, t
from dianshu_tenants.identity import TokenCodec
from dianshu_tenants.provisioning import ensure_service_account, ensure_tenants

DEMO_INTEGRATOR = "svc-demo-integrator"
DEMO_EFFECTIVE = date(2024, 1, 1)


def run_demo(
    settings: Settings, console: Console, *, serve_api: bool, host: str, port: int, n_hospitals: int, stays: int = 5000
) -> None:
    console.rule(f"[bold]{t('点数演示：试点城市 金华市（330700）')}")
    where = t("内置 PostgreSQL") if settings.embedded_database else "DATABASE_URL"
    broker = t("内置 Redis") if settings.embedded_broker else ("REDIS_URL" if settings.redis_url else "AMQP_URL")
    console.print(
        t(
            "数据库：{db}；消息队列：{broker}；状态目录：{state}",
            db=where,
            broker=broker,
            state=settings.state_dir.resolve(),
        )
    )
    upgrade(settings)
    console.print(f"[green]✓[/green] {t('数据库迁移已完成')}")

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
        said = t("租户登记：市 + {n} 个统筹区（新增 {created} 个）", n=len(pilot.REGIONS), created=created)
        console.print(f"[green]✓[/green] {said}")
        await ensure_service_account(
            owner, DEMO_INTEGRATOR, "Demo third-party team", [pilot.REGIONS[0][0], pilot.REGIONS[1][0]]
        )
        with console.status(t("正在载入 DRG 标准（CHS-DRG 1.1、ZJ-DRG 2022）...")):
            versions = await ensure_builtin_standards(owner, settings.owner_url(), DEMO_EFFECTIVE, "demo")
        console.print(f"[green]✓[/green] {t('DRG 标准已发布：{versions}', versions=', '.join(versions))}")
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
    with console.status(t("正在为试点城市生成 2025 年 {stays} 人次住院 ...", stays=f"{stays:,}")):
        generate_city(out, GenerateOptions(years=(2025,), stays_per_year=stays, hospitals=n_hospitals, seed=2026))
    db = Database(settings.runtime_url(), pool_size=4)
    try:
        batches = await ingest_files(db, console, manifest_items(out), "demo", "demo")
    finally:
        await db.dispose()
    await _group(db_url=settings.runtime_url(), console=console)
    accepted = sum(b.rows_accepted for b in batches)
    said = t(
        "结算清单已导入：{rows} 行，本次接收 {accepted}，未变 {unchanged}，拒收 {refused}",
        rows=f"{sum(b.rows_total for b in batches):,}",
        accepted=f"{accepted:,}",
        unchanged=f"{sum(b.rows_unchanged for b in batches):,}",
        refused=f"{sum(b.rows_refused for b in batches):,}",
    )
    console.print(f"[green]✓[/green] {said}")
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
        await wait_for_jobs(db, console, submitted, t("按 ZJ-DRG 2022 和 CHS-DRG 1.1 分组"))
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
        table = Table(title=t("2025 年分组：各方案的入组率和人次最多的五个 DRG"))
        for col in ("方案", "入组率", "DRG", "住院人次"):
            table.add_column(t(col), justify="right")
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
    table = Table(title=t("试点城市 金华市：各统筹区的医院和住院人次"))
    table.add_column(t("代码"))
    table.add_column(t("统筹区"))
    table.add_column(t("医院数"), justify="right")
    table.add_column(t("2025 年住院人次"), justify="right")
    stays = {b.tenant_id: b.rows_total for b in summary.get("batches", [])}
    for code, name, _ in pilot.REGIONS:
        table.add_row(code, name, str(summary["counts"].get(code, 0)), f"{stays.get(code, 0):,}")
    table.add_row("", t("合计"), str(sum(summary["counts"].values())), f"{sum(stays.values()):,}")
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
    table = Table(title=t("令牌（另存于 {file}）", file=token_file))
    table.add_column(t("角色"))
    table.add_column(t("范围"))

    def role(r: str) -> str:  # the code is the token file's key
        return r if en() else f"{r}（{code_word('role', r)}）"

    table.add_row(role("city_admin"), t("{city} 及所有统筹区", city=pilot.CITY[0]))
    table.add_row(role("region_admin"), region)
    table.add_row(role("hospital_user"), f"{region} / {summary['hospital']}")
    table.add_row(role("integrator"), t("{region}，经 {account}", region=region, account=DEMO_INTEGRATOR))
    Console().print(table)
    query = (
        "{ me { role tenantCodes } "
        "hospitals(first: 5) { nodes { code name level type } pageInfo { hasNextPage endCursor } } }"
    )
    console.print(t("查询示例："))
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
    api = t("API 地址 http://{host}:{port}/graphql", host=host, port=port)
    console.print(f"[bold green]{api}[/bold green] {t('（Ctrl-C 停止）')}")
    tokens_file = settings.state_dir / "demo-tokens.json"
    console.print(t("门户地址 http://{host}:{port}/（用 {file} 中的令牌登录）", host=host, port=port, file=tokens_file))
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
            await wait_for_jobs(db, console, [(city, job.id)], t("按 2025 年数据测算支付标准"))
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
                t("{year} 年{kind}（截至 {month} 月）", year=2025, kind=code_word("kind", kind), month=month)
                if kind == "monthly"
                else t("{year} 年{kind}", year=2025, kind=code_word("kind", kind)),
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
            said = t("{hospital} 的结算单（含按月图表）：{path} 及 .pdf", hospital=hospital, path=path)
            console.print(f"[green]✓[/green] {said}")
    finally:
        await db.dispose()
