"""`dianshu supervision rules | run | findings`: the rule catalogue, a supervision run through the real
job (an in-process worker runs it), and the top findings of a year."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from dianshu.scope import Role, Scope
from dianshu.tenancy import pilot
from dianshu_cli.words import code_word, t

if TYPE_CHECKING:
    from dianshu.db.session import Database

console = Console(stderr=True, soft_wrap=True)
app = typer.Typer(help="Smart supervision (智能监管): rules, runs, findings.", no_args_is_help=True)


@app.command("rules")
def rules(fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table") -> None:
    """Print the rule catalogue: code, names, level, severity, the violation a confirmation writes,
    the policy parameters."""
    from dianshu.supervision.catalogue import RULES

    if fmt == "json":
        out = [
            {
                "code": r.code,
                "name_zh": r.name_zh,
                "name_en": r.name_en,
                "level": r.level,
                "severity": r.severity,
                "violation": r.violation,
                "parameters": list(r.parameters),
                "description": r.description,
            }
            for r in RULES
        ]
        typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if fmt != "table":
        raise typer.BadParameter("table or json", param_hint="--format")
    table = Table(title=t("智能监管规则"), box=box.SIMPLE)
    for col in ("代码", "名称", "英文名称", "层级", "级别", "违规类型", "参数"):
        table.add_column(t(col))
    for r in RULES:
        table.add_row(
            r.code,
            r.name_zh,
            r.name_en,
            code_word("rule_level", r.level),
            code_word("severity", r.severity),
            r.violation or "—",
            "\n".join(r.parameters),
        )
    Console(width=200).print(table)


@app.command("run")
def run(
    year: Annotated[int, typer.Option()],
    tenant: Annotated[str, typer.Option(help="A region, or a city (all its regions, peers city-wide).")] = pilot.CITY[
        0
    ],
    month: Annotated[list[int] | None, typer.Option(help="Only these discharge months (repeat).")] = None,
    version: Annotated[str | None, typer.Option(help="DRG scheme version id (default: the standard's).")] = None,
    top: Annotated[int, typer.Option(help="Print the top N findings after the run.")] = 10,
) -> None:
    """Run the supervision rules as a job and print what it found."""
    from dianshu.config import get_settings
    from dianshu.db.session import Database, scoped_session
    from dianshu.jobs import service as jobs
    from dianshu.supervision.run import SUPERVISION_RUN
    from dianshu_cli.jobs import wait_for_jobs
    from dianshu_workers.main import start_in_process

    settings = get_settings()
    worker = start_in_process(threads=2)

    async def go() -> None:
        db = Database(settings.runtime_url(), pool_size=4)
        try:
            params: dict = {"year": year}
            if month:
                params["months"] = sorted(set(month))
            if version:
                params["version"] = version
            city = await _is_city(db, tenant)
            role = Role.city_admin if city else Role.region_admin
            scope = Scope(role, (tenant, *await _regions(db, tenant)), all_hospitals=True, actor="cli")
            async with scoped_session(db, scope) as s:
                job, _ = await jobs.submit(s, db, scope, tenant, SUPERVISION_RUN, params)
            await wait_for_jobs(db, console, [(tenant, job.id)], t("{year} 年智能监管", year=year))
            await print_findings(db, scope, year, top)
        finally:
            await db.dispose()

    try:
        asyncio.run(go())
    finally:
        worker.stop()


async def _regions(db: Database, tenant: str) -> list[str]:
    from sqlalchemy import text

    async with db.session(None) as s:
        return list(
            (await s.execute(text("select code from tenant where parent_code = :c order by code"), {"c": tenant}))
            .scalars()
            .all()
        )


async def _is_city(db: Database, tenant: str) -> bool:
    return bool(await _regions(db, tenant))


async def print_findings(db: Database, scope: Scope, year: int, top: int) -> None:
    """Findings per rule and state, then the top `top` in the audit queue's order."""
    from sqlalchemy import Numeric, case, cast, func, literal, select

    from dianshu.db.session import scoped_session
    from dianshu.supervision.models import SupervisionFinding as F

    async with scoped_session(db, scope) as s:
        counts = (
            await s.execute(
                select(F.rule, F.state, func.count()).where(F.year == year).group_by(F.rule, F.state).order_by(F.rule)
            )
        ).all()
        order = (
            func.coalesce(-F.priority, cast(literal("Infinity"), Numeric)),
            case((F.severity == "high", 0), (F.severity == "medium", 1), else_=2),
            F.detected_at,
            F.id,
        )
        rows = (
            await s.execute(select(F).where(F.year == year, F.state == "open").order_by(*order).limit(top))
        ).scalars()
        table = Table(title=t("{year} 年监管疑点：按规则", year=year), box=box.SIMPLE)
        for col in ("规则", "待处理", "已确认", "已排除"):
            table.add_column(t(col), justify="right")
        per: dict[str, dict[str, int]] = {}
        for rule, state, n in counts:
            per.setdefault(rule, {})[state] = n
        for rule, st in per.items():
            table.add_row(rule, *(f"{st.get(k, 0):,}" for k in ("open", "confirmed", "dismissed")))
        Console().print(table)
        tops = Table(title=t("待处理疑点前 {top} 条（按审核队列顺序）", top=top), box=box.SIMPLE)
        for col in ("级别", "规则", "医院", "数值", "阈值", "单位", "详情"):
            tops.add_column(t(col))
        for f in rows:
            detail = f.evidence.get("variant") or ""
            tops.add_row(
                code_word("severity", f.severity),
                f.rule,
                f.hospital_id,
                str(f.figure),
                str(f.threshold),
                f.unit,
                str(detail),
            )
        Console().print(tops)
