"""Standards in the database: load a scheme folder as a version (idempotent by content), rebuild a
version's tables for the grouper, publish and retire versions, and cache compiled groupers."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.codes.codebook import load_codebook
from dianshu.grouping.engine import DEFAULT_OPTIONS, Grouper, GrouperOptions
from dianshu.standards.models import DrgSchemeVersion
from dianshu.standards.tables import (
    EDITIONS_FILE,
    FILES,
    SchemeTableError,
    SchemeTables,
    TableProblem,
    build_scheme,
    folder_rows,
    load_scheme,
)


class StandardsError(ValueError):
    """A refused standards operation; the message says what and why."""


class StandardStateError(StandardsError):
    """The version or standard exists, but its state does not allow this (only a draft can be
    published; a retired one is immutable)."""


class StandardPeriodError(StandardsError):
    """The period asked for is not a period: it ends on or before it starts."""


@dataclass(frozen=True)
class LoadResult:
    version_id: uuid.UUID
    created: bool
    label: str
    drg_count: int
    warnings: list[TableProblem]


# file -> (table, columns in file order, table columns)
_LAYOUT: dict[str, tuple[str, tuple[str, ...]]] = {
    "mdc_rules.csv": ("drg_mdc", ("eval_order", "mdc", "entry_condition", "special", "adrg_eval_order")),
    "mdc_pdx_table.csv": ("drg_mdc_dx", ("mdc", "dx_code", "trauma_body_region")),
    "adrg_rules.csv": ("drg_adrg", ("mdc", "eval_order_in_mdc", "adrg", "entry_condition", "drg_eval_order")),
    "adrg_code_lists.csv": ("drg_adrg_code", ("adrg", "list", "code", "proc_tag")),
    "or_procedures_ss_valid.csv": ("drg_or_procedure", ("code", "name")),
}
_KEYS = {"drg_mdc": 1, "drg_mdc_dx": 2, "drg_adrg": 1, "drg_adrg_code": 4, "drg_or_procedure": 1}


def _unique(rows: Iterable[tuple[Any, ...]], key_len: int, key_at: tuple[int, ...] | None = None) -> list[tuple]:
    """The tables are sets: drop exact repeats (e.g. a code listed twice) before COPY."""
    seen, out = set(), []
    for r in rows:
        k = tuple(r[i] for i in key_at) if key_at else r[:key_len]
        if k not in seen:
            seen.add(k)
            out.append(r)
    return out


def load_version_from_folder(
    owner_url: str,
    directory: Path,
    scheme_code: str,
    scheme_name: str,
    label: str,
    loaded_by: str,
    options: GrouperOptions | None = None,
) -> LoadResult:
    """Validate a folder and store it as a new draft version. The same files again: a no-op that
    returns the existing version. A label already used for other content: refused."""
    tables = load_scheme(directory, code=scheme_code)  # raises SchemeTableError (file, line, reason)
    opts = options if options is not None else DEFAULT_OPTIONS.get(scheme_code, GrouperOptions())
    from dianshu.db.session import sync_url

    url = sync_url(owner_url).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtextextended('standards-load:' || %s, 0))", (scheme_code,))
        conn.execute(
            "insert into drg_scheme (code, name) values (%s, %s) on conflict (code) do nothing",
            (scheme_code, scheme_name),
        )
        declared = sorted(tables.editions_rows())
        row = conn.execute(
            "select id, label from drg_scheme_version where scheme_code = %s and content_hash = %s"
            " and editions_hash = %s",
            (scheme_code, tables.content_hash, tables.editions_hash),
        ).fetchone()
        if row:
            return LoadResult(row[0], False, row[1], tables.drg_count, tables.warnings)
        if conn.execute(
            "select 1 from drg_scheme_version where scheme_code = %s and label = %s", (scheme_code, label)
        ).fetchone():
            raise StandardsError(
                f"{scheme_code} version label {label!r} is already used for different tables or code editions"
            )
        version_id = uuid.uuid4()
        conn.execute(
            "insert into drg_scheme_version (id, scheme_code, label, content_hash, editions_hash, status, options,"
            " mdc_count, adrg_count, drg_count, loaded_by) values (%s, %s, %s, %s, %s, 'draft', %s, %s, %s, %s, %s)",
            (
                version_id,
                scheme_code,
                label,
                tables.content_hash,
                tables.editions_hash,
                psycopg.types.json.Jsonb(opts.as_dict()),
                len(tables.mdcs),
                len(tables.adrgs),
                tables.drg_count,
                loaded_by,
            ),
        )
        source = folder_rows(directory)
        sink: list[TableProblem] = []
        for name, (table, columns) in _LAYOUT.items():
            rows = [tuple(r[c] for c in FILES[name]) for _, r in source(name, sink)]
            if table == "drg_mdc":
                rows = [(int(r[0]), *r[1:]) for r in rows]
            elif table == "drg_adrg":
                rows = [(r[0], int(r[1] or 0), *r[2:]) for r in rows]
            key_at = {
                "drg_mdc": (1,),
                "drg_mdc_dx": (0, 1),
                "drg_adrg": (2,),
                "drg_adrg_code": (0, 1, 2, 3),
                "drg_or_procedure": (0,),
            }[table]
            rows = _unique(rows, _KEYS[table], key_at)
            with conn.cursor().copy(f"copy {table} (version_id, {', '.join(columns)}) from stdin") as copy:
                for r in rows:
                    copy.write_row((version_id, *r))
        with conn.cursor().copy("copy drg_code_edition (version_id, table_name, codes, edition) from stdin") as copy:
            for r in declared:
                copy.write_row((version_id, *r))
        names = {r["drg_code"]: r["drg_name"] for _, r in source("drg_groups.csv", sink)}
        rules = {r["drg_code"]: r for _, r in source("drg_split_rules.csv", sink)}
        with conn.cursor().copy(
            "copy drg_group (version_id, drg, name, adrg, rule_function, condition) from stdin"
        ) as copy:
            for drg, name in names.items():
                r = rules.get(drg)
                copy.write_row((version_id, drg, name, r and r["adrg"], r and r["rule_function"], r and r["condition"]))
        with conn.cursor().copy("copy drg_complication (version_id, kind, code, exclusion_table) from stdin") as copy:
            for kind, name, key in (
                ("mcc", "mcc_list.csv", "dx_code"),
                ("cc", "cc_list.csv", "dx_code"),
                ("pdx", "cc_exclusion_by_pdx.csv", "pdx_code"),
            ):
                for r in _unique(((x[key], x["exclusion_table"]) for _, x in source(name, sink)), 1):
                    copy.write_row((version_id, kind, *r))
        if sink:
            raise StandardsError("; ".join(str(p) for p in sink[:10]))
    return LoadResult(version_id, True, label, tables.drg_count, tables.warnings)


async def version_tables(session: AsyncSession, version_id: uuid.UUID) -> SchemeTables:
    """Rebuild a stored version's tables (through the same validation as a folder)."""
    v = (await session.execute(select(DrgSchemeVersion).where(DrgSchemeVersion.id == version_id))).scalar_one_or_none()
    if v is None:
        raise StandardsError(f"no standard version {version_id}")
    files: dict[str, list[dict[str, str]]] = {}
    for name, (table, columns) in _LAYOUT.items():
        order = {"drg_mdc": "eval_order", "drg_adrg": "mdc, eval_order_in_mdc"}.get(table, "1")
        rows = (
            await session.execute(
                text(f"select {', '.join(columns)} from {table} where version_id = :v order by {order}"),
                {"v": version_id},
            )
        ).all()
        files[name] = [dict(zip(FILES[name], ("" if x is None else str(x) for x in r), strict=True)) for r in rows]
    groups = (
        await session.execute(
            text("select drg, name, adrg, rule_function, condition from drg_group where version_id = :v order by drg"),
            {"v": version_id},
        )
    ).all()
    files["drg_groups.csv"] = [{"drg_code": g.drg, "drg_name": g.name} for g in groups]
    files["drg_split_rules.csv"] = [
        {"adrg": g.adrg, "drg_code": g.drg, "rule_function": g.rule_function or "", "condition": g.condition}
        for g in groups
        if g.adrg is not None
    ]
    comps = (
        await session.execute(
            text("select kind, code, exclusion_table from drg_complication where version_id = :v"), {"v": version_id}
        )
    ).all()
    for kind, name, key in (
        ("mcc", "mcc_list.csv", "dx_code"),
        ("cc", "cc_list.csv", "dx_code"),
        ("pdx", "cc_exclusion_by_pdx.csv", "pdx_code"),
    ):
        files[name] = [{key: c.code, "exclusion_table": c.exclusion_table} for c in comps if c.kind == kind]

    editions = (
        await session.execute(
            text("select table_name, codes, edition from drg_code_edition where version_id = :v order by 1, 2, 3"),
            {"v": version_id},
        )
    ).all()
    files[EDITIONS_FILE] = [{"table": e.table_name, "codes": e.codes, "edition": e.edition} for e in editions]

    def source(name: str, problems: list[TableProblem]):
        return ((i, r) for i, r in enumerate(files.get(name, []), start=2))

    return build_scheme(v.scheme_code, v.content_hash, source)


