"""Standards in the database: idempotent loading, refusal of broken tables, immutability once
published, and a stored version that groups exactly like its files."""

from __future__ import annotations

import dataclasses
import shutil
import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, pool, select, text

from dianshu.codes.codebook import load_codebook
from dianshu.db.session import scoped_session, sync_url
from dianshu.grouping.engine import Grouper
from dianshu.grouping.samples import sample_records
from dianshu.standards.models import DrgSchemeVersion
from dianshu.standards.service import (
    StandardsError,
    ensure_builtin_standards,
    grouper_for,
    load_version_from_folder,
    retire_version,
)
from dianshu.standards.tables import SchemeTableError, builtin_dir, load_scheme


@pytest.fixture(scope="session")
async def builtin_versions(test_database, owner_db):
    return await ensure_builtin_standards(owner_db, test_database.owner_url, date(2024, 1, 1), "tests")


def copy_scheme(tmp_path, code="chs_drg_11"):
    target = tmp_path / code
    shutil.copytree(builtin_dir(code), target)
    return target


def test_loading_the_same_files_twice_is_a_no_op(test_database, builtin_versions, tmp_path):
    again = load_version_from_folder(
        test_database.owner_url, builtin_dir("chs_drg_11"), "chs_drg_11", "x", "other", "tests"
    )
    assert not again.created and again.version_id == builtin_versions["chs_drg_11"] and again.label == "1.1"
    # A label already used for other content is refused.
    folder = copy_scheme(tmp_path)
    with (folder / "drg_groups.csv").open("a", encoding="utf-8") as fh:
        fh.write("ZZ99,测试组\n")
    with pytest.raises(StandardsError, match=r"label '1\.1' is already used"):
        load_version_from_folder(test_database.owner_url, folder, "chs_drg_11", "x", "1.1", "tests")


@pytest.mark.parametrize(
    ("file", "edit", "expected"),
    [
        ("mdc_rules.csv", lambda t: t.replace("eval_order,mdc", "order,mdc", 1), "mdc_rules.csv:1: header must be"),
        (
            "adrg_rules.csv",
            lambda t: t.replace(
                "MAIN_PROC IN adrg_ss AND AGE_DAYS <= 28,PB19", "MAIN_PROC IN adrg_ss AND (AGE_DAYS <= 28,PB19", 1
            ),
            "adrg_rules.csv:11: condition",
        ),
        (
            "drg_split_rules.csv",
            lambda t: t.replace("AA1,AA19,AA19,TRUE", "AA1,AA19,AA19,TRUE,extra", 1),
            "drg_split_rules.csv:2: expected 4 columns, found 5",
        ),
        (
            "mcc_list.csv",
            lambda t: t.replace("A01.100,1", "A01.100,", 1),
            "mcc_list.csv:2: A01.100: exclusion_table is empty",
        ),
        ("adrg_code_lists.csv", lambda t: t + "XX9,adrg_ss,01.0000,\n", "ADRG XX9 is not in adrg_rules.csv"),
        ("drg_split_rules.csv", lambda t: t + "AA1,AA18,AA18,HAS_MCCC\n", "unknown word 'HAS_MCCC'"),
    ],
)
def test_a_broken_table_is_refused_with_file_line_and_reason(test_database, tmp_path, file, edit, expected):
    folder = copy_scheme(tmp_path)
    path = folder / file
    path.write_text(edit(path.read_text(encoding="utf-8")), encoding="utf-8")
    with pytest.raises(SchemeTableError) as info:
        load_version_from_folder(test_database.owner_url, folder, "broken_scheme", "x", "b1", "tests")
    assert expected in str(info.value)
    engine = create_engine(sync_url(test_database.owner_url), poolclass=pool.NullPool)
    with engine.connect() as c:
        n = c.execute(text("select count(*) from drg_scheme_version where scheme_code = 'broken_scheme'")).scalar()
    engine.dispose()
    assert n == 0, "nothing is half-loaded"


