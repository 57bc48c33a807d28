"""`dianshu evaluation catalogue | versions | load-catalogue | publish-catalogue`: print the indicator
catalogue (the built-in file, or a stored version) as a table, JSON or CSV; store and publish
versions (as the owner role, like `dianshu standards`: the platform operator's act, audited in the
city)."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import uuid
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from dianshu import csvcells
from dianshu.evaluation.catalogue import INDICATOR_COLUMNS, Catalogue, builtin_catalogue
from dianshu.tenancy import pilot
from dianshu_cli.errors import localized
from dianshu_cli.words import code_word, en, t

if TYPE_CHECKING:
    from dianshu.db.session import Database

console = Console(stderr=True, soft_wrap=True)
app = typer.Typer(help="Hospital evaluation (医院考核评价): the indicator catalogue.", no_args_is_help=True)


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


class Lang(StrEnum):
    zh = "zh"
    en = "en"


# Table headers: Chinese first (the bureau's language), English with --lang en.
HEADERS = {
    "code": ("编码", "Code"),
    "dimension": ("维度", "Dimension"),
    "name": ("指标名称", "Indicator"),
    "direction": ("方向", "Direction"),
    "source": ("数据来源", "Source"),
    "unit": ("单位", "Unit"),
    "weight": ("权重", "Weight"),
    "status": ("状态", "Status"),
    "formula": ("计算方法", "Formula"),
}
WORDS_ZH = {
    "higher": "越高越好",
    "lower": "越低越好",
    "active": "计分",
    "monitor": "监测",
    "cases": "病例",
    "grouping": "分组",
    "points": "点数",
    "findings": "监管发现",
    "reviews": "特病单议",
    "training": "培训",
    "entered": "填报",
    "index": "指数",
    "count": "个数",
    "percent": "%",
    "ratio": "比值",
    "days": "天",
    "score": "分",
    "per_mille": "‰",
}


def as_rows(catalogue: Catalogue) -> list[dict[str, Any]]:
    """Every field of every indicator, in file order (weights as the file writes them)."""
    return [
        {c: (str(getattr(i, c)) if c == "weight" else getattr(i, c)) for c in INDICATOR_COLUMNS}
        for i in catalogue.indicators
    ]


def as_json(catalogue: Catalogue, version: dict[str, Any] | None = None) -> str:
    doc = {
        **({"version": version} if version else {}),
        "dimensions": [
            {"code": d.code, "name_zh": d.name_zh, "name_en": d.name_en, "weight": str(d.weight)}
            for d in catalogue.dimensions
        ],
        "indicators": as_rows(catalogue),
    }
    return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"


def as_csv(catalogue: Catalogue) -> bytes:
    """The indicators in catalogue.csv's columns, UTF-8 with a BOM (Excel on Chinese Windows opens it
    as UTF-8 only with one)."""
    out = io.StringIO()
    w = csvcells.writer(out, lineterminator="\r\n")  # no cell a spreadsheet would run
    w.writerow(INDICATOR_COLUMNS)
    w.writerows([r[c] for c in INDICATOR_COLUMNS] for r in as_rows(catalogue))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def as_table(catalogue: Catalogue, lang: Lang, title: str) -> Table:
    zh = lang is Lang.zh
    dims = {d.code: (d.name_zh if zh else d.name_en) for d in catalogue.dimensions}
    table = Table(title=title, box=box.SIMPLE_HEAVY, show_lines=False)
    for key, (h_zh, h_en) in HEADERS.items():
        table.add_column(h_zh if zh else h_en, justify="right" if key == "weight" else "left", overflow="fold")

    def word(w: str) -> str:
        return WORDS_ZH.get(w, w) if zh else w

    for i in catalogue.indicators:
        table.add_row(
            i.code,
            dims[i.dimension],
            i.name_zh if zh else i.name_en,
            word(i.direction),
            word(i.source),
            word(i.unit),
            str(i.weight),
            word(i.status),
            i.formula_zh if zh else i.formula_en,
        )
    return table


def _database() -> Database:
    from dianshu.config import get_settings
    from dianshu.db.session import Database

    return Database(get_settings().owner_url(), pool_size=1)


async def _stored(label: str) -> tuple[dict[str, Any], Catalogue] | None:
    from sqlalchemy import select

    from dianshu.evaluation.models import EvaluationCatalogueVersion as V
    from dianshu.evaluation.versions import catalogue_of

    db = _database()
    try:
        async with db.session(None) as s:
            v = (await s.execute(select(V).where(V.label == label))).scalar_one_or_none()
            if v is None:
                return None
            return _version_info(v), await catalogue_of(s, v.id)
    finally:
        await db.dispose()


def _version_info(v: Any) -> dict[str, Any]:
    return {
        "id": str(v.id),
        "label": v.label,
        "status": v.status,
        "effective_from": v.effective_from,
        "effective_to": v.effective_to,
        "content_hash": v.content_hash,
    }


@app.command("catalogue")
def catalogue_command(
    format: Annotated[Format, typer.Option("--format", help="table, json (every field) or csv (UTF-8, BOM).")] = (
        Format.table
    ),
    lang: Annotated[
        Lang | None, typer.Option("--lang", help="The table's language (default: the CLI's, `dianshu --lang`).")
    ] = None,
    version: Annotated[
        str | None, typer.Option("--version", help="A stored version's label (default: the built-in catalogue file).")
    ] = None,
) -> None:
    """Print the indicator catalogue (考核指标目录)."""
    if lang is None:
        lang = Lang.en if en() else Lang.zh
    info: dict[str, Any] | None = None
    if version is None:
        catalogue, title = (
            builtin_catalogue(),
            "考核指标目录 (built-in)" if lang is Lang.zh else "Evaluation catalogue (built-in)",
        )
    else:
        found = asyncio.run(_stored(version))
        if found is None:
            console.print(
                f"[red]{t('拒收')}[/red] --version: {t('没有标签为 {label} 的指标目录版本', label=repr(version))}"
            )
            raise typer.Exit(2)
        info, catalogue = found
        title = f"{version} ({code_word('version_status', info['status'])})"
    if format is Format.json:
        sys.stdout.write(as_json(catalogue, info))
    elif format is Format.csv:
        sys.stdout.flush()
        sys.stdout.buffer.write(as_csv(catalogue))
        sys.stdout.buffer.flush()
    else:
        Console(width=max(Console().width, 160)).print(as_table(catalogue, lang, title))


def _audit_scope(city: str):
    """The operator's scope: system, in the city when it exists (where load and publish are audited)."""
    from sqlalchemy import text

    from dianshu.scope import Role, Scope

    async def exists() -> bool:
        db = _database()
        try:
            async with db.session(None) as s:
                return (await s.execute(text("select 1 from tenant where code = :c"), {"c": city})).first() is not None
        finally:
            await db.dispose()

    tenants = (city,) if asyncio.run(exists()) else ()
    return Scope(Role.system, tenants, None, "cli", all_hospitals=True)


