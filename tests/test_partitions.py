"""Year partitions of case_point (db/partitions.py, migration 0020): made on demand, once, by two
racing callers; under forced row-level security and out of the runtime role's reach; and the
migration moves existing rows in and (downgrade) out again."""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from dianshu.db.partitions import LIST_PARTITIONS_SQL, partition_name
from dianshu.db.session import Database, scoped_session, sync_url
from dianshu.scope import Scope
from tests.conftest import _admin_url

ROOT = Path(__file__).resolve().parents[1]


def _migration_0020():
    path = ROOT / "migrations" / "versions" / "0020_case_point_partitions.py"
    spec = importlib.util.spec_from_file_location("migration_0020", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _partitions(url: str) -> dict[str, str]:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.connect() as c:
        rows = c.execute(text(LIST_PARTITIONS_SQL)).all()
    engine.dispose()
    return {r.partition: r.bound for r in rows if r.parent == "case_point"}


async def test_two_racing_jobs_make_one_partition_and_the_runtime_role_cannot_reach_it(test_database, db):
    year = 2090 + secrets.randbelow(10)  # a year no other test writes
    name = partition_name("case_point", year)
    scope = Scope.system(("ZZ",))

    async def make() -> str:
        async with scoped_session(db, scope) as s:
            return (await s.execute(text("select dianshu_year_partition('case_point', :y)"), {"y": year})).scalar_one()

    if name in _partitions(test_database.owner_url):
        pytest.skip(f"{name} exists already (a rerun on a kept database)")
    assert await asyncio.gather(make(), make(), make()) == [name, name, name]
    assert _partitions(test_database.owner_url)[name] == f"FOR VALUES IN ('{year}')"

    engine = create_engine(sync_url(test_database.owner_url), poolclass=pool.NullPool)
    with engine.connect() as c:
        t = c.execute(
            text("select relrowsecurity, relforcerowsecurity, relacl from pg_class where relname = :n"), {"n": name}
        ).one()
        policy = c.execute(text("select qual from pg_policies where tablename = :n"), {"n": name}).scalar_one()
        parents = c.execute(text("select qual from pg_policies where tablename = 'case_point'")).scalar_one()
        owner = c.execute(text("select pg_get_userbyid(relowner) from pg_class where relname = :n"), {"n": name})
        owner = owner.scalar_one()
    engine.dispose()
    assert t.relrowsecurity and t.relforcerowsecurity
    assert policy == parents and "dianshu_tenant_ids()" in policy and "dianshu_hospital_visible" in policy
    assert owner != make_url(test_database.runtime_url).username  # the runtime role owns nothing
    assert not any(make_url(test_database.runtime_url).username in str(a) for a in (t.relacl or []))

    # Through the parent: fine. The partition itself: no privilege, for any statement.
    async with scoped_session(db, scope) as s:
        assert (await s.execute(text("select count(*) from case_point where year = :y"), {"y": year})).scalar() == 0
    for statement in (
        f"select count(*) from {name}",
        f"insert into {name} (tenant_id, run_id, case_id, year, hospital_id, list_id, ledger, month, drg, type, "
        f"points, original, addon, deduction, self_pay, fund_pay, reason) values ('ZZ', gen_random_uuid(), 1, "
        f"{year}, 'H', 'L', 'employee', 1, 'A', 'normal', 1, 1, 0, 0, 0, 0, '')",
        f"delete from {name}",
        f"alter table {name} no force row level security",
    ):
        with pytest.raises(Exception, match=r"permission denied|must be owner"):
            async with scoped_session(db, scope) as s:
                await s.execute(text(statement))


@pytest.mark.parametrize(
    "parent, year, message",
    [("case_record", 2025, "not partitioned by year"), ("case_point", 1999, "out of range"), ("x; drop", 2025, "not")],
)
async def test_the_partition_function_refuses_other_tables_and_odd_years(db, parent, year, message):
    with pytest.raises(Exception, match=message):
        async with scoped_session(db, Scope.system(("ZZ",))) as s:
            await s.execute(text("select dianshu_year_partition(:p, :y)"), {"p": parent, "y": year})


@pytest.fixture
def scratch_database():
    """A database of its own, migrated to just before 0020 (as the owner role)."""
    from dianshu.config import Settings
    from dianshu_cli.migrate import upgrade

    admin = _admin_url()
    name = f"dianshu_mig_{secrets.token_hex(4)}"
    engine = create_engine(sync_url(admin), isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with engine.connect() as c:
        c.execute(text(f'create database "{name}"'))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    settings = Settings(database_url=url)
    upgrade(settings, owner_url=url, revision=_migration_0020().down_revision)
    try:
        yield settings, url
    finally:
        with engine.connect() as c:
            c.execute(text(f'drop database if exists "{name}" with (force)'))
        engine.dispose()


def _alembic(url: str, direction: str, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from dianshu_cli.migrate import migrations_dir

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["owner_url"] = url
    getattr(command, direction)(cfg, revision)


def test_the_migration_moves_rows_in_and_out(scratch_database, settings):
    """Two tenants' points runs of 2024 and 2025 with their case points, written before 0020: after
    it, every row is in its run's year partition with that year; the runtime role sees a tenant's
    rows through the parent; downgrade puts the same rows back in a plain table, and upgrade again."""
    scratch, url = scratch_database
    runs = {("T1", 2024): uuid.uuid4(), ("T1", 2025): uuid.uuid4(), ("T2", 2025): uuid.uuid4()}
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)

    def rows(c, sql):
        return sorted(tuple(r) for r in c.execute(text(sql)).all())

    with engine.begin() as c:
        c.execute(text(f'set local role "{settings.owner_role}"'))
        c.execute(text("set local app.tenant_ids = 'T1,T2'"))
        c.execute(text("set local app.all_hospitals = 'on'"))
        c.execute(
            text("""insert into tenant (code, name, kind, parent_code) values
                    ('TC', 'city', 'city', null), ('T1', 'one', 'region', 'TC'), ('T2', 'two', 'region', 'TC')""")
        )
        for (tenant, year), run in runs.items():
            c.execute(
                text("""insert into points_run (tenant_id, id, year, through_month, version, standard_id,
                        scheme_version_id, inputs, summary, created_by)
                        values (:t, :r, :y, 12, 1, gen_random_uuid(), gen_random_uuid(), '{}', '{}', 'test')"""),
                {"t": tenant, "r": run, "y": year},
            )
            for case_id in (1, 2, 3):
                c.execute(
                    text("""insert into case_point (tenant_id, run_id, case_id, hospital_id, list_id, ledger, month,
                            drg, type, points, original, addon, deduction, self_pay, fund_pay, reason)
                            values (:t, :r, :c, 'H1', 'L' || :c, 'employee', 3, 'GB11', 'normal',
                                    :c * 10.5, :c * 10.5, 0, 0, 100.25, 900.75, 'tab\there')"""),
                    {"t": tenant, "r": run, "c": case_id},
                )
        before = rows(c, "select tenant_id, run_id, case_id, points, reason from case_point")
    assert len(before) == 9

    _alembic(url, "upgrade", _migration_0020().revision)
    assert _partitions(url) == {
        "case_point_y2024": "FOR VALUES IN ('2024')",
        "case_point_y2025": "FOR VALUES IN ('2025')",
    }
    with engine.begin() as c:
        assert c.execute(text("select relkind from pg_class where relname = 'case_point'")).scalar() == "p"
        c.execute(text(f'set local role "{settings.owner_role}"'))
        c.execute(text("set local app.tenant_ids = 'T1,T2'"))
        c.execute(text("set local app.all_hospitals = 'on'"))
        assert rows(c, "select tenant_id, run_id, case_id, points, reason from case_point") == before
        by_year = rows(c, "select tenant_id, year, count(*) from case_point group by 1, 2")
        assert by_year == [("T1", 2024, 3), ("T1", 2025, 3), ("T2", 2025, 3)]
        assert c.execute(text("select count(*) from case_point_y2024")).scalar() == 3
        # The parent's policy is back and forced: without a scope, nothing.
        c.execute(text("set local app.tenant_ids = ''"))
        assert c.execute(text("select count(*) from case_point")).scalar() == 0
    # The runtime role, scoped to T2, sees T2's three rows through the parent and nothing directly.
    runtime = Database(scratch.runtime_url())

    async def as_runtime():
        try:
            async with scoped_session(runtime, Scope.system(("T2",))) as s:
                n = (await s.execute(text("select count(*) from case_point"))).scalar()
            with pytest.raises(Exception, match="permission denied"):
                async with scoped_session(runtime, Scope.system(("T2",))) as s:
                    await s.execute(text("select count(*) from case_point_y2025"))
            return n
        finally:
            await runtime.dispose()

    assert asyncio.run(as_runtime()) == 3

    _alembic(url, "downgrade", _migration_0020().down_revision)
    with engine.begin() as c:
        assert c.execute(text("select relkind from pg_class where relname = 'case_point'")).scalar() == "r"
        assert c.execute(text("select count(*) from pg_class where relname like 'case_point_y%'")).scalar() == 0
        c.execute(text(f'set local role "{settings.owner_role}"'))
        c.execute(text("set local app.tenant_ids = 'T1,T2'"))
        c.execute(text("set local app.all_hospitals = 'on'"))
        assert rows(c, "select tenant_id, run_id, case_id, points, reason from case_point") == before
        assert c.execute(text("select relforcerowsecurity from pg_class where relname = 'case_point'")).scalar()
    _alembic(url, "upgrade", _migration_0020().revision)
    with engine.begin() as c:
        c.execute(text(f'set local role "{settings.owner_role}"'))
        c.execute(text("set local app.tenant_ids = 'T1,T2'"))
        c.execute(text("set local app.all_hospitals = 'on'"))
        assert rows(c, "select tenant_id, run_id, case_id, points, reason from case_point") == before
    engine.dispose()


def test_the_migration_on_an_empty_database_makes_no_partition(scratch_database):
    _, url = scratch_database
    _alembic(url, "upgrade", _migration_0020().revision)
    assert _partitions(url) == {}
    _alembic(url, "downgrade", _migration_0020().down_revision)
    _alembic(url, "upgrade", _migration_0020().revision)
