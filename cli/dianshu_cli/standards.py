"""`dianshu standards ...` commands (as the owner role: loading reference data is a platform act)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from dianshu.config import Settings
from dianshu.db.session import Database, scoped_session
from dianshu.standards.models import DrgSchemeVersion
from dianshu.standards.service import BUILTIN_NAMES, StandardsError, load_version_from_folder, publish_version
from dianshu.standards.tables import BUILTIN_SCHEMES, SchemeTableError, builtin_dir
from dianshu_cli.words import code_word, t

SCHEME_NAMES = BUILTIN_NAMES


def _date(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise typer.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)", param_hint=option) from e


def load(
    settings: Settings,
    console: Console,
    *,
    scheme: str,
    label: str,
    directory: Path | None,
    name: str | None,
    publish: str | None,
) -> uuid.UUID:
    folder = directory or (builtin_dir(scheme) if scheme in BUILTIN_SCHEMES else None)
    if folder is None:
        raise typer.BadParameter(f"{scheme} is not built in: give --dir", param_hint="--dir")
    effective = _date(publish, "--publish")
    try:
        with console.status(t("正在校验并载入 {folder} ...", folder=folder)):
            result = load_version_from_folder(
                settings.owner_url(), folder, scheme, name or SCHEME_NAMES.get(scheme, scheme), label, "cli"
            )
    except (SchemeTableError, StandardsError) as e:
        problems = getattr(e, "problems", None)
        for p in problems or [e]:
            console.print(f"[red]{t('拒收')}[/red] {p}")
        raise typer.Exit(2) from e
    for w in result.warnings:
        console.print(f"[yellow]{t('警告')}[/yellow] {w}")
    what = t("已载入") if result.created else t("已载入过（文件相同）：未作改动")
    said = t(
        "{scheme} {label}：{drgs} 个 DRG，版本 {id}：{what}",
        scheme=scheme,
        label=result.label,
        drgs=result.drg_count,
        id=result.version_id,
        what=what,
    )
    console.print(said)
    if effective is not None:
        publish(settings, console, str(result.version_id), publish, None)
    return result.version_id


def publish(settings: Settings, console: Console, version: str, effective_from: str, effective_to: str | None) -> None:
    start, end = _date(effective_from, "--effective-from"), _date(effective_to, "--effective-to")

    async def run() -> DrgSchemeVersion:
        db = Database(settings.owner_url(), pool_size=1)
        try:
            async with scoped_session(db, None) as s:
                return await publish_version(s, uuid.UUID(version), start, end)  # type: ignore[arg-type]
        finally:
            await db.dispose()

    try:
        v = asyncio.run(run())
    except (StandardsError, ValueError) as e:
        console.print(f"[red]{t('拒收')}[/red] {e}")
        raise typer.Exit(2) from e
    console.print(
        t("{scheme} {label} 已发布，{start} 起生效", scheme=v.scheme_code, label=v.label, start=v.effective_from)
    )


def show(settings: Settings, console: Console) -> None:
    async def run():
        db = Database(settings.owner_url(), pool_size=1)
        try:
            async with db.session(None) as s:
                return (
                    (
                        await s.execute(
                            select(DrgSchemeVersion).order_by(DrgSchemeVersion.scheme_code, DrgSchemeVersion.loaded_at)
                        )
                    )
                    .scalars()
                    .all()
                )
        finally:
            await db.dispose()

    table = Table(title=t("DRG 标准版本"))
    for col in ("方案", "标签", "状态", "有效期", "DRG 数", "编号"):
        table.add_column(t(col))
    for v in asyncio.run(run()):
        period = f"{v.effective_from or ''} – {v.effective_to or ''}"
        table.add_row(
            v.scheme_code, v.label, code_word("version_status", v.status), period, str(v.drg_count), str(v.id)
        )
    Console().print(table)  # tables to stdout, messages and logs to stderr


def editions(console: Console, directory: Path, write: bool) -> None:
    """Measure a folder's code editions against the vendored code sets; show them beside what the
    folder declares; with --write, record the measurement as its code_editions.csv."""
    from dianshu.codes.codebook import EDITION_NAMES, load_codebook
    from dianshu.grouping.editions import edition_counts, measure_editions
    from dianshu.standards.tables import EDITIONS_FILE, load_scheme_tables_only, read_editions

    try:
        tables = load_scheme_tables_only(directory)
    except SchemeTableError as e:
        from dianshu_cli.errors import red_line

        console.print(red_line(e))
        raise typer.Exit(2) from e
    codebook = load_codebook()
    measured = measure_editions(tables, codebook)
    declared: dict | None = None
    if (directory / EDITIONS_FILE).is_file():
        from dianshu.standards.tables import folder_rows

        problems: list = []
        declared = read_editions(folder_rows(directory)(EDITIONS_FILE, problems), problems)
        if problems:
            said = t("{file} 所写内容被拒收：{problems}", file=EDITIONS_FILE, problems="; ".join(map(str, problems)))
            console.print(f"[yellow]{said}[/yellow]")
            declared = None
    out = Table(title=t("{directory} 的编码版本", directory=directory))
    for col in ("表", "编码", "其中编码数", "仅医保版", "仅国临版", "实测", "声明"):
        out.add_column(t(col))
    for family, eds in measured.items():
        n, yb, gl = edition_counts(tables, codebook, family)
        shown = " + ".join(EDITION_NAMES[e] for e in eds)
        said = " + ".join(EDITION_NAMES[e] for e in declared[family]) if declared else "-"
        out.add_row(family[0], family[1], f"{n:,}", f"{yb:,}", f"{gl:,}", shown, said)
    Console().print(out)
    if write:
        import csv

        with (directory / EDITIONS_FILE).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(("table", "codes", "edition"))
            for (table, kind), eds in measured.items():
                for e in eds:
                    w.writerow((table, kind, e))
        console.print(t("已写入 {path}", path=directory / EDITIONS_FILE))
