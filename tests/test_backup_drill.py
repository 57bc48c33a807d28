"""The backup and restore drill (README, operations): a small settled year built by the real jobs
(ingest, group, the monthly points and settlement run) and published; `dianshu db backup` and
`dianshu db restore` as an operator runs them, into a new database; then the restored database must
hold every table's rows, the same policies, RLS flags, owners, grants and revision, and the published
run's statement to the fen; and the runtime role must still see only its scope there.

Runs on whichever server the suite uses (embedded PostgreSQL 16 or the local 15 in CI), with the
pg_dump / pg_restore of that server's major version (db/backup.py find_tool)."""

from __future__ import annotations

import secrets
import time
import uuid

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from dianshu.db.backup import BackupError, find_tool, inventory, server_major, tool_major
from dianshu.db.session import Database, scoped_session, sync_url
from dianshu.scope import Role, Scope
from dianshu.settlement.runs.figures import statement_data
from tests.conftest import scope_for
from tests.settlement.test_runs import publish
from tests.settlement.world import budgeted_year, settle
from tests.test_cli import run
from tests.test_standards_db import builtin_versions  # noqa: F401


def _inventory(url: str):
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            return inventory(conn), server_major(conn)
    finally:
        engine.dispose()


async def _statement(db: Database, scope: Scope, tenant: str, run_id: str, hospital: str):
    async with scoped_session(db, scope) as s:
        return await statement_data(s, tenant, uuid.UUID(run_id), hospital)


async def _cases_seen(db: Database, scope: Scope, tenant: str) -> int:
    async with scoped_session(db, scope) as s:
        return (
            await s.execute(text("select count(*) from case_record where tenant_id = :t"), {"t": tenant})
        ).scalar_one()


@pytest.fixture
def target(test_database):
    name = f"dianshu_restore_{secrets.token_hex(4)}"
    url = make_url(test_database.owner_url).set(database=name).render_as_string(hide_password=False)
    yield url
    admin = create_engine(sync_url(test_database.owner_url), isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with admin.connect() as c:
        c.execute(text(f'drop database if exists "{name}" with (force)'))
    admin.dispose()


async def test_backup_and_restore_keep_rows_figures_and_row_level_security(
    db,
    city,
    dispatcher,
    builtin_versions,  # noqa: F811
    test_database,
    target,
    tmp_path,
):
    started = time.perf_counter()
    region = await budgeted_year(
        db, city, builtin_versions["zhejiang_2022"], {"provisional_point_value": "100"}, "drill"
    )
    (march,) = (await settle(db, region, city.a, "monthly", month=3))["runs"]
    await publish(db, region, city.a, march["id"])
    figures = await _statement(db, region, city.a, march["id"], city.a1)
    # Hand-computed (tests/settlement/test_runs.py): a1 in March, A-1 and A-2, 200 points, S 4,000,
    # PV 100: due 16,000.00, payable 95% 15,200.00, paid now 15,200.00.
    assert figures is not None and figures["run"]["status"] == "published"
    assert (figures["line"]["due"], figures["line"]["payment"]) == ("16000.00", "15200.00")
    before, major = _inventory(test_database.owner_url)
    assert before.rows["case_record"] >= 4 and before.rows["settlement_line"] >= 1
    built = time.perf_counter()

    archive = tmp_path / "dianshu.dump"
    dumped = run("db", "backup", "--output", str(archive), env={"DATABASE_URL": test_database.owner_url})
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    assert archive.stat().st_size > 0 and not archive.with_name("dianshu.dump.partial").exists()
    tool = find_tool("pg_dump", major)
    assert tool.major == major and f"with {tool.path} (PostgreSQL {major}; server {major})" in dumped.stderr
    restored = run("db", "restore", "--input", str(archive), "--target", target)
    assert restored.returncode == 0, restored.stderr[-2000:]
    done = time.perf_counter()

    after, _ = _inventory(target)
    assert before.differences(after) == []
    assert after.rows == before.rows and after.policies == before.policies and after.grants == before.grants
    assert all(
        rls and forced
        for name, (rls, forced, _) in after.tables.items()
        if name != "alembic_version" and (name, f"{name}_scope") in after.policies
    )
    # The table on stdout is the restored counts.
    printed = dict(line.split("\t") for line in restored.stdout.splitlines())
    assert {k: int(v) for k, v in printed.items()} == before.rows

    # The restored database, through the runtime role: the statement to the fen, and each scope
    # sees only its own (region B sees none of region A's cases; a1's user none of a2's statement).
    runtime = make_url(target).set(username="dianshu_app", password=None).render_as_string(hide_password=False)
    rdb = Database(runtime, pool_size=2)
    try:
        assert await _statement(rdb, region, city.a, march["id"], city.a1) == figures
        assert await _cases_seen(rdb, region, city.a) == await _cases_seen(db, region, city.a) >= 4
        assert await _cases_seen(rdb, scope_for(Role.region_admin, (city.b,)), city.a) == 0
        a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
        assert await _statement(rdb, a1, city.a, march["id"], city.a2) is None
        async with scoped_session(rdb, None) as s:  # no scope at all: nothing
            assert (await s.execute(text("select count(*) from case_record"))).scalar_one() == 0
            role = (await s.execute(text("select rolbypassrls from pg_roles where rolname = current_user"))).scalar()
            assert role is False
    finally:
        await rdb.dispose()
    print(
        f"\ndrill: build {built - started:.1f} s, backup + restore {done - built:.1f} s, "
        f"{sum(before.rows.values()):,} rows in {len(before.rows)} tables, PostgreSQL {major}"
    )


def test_restore_refuses_a_database_that_is_not_empty(test_database, tmp_path):
    archive = tmp_path / "x.dump"
    archive.write_bytes(b"PGDMP")
    out = run("db", "restore", "--input", str(archive), "--target", test_database.owner_url)
    assert out.returncode == 1 and "restore into an empty or new database" in out.stderr, out.stderr
    missing = run("db", "restore", "--input", str(tmp_path / "none.dump"), "--target", test_database.owner_url)
    assert missing.returncode == 2 and "none.dump: no such archive" in missing.stderr, missing.stderr


def test_the_tools_are_chosen_by_the_servers_major_version(tmp_path, monkeypatch):
    fake = tmp_path / "pg_dump"
    fake.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 11.2'\n")
    fake.chmod(0o755)
    assert tool_major(fake) == 11
    monkeypatch.setenv("DIANSHU_PG_BIN", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    # A server newer than every tool found: refused, naming the package.
    with pytest.raises(BackupError, match=r"no pg_dump for PostgreSQL 99 .*postgresql-client-99"):
        find_tool("pg_dump", 99)
    assert find_tool("pg_dump", 11).path == fake  # DIANSHU_PG_BIN first when its major matches
