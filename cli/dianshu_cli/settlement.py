"""`dianshu settlement run | list | publish | report`: settle regions through the real jobs (an
in-process worker runs them), list runs with their ids, publish runs, and print or write the city's
year region by region. Tables go to stdout; progress, messages and logs to stderr."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from dianshu.scope import Role, Scope
from dianshu.tenancy import pilot
from dianshu_cli.errors import red_line
from dianshu_cli.words import code_word, en, t

if TYPE_CHECKING:  # imported where used: the configuration and the database cost every `dianshu` command ~0.4 s
    from dianshu.db.session import Database

console = Console(stderr=True, soft_wrap=True)
out = Console()
app = typer.Typer(help="Monthly pre-settlement, annual clearing and the city's overview.", no_args_is_help=True)


async def _regions(db: Database, city: str) -> list[str]:
    from sqlalchemy import text

    async with db.session(None) as s:
        return list(
            (await s.execute(text("select code from tenant where parent_code = :c order by code"), {"c": city}))
            .scalars()
            .all()
        )


@app.command("run")
def run(
    kind: Annotated[str, typer.Option(help="monthly (year to date) or annual")],
    year: Annotated[int, typer.Option()],
    month: Annotated[int, typer.Option(help="Through this month (monthly runs).")] = 12,
    tenant: Annotated[list[str] | None, typer.Option(help="Region (repeat); default every region of the city.")] = None,
    city: Annotated[str, typer.Option()] = pilot.CITY[0],
) -> None:
    """Run a settlement for regions as a job each (draft runs; publish them after checking)."""
    from dianshu.config import get_settings
    from dianshu.db.session import Database, scoped_session
    from dianshu.jobs import service as jobs
    from dianshu.settlement.runs.settle import SETTLE
    from dianshu_cli.jobs import wait_for_jobs
    from dianshu_workers.main import start_in_process

    if kind not in ("monthly", "annual"):
        raise typer.BadParameter("monthly or annual", param_hint="--kind")
    settings = get_settings()
    worker = start_in_process(threads=2)

    async def go() -> None:
        db = Database(settings.runtime_url(), pool_size=4)
        try:
            codes = tenant or await _regions(db, city)
            submitted = []
            for code in codes:
                scope = Scope(Role.region_admin, (code,), all_hospitals=True, actor="cli")
                async with scoped_session(db, scope) as s:
                    job, _ = await jobs.submit(
                        s,
                        db,
                        scope,
                        code,
                        SETTLE,
                        {"kind": kind, "year": year, "month": month if kind == "monthly" else 12},
                    )
                submitted.append((code, job.id))
            await wait_for_jobs(db, console, submitted, t("{year} 年{kind}", kind=code_word("kind", kind), year=year))
            await _print(db, city, year, codes)
        finally:
            await db.dispose()

    try:
        asyncio.run(go())
    finally:
        worker.stop()


async def runs_of(db: Database, city: str, codes: list[str], year: int | None, kind: str | None) -> list:
    """The settlement runs of regions, newest year and month first, then region, ledger, version."""
    from sqlalchemy import select

    from dianshu.db.session import scoped_session
    from dianshu.settlement.models import SettlementRun as R

    q = select(R).where(R.tenant_id.in_(codes))
    if year is not None:
        q = q.where(R.year == year)
    if kind is not None:
        q = q.where(R.kind == kind)
    q = q.order_by(R.year.desc(), R.month.desc(), R.tenant_id, R.kind, R.ledger, R.version.desc())
    async with scoped_session(db, Scope(Role.city_viewer, (city, *codes), all_hospitals=True, actor="cli")) as s:
        return list((await s.execute(q)).scalars())


def print_runs(console: Console, runs: list) -> None:
    """Runs as a table, the id whole (it is what `settlement publish` takes)."""
    table = Table(title=t("结算批次"), box=box.SIMPLE_HEAD)
    table.add_column(t("批次编号"), no_wrap=True, min_width=36)
    for col in ("统筹区", "类型", "年度", "月份", "基金", "版本", "状态", "PV"):
        table.add_column(t(col), justify="right", no_wrap=True)
    for r in runs:
        pv = (r.figures or {}).get("PV")
        table.add_row(
            str(r.id),
            r.tenant_id,
            code_word("kind", r.kind),
            str(r.year),
            str(r.month),
            code_word("ledger", r.ledger),
            str(r.version),
            code_word("run_status", r.status),
            str(Decimal(pv)) if pv is not None else "",  # as stored: 6 places, never rounded again
        )
    console.print(table)
    if not runs:
        console.print(t("没有结算批次"))


@app.command("list")
def list_runs(
    year: Annotated[int | None, typer.Option(help="Only this year.")] = None,
    kind: Annotated[str | None, typer.Option(help="monthly or annual")] = None,
    tenant: Annotated[list[str] | None, typer.Option(help="Region (repeat); default every region of the city.")] = None,
    city: Annotated[str, typer.Option()] = pilot.CITY[0],
) -> None:
    """List settlement runs with their ids (publish one with `dianshu settlement publish --tenant T ID`)."""
    from dianshu.config import get_settings
    from dianshu.db.session import Database

    if kind is not None and kind not in ("monthly", "annual"):
        raise typer.BadParameter("monthly or annual", param_hint="--kind")
    settings = get_settings()

    async def go() -> list:
        db = Database(settings.runtime_url(), pool_size=1)
        try:
            return await runs_of(db, city, tenant or await _regions(db, city), year, kind)
        finally:
            await db.dispose()

    print_runs(Console(width=max(out.width, 120)), asyncio.run(go()))


@app.command("publish")
def publish(
    tenant: Annotated[str, typer.Option(help="Region")],
    run_id: Annotated[str, typer.Argument(help="Settlement run id")],
) -> None:
    """Publish a draft run (it is frozen from then on)."""
    from dianshu.config import get_settings
    from dianshu.db.session import Database, scoped_session
    from dianshu.settlement.runs.publish import RunRefused, publish_run

    settings = get_settings()

    async def go() -> None:
        db = Database(settings.runtime_url(), pool_size=1)
        scope = Scope(Role.region_admin, (tenant,), all_hospitals=True, actor="cli")
        try:
            async with scoped_session(db, scope) as s:
                r = await publish_run(s, scope, tenant, uuid.UUID(run_id))
            said = t(
                "{tenant} 的{kind}批次 {id} 第 {version} 版：{status}",
                tenant=tenant,
                kind=code_word("kind", r.kind),
                id=r.id,
                version=r.version,
                status=code_word("run_status", r.status),
            )
            console.print(f"[green]✓[/green] {said}")
        finally:
            await db.dispose()

    try:
        asyncio.run(go())
    except (RunRefused, ValueError) as e:
        console.print(red_line(e), highlight=False)
        raise typer.Exit(2) from e


def _wan(value: str) -> str:
    """Money in 万元 (10,000 yuan), as bureaus read budgets."""
    return f"{Decimal(value) / 10000:,.1f}"


def print_overview(console: Console, year: int, rows: list[dict]) -> None:
    """The regions' clearing side by side, narrow enough for an 80-column terminal (money in 万元
    for reading; the runs keep it to the fen)."""
    table = Table(
        title=t("{year} 年终清算：各统筹区对比（已发布的，否则最新草稿；T、E、F 单位万元）", year=year),
        box=box.SIMPLE_HEAD,
    )
    for col in ("统筹区", "基金", "状态", "T", "E", "F", "PV", "医院数"):
        table.add_column(t(col), justify="right")
    for r in rows:
        table.add_row(
            r["region"],
            r["ledger"][:3] if en() else code_word("ledger", r["ledger"]),
            code_word("run_status", r["status"]),
            _wan(r["T"]),
            _wan(r["E"]),
            _wan(r["F"]),
            r["PV"],
            str(r["hospitals"]),
        )
    console.print(table)


async def _print(db: Database, city: str, year: int, codes: list[str] | None = None) -> list[dict]:
    from dianshu.db.session import scoped_session
    from dianshu.settlement.runs.figures import city_overview

    codes = codes or await _regions(db, city)
    async with scoped_session(db, Scope(Role.city_viewer, (city, *codes), all_hospitals=True, actor="cli")) as s:
        rows = await city_overview(s, city, year)
    print_overview(out, year, [r for r in rows if r["region"] in codes])
    return rows


@app.command("report")
def report(
    year: Annotated[int, typer.Option()],
    city: Annotated[str, typer.Option()] = pilot.CITY[0],
    html: Annotated[Path | None, typer.Option(help="Write the printable page (table and chart) here.")] = None,
    pdf: Annotated[Path | None, typer.Option(help="Write the page as PDF (A4 landscape) here.")] = None,
    csv: Annotated[Path | None, typer.Option(help="Write the table as CSV (UTF-8 with BOM) here.")] = None,
    xlsx: Annotated[Path | None, typer.Option(help="Write the table as XLSX here.")] = None,
    lang: Annotated[str | None, typer.Option(help="zh or en (default: the CLI's language, `dianshu --lang`)")] = None,
) -> None:
    """The city's year side by side: budget, fund total and point value of every region."""
    from dianshu.config import get_settings
    from dianshu.db.session import Database, scoped_session
    from dianshu.settlement.reports.overview import overview_html, overview_table
    from dianshu.settlement.runs.figures import tenant_name
    from dianshu.tabular.write import Lang, csv_bytes, xlsx_bytes
    from dianshu_cli.errors import CHOSEN
    from dianshu_cli.errors import lang as cli_lang

    if lang is not None and lang not in ("zh", "en"):
        raise typer.BadParameter("zh or en", param_hint="--lang")
    if lang is not None:
        CHOSEN["lang"] = lang  # the table on the terminal in the language of the page
    language = cli_lang() if lang is None else Lang(lang)
    settings = get_settings()

    async def go() -> tuple[list[dict], str]:
        db = Database(settings.runtime_url(), pool_size=1)
        try:
            rows = await _print(db, city, year)
            async with scoped_session(db, Scope(Role.city_viewer, (city,), all_hospitals=True, actor="cli")) as s:
                return rows, await tenant_name(s, city) or city
        finally:
            await db.dispose()

    rows, name = asyncio.run(go())
    page = overview_html(city, year, rows, language, city_name=name) if html or pdf else ""
    if html:
        html.write_text(page, encoding="utf-8")
        console.print(f"[green]✓[/green] {html}")
    if pdf:
        from dianshu.reports.render import pdf as to_pdf

        pdf.write_bytes(to_pdf(page))
        console.print(f"[green]✓[/green] {pdf}")
    for path, write in ((csv, csv_bytes), (xlsx, xlsx_bytes)):
        if path:
            path.write_bytes(write(overview_table(city, year, rows, language, name), language))
            console.print(f"[green]✓[/green] {path}")