@app.command("load-catalogue")
def load_catalogue_command(
    publish_from: Annotated[
        int | None, typer.Option("--publish-from", help="Also publish it, in force from this year (open-ended).")
    ] = None,
    city: Annotated[str, typer.Option(help="The city whose audit log records it.")] = pilot.CITY[0],
) -> None:
    """Store the built-in catalogue as a draft version (the same content again: nothing changes)."""
    from dianshu.db.session import scoped_session
    from dianshu.errors import Refused
    from dianshu.evaluation.versions import load_catalogue, publish_catalogue

    scope = _audit_scope(city)

    async def run() -> tuple[Any, bool]:
        db = _database()
        try:
            async with scoped_session(db, scope) as s:
                loaded = await load_catalogue(s, scope)
                v = loaded.version
                if publish_from is not None:
                    v = await publish_catalogue(s, scope, v.id, publish_from)
                return v, loaded.created
        finally:
            await db.dispose()

    try:
        v, created = asyncio.run(run())
    except Refused as e:
        console.print(f"[red]{t('拒收')}[/red] {e.record}: {localized(str(e))}")
        raise typer.Exit(2) from e
    what = t("已作为草稿载入") if created else t("已存过（内容相同）：未作改动")
    said = t(
        "指标目录 {label}（{n} 项指标），版本 {id}：{what}；{status}",
        label=v.label,
        n=v.indicator_count,
        id=v.id,
        what=what,
        status=code_word("version_status", v.status),
    )
    console.print(said)


@app.command("publish-catalogue")
def publish_catalogue_command(
    version: Annotated[str, typer.Argument(help="The version's label or id.")],
    effective_from: Annotated[int, typer.Option("--from", help="The first year in force.")],
    effective_to: Annotated[int | None, typer.Option("--to", help="The first year no longer in force.")] = None,
    city: Annotated[str, typer.Option(help="The city whose audit log records it.")] = pilot.CITY[0],
) -> None:
    """Publish a draft version for years [--from, --to): immutable from then on (again: no-op)."""
    from sqlalchemy import or_, select

    from dianshu.db.session import scoped_session
    from dianshu.errors import Refused
    from dianshu.evaluation.models import EvaluationCatalogueVersion as V
    from dianshu.evaluation.versions import publish_catalogue

    scope = _audit_scope(city)
    try:
        as_id: uuid.UUID | None = uuid.UUID(version)
    except ValueError:
        as_id = None

    async def run() -> Any:
        db = _database()
        try:
            async with scoped_session(db, scope) as s:
                match = V.label == version if as_id is None else or_(V.id == as_id, V.label == version)
                v = (await s.execute(select(V).where(match))).scalar_one_or_none()
                if v is None:
                    return None
                return await publish_catalogue(s, scope, v.id, effective_from, effective_to)
        finally:
            await db.dispose()

    try:
        v = asyncio.run(run())
    except Refused as e:
        console.print(f"[red]{t('拒收')}[/red] {e.record}: {localized(str(e))}")
        raise typer.Exit(2) from e
    if v is None:
        console.print(f"[red]{t('拒收')}[/red] {t('没有指标目录版本 {version}', version=repr(version))}")
        raise typer.Exit(2)
    said = t(
        "指标目录 {label} 已发布，适用 {start}–{end}", label=v.label, start=v.effective_from, end=v.effective_to or ""
    )
    console.print(said)


@app.command("versions")
def versions_command() -> None:
    """The stored catalogue versions, oldest first."""
    from sqlalchemy import select

    from dianshu.evaluation.models import EvaluationCatalogueVersion as V

    async def run() -> list[Any]:
        db = _database()
        try:
            async with db.session(None) as s:
                return list((await s.execute(select(V).order_by(V.loaded_at, V.id))).scalars())
        finally:
            await db.dispose()

    table = Table(title=t("考核指标目录版本"))
    for col in ("标签", "状态", "适用年度", "指标数", "编号"):
        table.add_column(t(col))
    for v in asyncio.run(run()):
        period = f"{v.effective_from or ''}–{v.effective_to or ''}" if v.effective_from else ""
        table.add_row(v.label, code_word("version_status", v.status), period, str(v.indicator_count), str(v.id))
    Console().print(table)
