"""The demo's supervision and evaluation of 2025 (issue 12), through the real jobs: the year's points
run, every supervision rule, the hospital signals and the anomaly ranking of each region; the
built-in catalogue published; the bureau's entered indicators (a survey, complaints, audit samples:
demo figures drawn from a fixed seed per hospital, marked as such); the evaluation of each region,
published so the annual clearing reads it. Prints the hospitals' scores by dimension and the top
findings."""

from __future__ import annotations

import random
import uuid
from decimal import Decimal

from rich.console import Console
from rich.table import Table
from sqlalchemy import select, text

from dianshu.db.session import Database, scoped_session
from dianshu.scope import Role, Scope
from dianshu.tenancy import pilot
from dianshu_cli.jobs import wait_for_jobs
from dianshu_cli.words import code_word, en, t

YEAR = 2025
# The bureau's demo entries: (code, low, high, whole number?) drawn per hospital from a fixed seed.
DEMO_ENTRIES = (
    ("C08", 80, 100, False),  # audit sample pass rate, %
    ("D08", 30, 80, False),  # clinical pathway rate, %
    ("E01", 75, 98, False),  # satisfaction survey score
    ("E02", 0, 12, True),  # complaints in the year (a count)
    ("E03", 70, 100, False),  # complaint resolution rate, %
    ("E04", 80, 99, False),  # follow-up satisfaction, %
    ("F07", 40, 100, False),  # training coverage, %
)


def _value(rng: random.Random, low: int, high: int, whole: bool) -> str:
    if whole:
        return str(rng.randint(low, high))
    return str(Decimal(rng.uniform(low, high)).quantize(Decimal("0.1")))


async def _submit(db: Database, kind: str, params: dict, key: str) -> list[tuple[str, uuid.UUID]]:
    from dianshu.jobs import service as jobs

    submitted = []
    for code, _, _ in pilot.REGIONS:
        scope = Scope(Role.region_admin, (code,), all_hospitals=True, actor=f"demo@{code}")
        async with scoped_session(db, scope) as s:
            job, _ = await jobs.submit(s, db, scope, code, kind, params, idempotency_key=f"{key}-{code}")
        submitted.append((code, job.id))
    return submitted


async def points_runs(db: Database, console: Console) -> dict[str, str]:
    """The year's points run of every region (through December): supervision, evaluation and the
    annual clearing all read it."""
    from dianshu.jobs.models import Job
    from dianshu.settlement.runs.points import POINTS

    submitted = await _submit(db, POINTS, {"year": YEAR, "month": 12}, f"demo-points-{YEAR}")
    await wait_for_jobs(db, console, submitted, t("{year} 年病例点数", year=YEAR))
    codes = tuple(c for c, _ in submitted)
    async with scoped_session(db, Scope.system(codes)) as s:
        rows = (await s.execute(select(Job.tenant_id, Job.result).where(Job.id.in_([j for _, j in submitted])))).all()
    return {r.tenant_id: r.result["points_run"] for r in rows}


async def supervise_and_evaluate(owner: Database, db: Database, console: Console) -> None:
    from dianshu.evaluation.entries import enter_indicator
    from dianshu.evaluation.runs import RUN, publish_run
    from dianshu.evaluation.versions import ensure_builtin_catalogue
    from dianshu.supervision.anomaly.service import ANOMALY
    from dianshu.supervision.run import SUPERVISION_RUN
    from dianshu.supervision.signals.service import SIGNALS

    city = pilot.CITY[0]
    codes = tuple(c for c, _, _ in pilot.REGIONS)
    for kind, what in (
        (SUPERVISION_RUN, t("{year} 年监管规则", year=YEAR)),
        (SIGNALS, t("{year} 年医院信号（PEPPER）", year=YEAR)),
        (ANOMALY, t("{year} 年异常排序", year=YEAR)),
    ):
        submitted = await _submit(db, kind, {"year": YEAR}, f"demo-{kind}-{YEAR}")
        await wait_for_jobs(db, console, submitted, what)

    operator = Scope.system((city, *codes))
    async with scoped_session(owner, operator) as s:
        version = await ensure_builtin_catalogue(s, operator)
    said = t("考核指标目录 {label} 已发布（{n} 项指标）", label=version.label, n=version.indicator_count)
    console.print(f"[green]✓[/green] {said}")
    entered = 0
    for code in codes:
        region = Scope(Role.region_admin, (code,), all_hospitals=True, actor=f"demo@{code}")
        async with scoped_session(db, region) as s:
            hospitals = (
                (await s.execute(text("select id from hospital where tenant_id = :t order by id"), {"t": code}))
                .scalars()
                .all()
            )
            for h in hospitals:
                rng = random.Random(f"demo-entries-{h}")  # noqa: S311  (demo figures, not secrets)
                for ind, low, high, whole in DEMO_ENTRIES:
                    await enter_indicator(s, region, code, h, YEAR, ind, _value(rng, low, high, whole), "demo figure")
                    entered += 1
    console.print(f"[green]✓[/green] {t('已录入 {n} 个指标值（演示数据）', n=entered)}")
    submitted = await _submit(db, RUN, {"year": YEAR}, f"demo-evaluation-{YEAR}")
    await wait_for_jobs(db, console, submitted, t("{year} 年考核评价", year=YEAR))
    from dianshu.evaluation.run_models import EvaluationRun

    for code in codes:
        region = Scope(Role.region_admin, (code,), all_hospitals=True, actor=f"demo@{code}")
        async with scoped_session(db, region) as s:
            run = (
                await s.execute(
                    select(EvaluationRun)
                    .where(EvaluationRun.tenant_id == code, EvaluationRun.year == YEAR)
                    .order_by(EvaluationRun.version.desc())
                    .limit(1)
                )
            ).scalar_one()
            if run.status == "draft":
                await publish_run(s, region, code, run.id)
    console.print(f"[green]✓[/green] {t('{year} 年考核评价结果已发布：年终清算读取其得分', year=YEAR)}")
    viewer = Scope(Role.city_viewer, (city, *codes), all_hospitals=True, actor="demo")
    async with scoped_session(db, viewer) as s:
        print_scores(console, await _scores(s))
        print_findings(console, await _findings(s))