async def test_published_versions_and_their_rows_are_immutable(test_database, db, builtin_versions):
    vid = builtin_versions["zhejiang_2022"]
    attempts = [
        "update drg_group set name = 'x' where version_id = :v and drg = 'BR29'",
        "delete from drg_adrg_code where version_id = :v and adrg = 'BR2'",
        "insert into drg_group (version_id, drg, name) values (:v, 'ZZ99', 'x')",
        "update drg_scheme_version set status = 'draft' where id = :v",
        "update drg_scheme_version set options = '{}' where id = :v",
        "delete from drg_scheme_version where id = :v",
    ]
    for stmt in attempts:
        # As the owner (migration role) too: immutability is the database's, not a permission.
        for url in (test_database.owner_url, test_database.runtime_url):
            engine = create_engine(sync_url(url), poolclass=pool.NullPool)
            with engine.connect() as c:
                with pytest.raises(
                    Exception, match=r"immutable|only a draft|cannot return|only retiring|permission denied"
                ):
                    c.execute(text(stmt), {"v": vid})
                c.rollback()
            engine.dispose()


async def test_retiring_is_allowed_once_then_frozen(test_database, owner_db, tmp_path):
    folder = copy_scheme(tmp_path)
    with (folder / "drg_groups.csv").open("a", encoding="utf-8") as fh:
        fh.write("ZZ98,临时组\n")
    r = load_version_from_folder(test_database.owner_url, folder, "chs_drg_11", "x", f"t-{uuid.uuid4().hex[:6]}", "t")
    from dianshu.standards.service import publish_version

    async with scoped_session(owner_db, None) as s:
        await publish_version(s, r.version_id, date(2025, 1, 1))
        again = await publish_version(s, r.version_id, date(2025, 1, 1))  # a retried publish is a no-op
        assert again.status == "published"
    async with scoped_session(owner_db, None) as s:
        await retire_version(s, r.version_id, date(2026, 1, 1))
        await retire_version(s, r.version_id, date(2026, 1, 1))
    async with scoped_session(owner_db, None) as s:
        v = await s.get(DrgSchemeVersion, r.version_id)
        assert (v.status, v.effective_to) == ("retired", date(2026, 1, 1))
    with pytest.raises(Exception, match="retired"):
        async with scoped_session(owner_db, None) as s:
            await s.execute(
                text("update drg_scheme_version set effective_to = '2027-01-01' where id = :v"), {"v": r.version_id}
            )


@pytest.mark.parametrize("code", ["chs_drg_11", "zhejiang_2022"])
async def test_a_stored_version_groups_exactly_like_its_files(db, builtin_versions, code):
    files = Grouper(load_scheme(builtin_dir(code)), load_codebook())
    async with scoped_session(db, None) as s:
        stored = await grouper_for(s, builtin_versions[code])
    assert stored.tables.content_hash == files.tables.content_hash
    assert stored.tables.editions == files.tables.editions
    # Both codings: a 国临版 record reads every table through its own view.
    for rec in sample_records(files, 3000, seed=11):
        for r in (rec, dataclasses.replace(rec, coding="guolin")):
            a, b = files.group(r), stored.group(r)
            assert (a.mdc, a.adrg, a.drg, a.status, a.mcc, a.cc, a.messages) == (
                b.mdc,
                b.adrg,
                b.drg,
                b.status,
                b.mcc,
                b.cc,
                b.messages,
            )
    async with scoped_session(db, None) as s:
        v = (
            await s.execute(select(DrgSchemeVersion).where(DrgSchemeVersion.id == builtin_versions[code]))
        ).scalar_one()
    assert (v.status, v.drg_count) == ("published", files.tables.drg_count)


def test_the_same_tables_declared_in_other_editions_are_another_version(test_database, builtin_versions, tmp_path):
    folder = copy_scheme(tmp_path, "zhejiang_2022")
    path = folder / "code_editions.csv"
    path.write_text(
        "".join(ln + "\n" for ln in path.read_text(encoding="utf-8").splitlines() if not ln.endswith("guolin")),
        encoding="utf-8",
    )
    with pytest.raises(StandardsError, match="already used for different tables or code editions"):
        load_version_from_folder(test_database.owner_url, folder, "zhejiang_2022", "x", "2022", "tests")
    other = load_version_from_folder(test_database.owner_url, folder, "zhejiang_2022", "x", "2022-yibao", "tests")
    assert other.created and other.version_id != builtin_versions["zhejiang_2022"]
    again = load_version_from_folder(test_database.owner_url, folder, "zhejiang_2022", "x", "2022-other", "tests")
    assert (again.created, again.version_id, again.label) == (False, other.version_id, "2022-yibao")
    # And the built-in declaration still finds the built-in version.
    builtin = load_version_from_folder(
        test_database.owner_url, builtin_dir("zhejiang_2022"), "zhejiang_2022", "x", "2022-x", "tests"
    )
    assert (builtin.created, builtin.version_id) == (False, builtin_versions["zhejiang_2022"])