_GROUPERS: dict[uuid.UUID, Grouper] = {}


async def grouper_for(session: AsyncSession, version_id: uuid.UUID) -> Grouper:
    """The compiled grouper of a stored version (compiled once per process: versions' tables never
    change after loading)."""
    if version_id not in _GROUPERS:
        options = (
            await session.execute(select(DrgSchemeVersion.options).where(DrgSchemeVersion.id == version_id))
        ).scalar_one()
        try:
            tables = await version_tables(session, version_id)
        except SchemeTableError as e:
            # A version stored before code editions were declared (migration 0010) and not a built-in.
            raise StandardsError(f"version {version_id} cannot be grouped: {e}") from e
        _GROUPERS[version_id] = Grouper(tables, load_codebook(), GrouperOptions.from_dict(options or {}))
        # The compiled scheme (some 170,000 objects) lives as long as the process: take it out of
        # the cyclic collector's view, which otherwise walked it at every full collection while a
        # job read and grouped its cases (an eighth of a regroup's time).
        gc.collect()
        gc.freeze()
    return _GROUPERS[version_id]


async def _publish(
    session: AsyncSession, model: Any, row_id: uuid.UUID, what: str, effective_from: date, effective_to: date | None
) -> Any:
    """draft -> published (then immutable); publishing again with the same period is a no-op."""
    if effective_to is not None and effective_to <= effective_from:
        raise StandardPeriodError(
            f"the period ends ({effective_to}) on or before it starts ({effective_from}): "
            "effective_to is the first day no longer in force"
        )
    row = (await session.execute(select(model).where(model.id == row_id).with_for_update())).scalar_one_or_none()
    if row is None:
        raise StandardsError(
            f"no payment standard {row_id}" if what == "payment standard" else f"no standard version {row_id}"
        )
    if row.status == "published" and row.effective_from == effective_from and row.effective_to == effective_to:
        return row  # retried: nothing to do
    if row.status != "draft":
        raise StandardStateError(f"{what} {row.label} is {row.status}: only a draft can be published")
    await session.execute(
        update(model)
        .where(model.id == row_id)
        .values(
            status="published", effective_from=effective_from, effective_to=effective_to, published_at=text("now()")
        )
    )
    await session.refresh(row)
    return row


