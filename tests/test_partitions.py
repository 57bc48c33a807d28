"""Year partitions of case_point and case_grouping (db/partitions.py, migrations 0020 and 0023):
made on demand, once, by racing callers; under forced row-level security and out of the runtime
role's reach; and each migration moves existing rows in and (downgrade) out again."""

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


def _migration(number: str):
    (path,) = (ROOT / "migrations" / "versions").glob(f"{number}_*.py")
    spec = importlib.util.spec_from_file_location(f"migration_{number}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _migration_0020():
    return _migration("0020")


def _partitions(url: str, parent: str = "case_point") -> dict[str, str]:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.connect() as c:
        rows = c.execute(text(LIST_PARTITIONS_SQL)).all()
    engine.dispose()
    return {r.partition: r.bound for r in rows if r.parent == parent}


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
def scratch_database(request):
    """A database of its own, migrated to just before 0020 (or the migration named by indirect
    parametrisation), as the owner role."""
    from dianshu.config import Settings
    from dianshu_cli.migrate import upgrade

    admin = _admin_url()
    name = f"dianshu_mig_{secrets.token_hex(4)}"
    engine = create_engine(sync_url(admin), isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with engine.connect() as c:
        c.execute(text(f'create database "{name}"'))
    url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    settings = Settings(database_url=url)
    upgrade(settings, owner_url=url, revision=_migration(getattr(request, "param", "0020")).down_revision)
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


def _case_and_grouping_rows(c) -> None:
    """Three cases of two tenants discharged in December 2024, January 2025 and March 2025, and
    their groupings (the first under two scheme versions), written before 0023. Foreign keys are not
    checked here (session_replication_role): the cases stand alone, without their batches."""
    c.execute(text("set local session_replication_role = replica"))
    c.execute(
        text("""insert into tenant (code, name, kind, parent_code) values
                ('TC', 'city', 'city', null), ('T1', 'one', 'region', 'TC'), ('T2', 'two', 'region', 'TC')""")
    )
    for tenant, case_id, month in (("T1", 1, "2024-12-01"), ("T1", 2, "2025-01-01"), ("T2", 3, "2025-03-01")):
        c.execute(
            text("""insert into case_record (tenant_id, id, hospital_id, list_id, version, is_current, status,
                    batch_id, row_no, content_hash, mrn, patient_id, sex, age_years, fund_type, insured_place,
                    admit_time, discharge_time, los_days, discharge_way, readmit_planned, coding, diagnoses,
                    procedures, charges, total_cost, fund_pay, self_pay, own_pay, discharge_month)
                    values (:t, :c, 'H1', 'L' || :c, 1, true, 'active', gen_random_uuid(), :c, 'h', 'm', 'p',
                    1, 50, '310', 1, cast(:m as date) - 3, cast(:m as date), 3, 1, false, 'yibao', '{J18.900}',
                    '{}', '{}', 100, 80, 20, 0, cast(:m as date))"""),
            {"t": tenant, "c": case_id, "m": month},
        )
    for tenant, case_id, version in (
        ("T1", 1, "00000000-0000-0000-0000-00000000000a"),
        ("T1", 1, "00000000-0000-0000-0000-00000000000b"),
        ("T1", 2, "00000000-0000-0000-0000-00000000000a"),
        ("T2", 3, "00000000-0000-0000-0000-00000000000a"),
    ):
        c.execute(
            text("""insert into case_grouping (tenant_id, case_id, version_id, hospital_id, mdc, adrg, drg, status,
                    mcc, cc, messages, job_id) values (:t, :c, :v, 'H1', 'MDCE', 'ES3', 'ES35', 'grouped',
                    '{}', '{J96.000}', '[{"level": "warning", "field": "x", "text": "主要诊断 J18.900"}]',
                    gen_random_uuid())"""),
            {"t": tenant, "c": case_id, "v": version},
        )


def _scoped(c, owner_role: str) -> None:
    c.execute(text(f'set local role "{owner_role}"'))
    c.execute(text("set local app.tenant_ids = 'T1,T2'"))
    c.execute(text("set local app.all_hospitals = 'on'"))


GROUPING_ROWS = "select tenant_id, case_id, version_id, drg, cc, messages, job_id from case_grouping"


def _fillfactor(c, table: str) -> list[str] | None:
    return c.execute(text("select reloptions from pg_class where relname = :n"), {"n": table}).scalar()


@pytest.mark.parametrize("scratch_database", ["0023"], indirect=True)
def test_the_grouping_migration_moves_rows_in_and_out(scratch_database, settings):
    """After 0023 every grouping is in its case's discharge-year partition with that year, each
    partition at fillfactor 50, under forced row-level security; the runtime role reaches them
    through the parent only; downgrade puts the same rows back in a plain table, and upgrade again."""
    scratch, url = scratch_database
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)

    def rows(c):
        return sorted(tuple(map(str, r)) for r in c.execute(text(GROUPING_ROWS)).all())

    with engine.begin() as c:
        _case_and_grouping_rows(c)
    with engine.begin() as c:
        _scoped(c, settings.owner_role)
        before = rows(c)
    assert len(before) == 4

    _alembic(url, "upgrade", "0023")
    assert _partitions(url, "case_grouping") == {
        "case_grouping_y2024": "FOR VALUES IN ('2024')",
        "case_grouping_y2025": "FOR VALUES IN ('2025')",
    }
    with engine.begin() as c:
        assert c.execute(text("select relkind from pg_class where relname = 'case_grouping'")).scalar() == "p"
        assert _fillfactor(c, "case_grouping_y2024") == _fillfactor(c, "case_grouping_y2025") == ["fillfactor=50"]
        forced = "select relforcerowsecurity from pg_class where relname = :n"
        assert all(c.execute(text(forced), {"n": n}).scalar() for n in ("case_record", "case_grouping_y2024"))
        _scoped(c, settings.owner_role)
        assert rows(c) == before
        by_year = sorted(c.execute(text("select tenant_id, case_id, year from case_grouping")).all())
        assert by_year == [("T1", 1, 2024), ("T1", 1, 2024), ("T1", 2, 2025), ("T2", 3, 2025)]
        c.execute(text("set local app.tenant_ids = ''"))
        assert c.execute(text("select count(*) from case_grouping")).scalar() == 0
    runtime = Database(scratch.runtime_url())

    async def as_runtime():
        try:
            async with scoped_session(runtime, Scope.system(("T2",))) as s:
                n = (await s.execute(text("select count(*) from case_grouping"))).scalar()
                # A new year's partition, made through the function, gets the storage and the policy.
                await s.execute(text("select dianshu_year_partition('case_grouping', 2026)"))
            with pytest.raises(Exception, match="permission denied"):
                async with scoped_session(runtime, Scope.system(("T2",))) as s:
                    await s.execute(text("select count(*) from case_grouping_y2025"))
            return n
        finally:
            await runtime.dispose()

    assert asyncio.run(as_runtime()) == 1
    with engine.begin() as c:
        assert _fillfactor(c, "case_grouping_y2026") == ["fillfactor=50"]
        policy = "select qual from pg_policies where tablename = :n"
        assert (
            c.execute(text(policy), {"n": "case_grouping_y2026"}).scalar()
            == c.execute(text(policy), {"n": "case_grouping"}).scalar()
        )

    _alembic(url, "downgrade", "0022")
    with engine.begin() as c:
        assert c.execute(text("select relkind from pg_class where relname = 'case_grouping'")).scalar() == "r"
        assert c.execute(text("select count(*) from pg_class where relname like 'case_grouping_y%'")).scalar() == 0
        assert _fillfactor(c, "case_grouping") == ["fillfactor=50"]
        assert c.execute(text("select relforcerowsecurity from pg_class where relname = 'case_grouping'")).scalar()
        _scoped(c, settings.owner_role)
        assert rows(c) == before
    with pytest.raises(Exception, match="not partitioned by year"), engine.begin() as c:
        c.execute(text("select dianshu_year_partition('case_grouping', 2025)"))  # the function as 0020 made it
    _alembic(url, "upgrade", "0023")
    with engine.begin() as c:
        _scoped(c, settings.owner_role)
        assert rows(c) == before
    engine.dispose()