async def _scores(s) -> list:
    return (
        await s.execute(
            text("""
            select r.tenant_id, r.hospital_id, h.name, r.level, r.total, r.rank_band, r.capped,
                   jsonb_object_agg(d.dimension, d.score) as dims
            from evaluation_result r
            join evaluation_run u on u.tenant_id = r.tenant_id and u.id = r.run_id and u.status = 'published'
            join hospital h on h.tenant_id = r.tenant_id and h.id = r.hospital_id
            join evaluation_dimension_score d on d.tenant_id = r.tenant_id and d.run_id = r.run_id
                                             and d.hospital_id = r.hospital_id
            where u.year = :y
            group by r.tenant_id, r.hospital_id, h.name, r.level, r.total, r.rank_band, r.capped
            order by r.total desc, r.hospital_id
            """),
            {"y": YEAR},
        )
    ).all()


async def _findings(s) -> list:
    return (
        await s.execute(
            text("""
            select f.tenant_id, f.hospital_id, f.rule, f.severity, f.figure, f.threshold, f.unit, f.priority,
                   (select count(*) from supervision_finding_case c
                    where c.tenant_id = f.tenant_id and c.finding_id = f.id) as cases
            from supervision_finding f
            where f.year = :y and f.state = 'open' and not f.stale
            order by f.priority desc nulls last,
                     case f.severity when 'high' then 0 when 'medium' then 1 else 2 end, f.detected_at
            limit 10
            """),
            {"y": YEAR},
        )
    ).all()


DIMENSIONS = ("comprehensive", "drg", "audit", "outcome", "satisfaction", "process")
# Short headers so the table fits a terminal: 综合指标 DRGs 审核结果 服务效果 满意度 医疗过程 (their
# English in dianshu.reports.labels.CLI).
SHORT = {
    "comprehensive": "综合",
    "drg": "DRGs",
    "audit": "审核",
    "outcome": "效果",
    "satisfaction": "满意",
    "process": "过程",
}


def print_scores(console: Console, rows: list, limit: int = 12) -> None:
    title = t("医院考核评价 {year}：各维度得分（{n} 家中的前后各 {k} 家）", year=YEAR, n=len(rows), k=limit // 2)
    table = Table(title=title)
    for col in ("医院", "级", *[SHORT[d] for d in DIMENSIONS], "总分", "档"):
        table.add_column(t(col), justify="left" if col == "医院" else "right")
    shown = rows if len(rows) <= limit else [*rows[: limit // 2], None, *rows[-limit // 2 :]]
    for r in shown:
        if r is None:
            table.add_row(*["…"] * (len(DIMENSIONS) + 4))
            continue
        dims = [("—" if r.dims.get(d) is None else f"{Decimal(str(r.dims[d])):.1f}") for d in DIMENSIONS]
        total = f"{r.total:.2f}" + (" ≤59" if r.capped else "")
        table.add_row(r.hospital_id, str(r.level), *dims, total, r.rank_band)
    Console().print(table)


def print_findings(console: Console, rows: list) -> None:
    from dianshu.supervision.catalogue import BY_CODE

    table = Table(title=t("智能监管 {year}：待处理的主要疑点（按审核队列顺序）", year=YEAR))
    for col in ("医院", "规则", "级别", "数值", "阈值", "病例"):
        table.add_column(t(col), justify="left" if col in ("医院", "规则", "级别") else "right")
    for r in rows:
        rule = BY_CODE.get(r.rule)
        table.add_row(
            r.hospital_id,
            (rule.name_en if en() else rule.name_zh) if rule else r.rule,
            code_word("severity", r.severity),
            "" if r.figure is None else f"{r.figure:,.2f} {r.unit}",
            "" if r.threshold is None else f"{r.threshold:,.2f}",
            str(r.cases),
        )
    Console().print(table)
