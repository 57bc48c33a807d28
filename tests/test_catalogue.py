"""The database catalogue, checked as the owner: every tenant table is under forced row-level
security, every unique key and foreign key carries tenant_id, and the runtime role owns nothing."""

import pytest
from sqlalchemy import create_engine, pool, text

from dianshu.db.base import CITY_WIDE_TABLES
from dianshu.db.session import sync_url


@pytest.fixture(scope="module")
def owner(test_database):
    engine = create_engine(sync_url(test_database.owner_url), poolclass=pool.NullPool)
    with engine.connect() as c:
        yield c
    engine.dispose()


def _tables(owner):
    return {
        r.relname: r
        for r in owner.execute(
            text("""
            select c.relname, c.relrowsecurity, c.relforcerowsecurity,
                   exists (select 1 from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id'
                           and not a.attisdropped) as has_tenant
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind in ('r', 'p')""")
        )
    }


def test_every_table_is_tenant_scoped_or_declared_city_wide(owner):
    tables = _tables(owner)
    assert {"hospital", "job", "audit_log", "tenant"} <= set(tables)
    for name, t in tables.items():
        assert t.has_tenant or name in CITY_WIDE_TABLES, f"{name}: no tenant_id and not declared city-wide"


def test_tenant_tables_have_rls_enabled_forced_and_a_policy(owner):
    for name, t in _tables(owner).items():
        if not t.has_tenant:
            continue
        assert t.relrowsecurity, f"{name}: row-level security not enabled"
        assert t.relforcerowsecurity, f"{name}: row-level security not forced"
        n = owner.execute(text("select count(*) from pg_policies where tablename = :t"), {"t": name}).scalar()
        assert n >= 1, f"{name}: no policy"


def test_unique_keys_and_foreign_keys_include_tenant_id(owner):
    uniques = owner.execute(
        text("""
        select c.relname as tbl, i.relname as idx,
               array(select a.attname from unnest(x.indkey) k join pg_attribute a
                     on a.attrelid = x.indrelid and a.attnum = k) as cols
        from pg_index x join pg_class c on c.oid = x.indrelid join pg_class i on i.oid = x.indexrelid
        join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'public' and x.indisunique""")
    ).all()
    tenant_tables = {n for n, t in _tables(owner).items() if t.has_tenant}
    checked = 0
    for u in uniques:
        if u.tbl in tenant_tables:
            assert "tenant_id" in u.cols, f"unique index {u.idx} on {u.tbl} lacks tenant_id: {u.cols}"
            checked += 1
    assert checked >= 4
    fks = owner.execute(
        text("""
        select c.conname, src.relname as src, dst.relname as dst,
               array(select a.attname from unnest(c.conkey) k join pg_attribute a
                     on a.attrelid = c.conrelid and a.attnum = k) as cols
        from pg_constraint c join pg_class src on src.oid = c.conrelid join pg_class dst on dst.oid = c.confrelid
        where c.contype = 'f'""")
    ).all()
    for fk in fks:
        if fk.src in tenant_tables and fk.dst in tenant_tables:
            assert "tenant_id" in fk.cols, f"foreign key {fk.conname} between tenant tables lacks tenant_id"


def test_runtime_role_owns_nothing_and_bypasses_nothing(owner, settings):
    role = settings.app_role
    r = owner.execute(
        text("select rolsuper, rolbypassrls, rolcreaterole, rolcreatedb from pg_roles where rolname = :r"), {"r": role}
    ).one()
    assert not any(r), f"{role} has a dangerous attribute: {r}"
    owned = (
        owner.execute(
            text("""
        with r as (select oid from pg_roles where rolname = :r)
        select 'relation ' || relname from pg_class where relowner = (select oid from r)
        union all select 'function ' || proname from pg_proc where proowner = (select oid from r)
        union all select 'schema ' || nspname from pg_namespace where nspowner = (select oid from r)
        union all select 'type ' || typname from pg_type where typowner = (select oid from r)
        """),
            {"r": role},
        )
        .scalars()
        .all()
    )
    assert owned == []


def test_runtime_role_cannot_write_city_wide_registries_or_rewrite_the_audit_log(test_database, settings):
    engine = create_engine(sync_url(test_database.runtime_url), poolclass=pool.NullPool)
    with engine.connect() as c:
        for stmt in [
            "insert into tenant (code, name, kind) values ('ZZ1', 'x', 'city')",
            "insert into service_account (id, name, tenant_ids, active) values ('x', 'x', '{}', true)",
            "update audit_log set action = 'x'",
            "delete from audit_log",
            "delete from hospital",
            "alter table hospital disable row level security",
        ]:
            with pytest.raises(Exception, match=r"permission denied|must be owner"):
                c.execute(text(stmt))
            c.rollback()
    engine.dispose()