async def publish_version(
    session: AsyncSession, version_id: uuid.UUID, effective_from: date, effective_to: date | None = None
) -> DrgSchemeVersion:
    return await _publish(session, DrgSchemeVersion, version_id, "standard version", effective_from, effective_to)


async def retire_version(session: AsyncSession, version_id: uuid.UUID, effective_to: date) -> None:
    v = (await session.execute(select(DrgSchemeVersion).where(DrgSchemeVersion.id == version_id))).scalar_one()
    if v.status == "retired":
        return
    if v.status != "published":
        raise StandardsError(f"version {v.label} is {v.status}: only a published version can be retired")
    await session.execute(
        update(DrgSchemeVersion)
        .where(DrgSchemeVersion.id == version_id)
        .values(status="retired", effective_to=effective_to, retired_at=text("now()"))
    )


BUILTIN_LABELS = {"chs_drg_11": "1.1", "zhejiang_2022": "2022"}
BUILTIN_NAMES = {"chs_drg_11": "CHS-DRG 1.1 (国家医保版)", "zhejiang_2022": "ZJ-DRG 2022 (浙江省)"}


async def ensure_builtin_standards(
    owner_db: Any, owner_url: str, effective_from: date, loaded_by: str
) -> dict[str, uuid.UUID]:
    """Load the built-in schemes and publish them (idempotent); returns scheme -> version id."""
    import asyncio

    from dianshu.db.session import scoped_session
    from dianshu.standards.tables import builtin_dir

    out: dict[str, uuid.UUID] = {}
    for code, label in BUILTIN_LABELS.items():
        result = await asyncio.to_thread(
            load_version_from_folder, owner_url, builtin_dir(code), code, BUILTIN_NAMES[code], label, loaded_by
        )
        async with scoped_session(owner_db, None) as s:
            v = await s.get(DrgSchemeVersion, result.version_id)
            if v is not None and v.status == "draft":
                await publish_version(s, result.version_id, effective_from)
        out[code] = result.version_id
    return out


async def publish_payment_standard(
    session: AsyncSession, standard_id: uuid.UUID, effective_from: date, effective_to: date | None = None
) -> Any:
    """Publish a draft payment standard (then immutable); a retried publish is a no-op."""
    from dianshu.standards.models import PaymentStandard

    return await _publish(session, PaymentStandard, standard_id, "payment standard", effective_from, effective_to)