async def test_a_stored_version_without_a_declaration_is_refused_for_grouping(test_database, db, owner_db, tmp_path):
    """A version stored before code editions existed (migration 0010 declares only the built-in
    tables): grouping it is refused with the reason, not guessed."""
    folder = copy_scheme(tmp_path)
    with (folder / "drg_groups.csv").open("a", encoding="utf-8") as fh:
        fh.write("ZZ98,旧版本\n")
    r = load_version_from_folder(test_database.owner_url, folder, "old_scheme", "x", "old", "tests")
    async with scoped_session(owner_db, None) as s:  # a draft: its rows may still change
        await s.execute(text("delete from drg_code_edition where version_id = :v"), {"v": r.version_id})
    async with scoped_session(db, None) as s:
        with pytest.raises(StandardsError, match=r"cannot be grouped: .*no edition declared"):
            await grouper_for(s, r.version_id)


def test_the_migration_declares_the_builtin_schemes_as_their_files_do():
    """Migration 0010 backfills the built-in versions by content hash with copied declarations:
    they must be the vendored files' own."""
    module = _migration_0010()
    for code in ("chs_drg_11", "zhejiang_2022"):
        tables = load_scheme(builtin_dir(code))
        assert sorted(module._BUILTIN[tables.content_hash]) == sorted(tables.editions_rows()), code


async def test_the_migration_backfills_stored_builtin_versions(test_database, owner_db, builtin_versions):
    """Run 0010's backfill on a version stored as before it (no declaration): the built-in tables
    get their declaration and hash back, exactly as loading them now stores them."""
    vid = builtin_versions["zhejiang_2022"]
    async with scoped_session(owner_db, None) as s:
        before = (
            await s.execute(
                text("select table_name, codes, edition from drg_code_edition where version_id = :v"), {"v": vid}
            )
        ).all()
        stamped = (
            await s.execute(text("select editions_hash from drg_scheme_version where id = :v"), {"v": vid})
        ).scalar_one()
    engine = create_engine(sync_url(test_database.owner_url), poolclass=pool.NullPool)
    try:
        with engine.begin() as c:
            for t in ("insert", "update", "delete"):
                c.execute(text(f"alter table drg_code_edition disable trigger drg_code_edition_{t}_guard"))
            c.execute(text("alter table drg_scheme_version disable trigger drg_scheme_version_guard"))
            c.execute(text("delete from drg_code_edition where version_id = :v"), {"v": vid})
            c.execute(text("update drg_scheme_version set editions_hash = null where id = :v"), {"v": vid})
            c.execute(text("alter table drg_scheme_version enable trigger drg_scheme_version_guard"))
            _run_0010_backfill(c)
            for t in ("insert", "update", "delete"):
                c.execute(text(f"alter table drg_code_edition enable trigger drg_code_edition_{t}_guard"))
            after = c.execute(
                text("select table_name, codes, edition from drg_code_edition where version_id = :v"), {"v": vid}
            ).all()
            again = c.execute(text("select editions_hash from drg_scheme_version where id = :v"), {"v": vid}).scalar()
    finally:
        engine.dispose()
    assert sorted(after) == sorted(before) and len(after) == 11
    assert again == stamped == load_scheme(builtin_dir("zhejiang_2022")).editions_hash


def _run_0010_backfill(connection) -> None:
    """The migration's upgrade() statements that fill data (not the DDL), against `connection`."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    _migration_0010().backfill(Operations(MigrationContext.configure(connection)))


def _migration_0010():
    """Migration 0010's module (migrations are files, not a package)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "migrations" / "versions" / "0010_scheme_code_editions.py"
    spec = importlib.util.spec_from_file_location("migration_0010", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_a_compiled_grouper_is_kept_out_of_the_cyclic_collectors_view(db, builtin_versions, monkeypatch):
    """A worker keeps its compiled schemes for its whole life; left in the collector's view, every
    full collection walked their 170,000 objects while a job read and grouped its cases."""
    import gc

    from dianshu.standards import service

    monkeypatch.setattr(service, "_GROUPERS", {})  # compile again, whatever this process holds
    before = gc.get_freeze_count()
    try:
        async with scoped_session(db, None) as s:
            g = await grouper_for(s, builtin_versions["zhejiang_2022"])
        assert gc.get_freeze_count() - before > 100_000
        assert not any(o is g for o in gc.get_objects())  # no longer in any collected generation
    finally:
        gc.unfreeze()
