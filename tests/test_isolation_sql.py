"""Isolation through raw SQL as the runtime role: what each scope sees and may write."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from dianshu.db.session import Database, scoped_session
from dianshu.scope import Role, Scope
from tests.conftest import scope_for

TABLE_HOSPITAL_COLUMN = {"hospital": "id", "job": "hospital_id", "audit_log": "hospital_id"}


async def _seed_rows(db, city):
    """A job and an audit entry for each hospital and for each region as a whole (the jobs finished:
    no sweeper tries to send their actor-less kind)."""
    from dianshu.audit.service import record

    for tenant, hospitals in ((city.a, (city.a1, city.a2)), (city.b, (city.b1,))):
        system = Scope.system((tenant,))
        async with scoped_session(db, system) as s:
            for h in (*hospitals, None):
                await s.execute(
                    text("""
                    insert into job (tenant_id, id, kind, params, params_hash, hospital_id, created_by,
                                     created_role, status, progress_done, attempts)
                    values (:t, gen_random_uuid(), 'test', '{}', 'x', :h, 'seed', 'system', 'succeeded', 0, 0)"""),
                    {"t": tenant, "h": h},
                )
                await record(s, system, tenant, "seed", hospital_id=h)


async def _visible(db, scope):
    out = {}
    async with scoped_session(db, scope) as s:
        for table, hcol in TABLE_HOSPITAL_COLUMN.items():
            rows = (await s.execute(text(f"select tenant_id, {hcol} as h from {table}"))).all()
            out[table] = {(r.tenant_id, r.h) for r in rows}
    return out


async def test_each_scope_sees_exactly_its_rows(db, city):
    await _seed_rows(db, city)
    all_rows = await _visible(db, Scope.system(city.tenants))
    cases = {
        "city": (scope_for(Role.city_admin, city.tenants), lambda t, h: True),
        "region A": (scope_for(Role.region_admin, (city.a,)), lambda t, h: t == city.a),
        "region B": (scope_for(Role.region_viewer, (city.b,)), lambda t, h: t == city.b),
        "hospital A1": (scope_for(Role.hospital_user, (city.a,), city.a1), lambda t, h: t == city.a and h == city.a1),
        "hospital A2": (scope_for(Role.hospital_user, (city.a,), city.a2), lambda t, h: t == city.a and h == city.a2),
        "expert": (scope_for(Role.expert, (city.a,), None), lambda t, h: False),
        "no tenants": (Scope(Role.region_admin, (), all_hospitals=True), lambda t, h: False),
    }
    for name, (scope, expect) in cases.items():
        seen = await _visible(db, scope)
        for table in TABLE_HOSPITAL_COLUMN:
            expected = {r for r in all_rows[table] if expect(*r)}
            assert seen[table] == expected, f"{name} on {table}"
    # sanity: the seed is non-trivial
    assert len(all_rows["job"]) == 5 and len(all_rows["hospital"]) == 3


async def test_no_hospital_setting_is_a_wildcard(db, city):
    """Settings written by hand (a bug, an injection): only app.all_hospitals = 'on' means every
    hospital; app.hospital_id is compared by equality, so `*`, a comma list or another region's
    hospital sees no rows of region A."""
    await _seed_rows(db, city)
    for hospital in ("*", f"{city.a1},{city.a2}", city.b1, "%", "on"):
        async with db.session(None) as s, s.begin():
            await s.execute(
                text("select set_config('app.tenant_ids', :t, true), set_config('app.hospital_id', :h, true)"),
                {"t": city.a, "h": hospital},
            )
            for table in TABLE_HOSPITAL_COLUMN:
                seen = (await s.execute(text(f"select count(*) from {table}"))).scalar()
                assert seen == 0, f"app.hospital_id={hospital!r} sees {seen} rows of {table}"
    async with db.session(None) as s, s.begin():
        await s.execute(
            text("select set_config('app.tenant_ids', :t, true), set_config('app.all_hospitals', 'on', true)"),
            {"t": city.a},
        )
        assert (await s.execute(text("select count(*) from hospital"))).scalar() == 2


async def test_no_scope_at_all_sees_nothing(db, city):
    await _seed_rows(db, city)
    async with db.session(None) as s, s.begin():
        for table in TABLE_HOSPITAL_COLUMN:
            assert (await s.execute(text(f"select count(*) from {table}"))).scalar() == 0


async def test_writes_outside_the_scope_are_refused(db, city):
    hospital_a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    region_a = scope_for(Role.region_admin, (city.a,))
    attempts = [
        (
            region_a,
            "insert into hospital (tenant_id, id, name, level, type, coefficient) "
            f"values ('{city.b}', 'HX', 'x', 1, 'general', 1)",
        ),
        (
            hospital_a1,
            "insert into hospital (tenant_id, id, name, level, type, coefficient) "
            f"values ('{city.a}', 'HY', 'x', 1, 'general', 1)",
        ),
        (
            hospital_a1,
            "insert into audit_log (tenant_id, actor, role, hospital_id, action, details) "
            f"values ('{city.a}', 'x', 'x', '{city.a2}', 'x', '{{}}')",
        ),
        (
            region_a,
            "insert into audit_log (tenant_id, actor, role, action, details) "
            f"values ('{city.b}', 'x', 'x', 'x', '{{}}')",
        ),
    ]
    for scope, stmt in attempts:
        with pytest.raises(Exception, match="row-level security"):
            async with scoped_session(db, scope) as s:
                await s.execute(text(stmt))
    # Updates to rows outside the scope touch nothing.
    async with scoped_session(db, hospital_a1) as s:
        n = (await s.execute(text(f"update hospital set name = 'hijacked' where id = '{city.a2}'"))).rowcount
        assert n == 0
    async with scoped_session(db, region_a) as s:
        n = (await s.execute(text(f"update hospital set name = 'hijacked' where tenant_id = '{city.b}'"))).rowcount
        assert n == 0


async def test_a_pool_of_one_never_carries_a_scope_into_the_next_transaction(test_database, city):
    one = Database(test_database.runtime_url, pool_size=1)
    one.engine.pool._max_overflow = 0  # exactly one connection, reused by every transaction
    try:
        pids = set()
        async with scoped_session(one, scope_for(Role.hospital_user, (city.a,), city.a1)) as s:
            pids.add((await s.execute(text("select pg_backend_pid()"))).scalar())
            assert (await s.execute(text("select count(*) from hospital"))).scalar() == 1
        # The next transaction on the same connection has no scope: nothing is visible.
        async with one.session(None) as s, s.begin():
            pids.add((await s.execute(text("select pg_backend_pid()"))).scalar())
            assert (await s.execute(text("select count(*) from hospital"))).scalar() == 0
            assert (await s.execute(text("select current_setting('app.tenant_ids', true)"))).scalar() in ("", None)
        async with scoped_session(one, scope_for(Role.region_admin, (city.b,))) as s:
            pids.add((await s.execute(text("select pg_backend_pid()"))).scalar())
            rows = (await s.execute(text("select tenant_id, id from hospital"))).all()
            assert {tuple(r) for r in rows} == {(city.b, city.b1)}
        # A transaction that failed mid-way leaves nothing behind either.
        with pytest.raises(DBAPIError, match="division by zero"):
            async with scoped_session(one, scope_for(Role.region_admin, (city.a,))) as s:
                await s.execute(text("select 1/0"))
        async with one.session(None) as s, s.begin():
            pids.add((await s.execute(text("select pg_backend_pid()"))).scalar())
            assert (await s.execute(text("select count(*) from hospital"))).scalar() == 0
        assert len(pids) == 1, "the test must reuse one connection"
    finally:
        await one.dispose()
