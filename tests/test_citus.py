"""The schema is ready to distribute on Citus by tenant_id, read from the migrated database's
catalogue; `dianshu db citus-plan` prints every table once, in an order its foreign keys allow."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import create_engine, pool, text

from dianshu.db.base import CITY_WIDE_TABLES
from dianshu.db.citus import CITUS_EXCEPTIONS, read_catalogue, violations
from dianshu.db.session import sync_url
from tests.test_cli import run


@pytest.fixture(scope="module")
def owner(test_database):
    engine = create_engine(sync_url(test_database.owner_url), poolclass=pool.NullPool)
    with engine.connect() as c:
        yield c
    engine.dispose()


def test_the_migrated_schema_is_citus_ready(owner):
    cat = read_catalogue(owner)
    # The catalogue was read, not guessed: the tables the isolation tests know are there, every
    # table has its primary key, and the case tables' keys are in it.
    assert {"hospital", "case_record", "case_grouping", "tenant", "drg_scheme"} <= set(cat.tables)
    assert {k.table for k in cat.keys if k.kind == "primary key"} >= set(cat.distributed_tables)
    assert set(cat.reference_tables) == CITY_WIDE_TABLES & set(cat.tables)
    found = violations(cat)
    assert [v for v in found if v not in CITUS_EXCEPTIONS] == []
    # An exception that no longer occurs is removed from the list, not kept as a blank cheque.
    assert [e for e in CITUS_EXCEPTIONS if e not in found] == []


def test_each_kind_of_violation_is_found(owner):
    """Throwaway tables, created and rolled back in one transaction, break each rule once."""
    owner.rollback()  # end the catalogue reads' implicit transaction
    tx = owner.begin()
    try:
        owner.execute(
            text("""
            create table zz_parent (tenant_id varchar(12) not null, id int not null, primary key (tenant_id, id));
            create table zz_child (
                tenant_id varchar(12) not null, id int primary key, parent_id int, code text unique,
                parent_tenant varchar(12));
            alter table zz_child add constraint zz_child_parent foreign key (parent_tenant, parent_id)
                references zz_parent (tenant_id, id);
            create table zz_orphan (id int primary key);
            create table zz_wide (tenant_id text not null, n int, primary key (tenant_id, n));
            create table zz_part (tenant_id varchar(12) not null, year int not null, id int not null,
                                  primary key (tenant_id, year, id)) partition by list (year);
            create table zz_part_2025 partition of zz_part for values in (2025);
            create table zz_part_ref (tenant_id varchar(12) not null, id int not null, year int, part_id int,
                                      primary key (tenant_id, id),
                                      foreign key (tenant_id, year, part_id) references zz_part);
            """)
        )
        # A partitioned table is one table (its partitions are distributed with it), a foreign key
        # to it one foreign key.
        cat = read_catalogue(owner)
        assert "zz_part" in cat.tables and "zz_part_2025" not in cat.tables
        assert [fk.referenced for fk in cat.foreign_keys if fk.table == "zz_part_ref"] == ["zz_part"]
        # A reference table (tenant) pointing at a distributed one (zz_parent).
        owner.execute(text("alter table tenant add column zz_p int, add column zz_t varchar(12)"))
        owner.execute(
            text("alter table tenant add constraint zz_tenant_p foreign key (zz_t, zz_p) references zz_parent")
        )
        found = [v for v in violations(read_catalogue(owner)) if "zz_" in v]
    finally:
        tx.rollback()
    assert found == [
        "zz_orphan: no tenant_id and not declared city-wide (CITY_WIDE_TABLES)",
        "tenant_id has several types, so the tables cannot be colocated: "
        + str({"character varying(12)": sorted(_distributed_names(owner)), "text": ["zz_wide"]}),
        "zz_child: unique constraint zz_child_code_key (code) lacks tenant_id",
        "zz_child: primary key zz_child_pkey (id) lacks tenant_id",
        "tenant: foreign key zz_tenant_p from a reference table to the distributed zz_parent",
        "zz_child: foreign key zz_child_parent (parent_tenant, parent_id) -> zz_parent (tenant_id, id) "
        "does not join tenant_id to tenant_id",
    ]


def _distributed_names(owner) -> list[str]:
    # The tables with a varchar(12) tenant_id while the throwaway ones existed: today's, plus four.
    return [*read_catalogue(owner).distributed_tables, "zz_child", "zz_parent", "zz_part", "zz_part_ref"]


def test_citus_plan_lists_every_table_once_in_foreign_key_order(test_database, owner):
    out = run("db", "citus-plan")
    assert out.returncode == 0, out.stderr[-2000:]
    lines = [line for line in out.stdout.splitlines() if not line.startswith("--")]
    statement = re.compile(
        r"select create_reference_table\('(\w+)'\);"
        r"|select create_distributed_table\('(\w+)', 'tenant_id', colocate_with => '(\w+)'\);"
    )
    matches = [statement.fullmatch(line) for line in lines]
    assert all(matches), [line for line, m in zip(lines, matches, strict=True) if not m]
    order = [m[1] or m[2] for m in matches]
    reference = [m[1] for m in matches if m[1]]
    distributed = [m[2] for m in matches if m[2]]
    # Checked against the catalogue, read here with its own queries.
    tables = dict(
        owner.execute(
            text("""
            select c.relname, exists (select 1 from pg_attribute a where a.attrelid = c.oid
                                      and a.attname = 'tenant_id' and not a.attisdropped)
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition""")
        ).all()
    )
    assert sorted(order) == sorted(tables) and len(order) == len(set(order))  # each table exactly once
    assert set(reference) == {t for t, has in tables.items() if not has}
    assert order[: len(reference)] == reference  # the reference tables first
    edges = owner.execute(
        text("""
        select src.relname, dst.relname from pg_constraint c
        join pg_class src on src.oid = c.conrelid join pg_class dst on dst.oid = c.confrelid
        where c.contype = 'f' and c.conparentid = 0 and not src.relispartition and src.relname <> dst.relname""")
    ).all()
    assert len(edges) > 30
    position = {t: i for i, t in enumerate(order)}
    for src, dst in edges:
        assert position[dst] < position[src], f"{src} references {dst} but comes first"
    # The one comment names the distributed tables with triggers (the immutability guards).
    comments = [line for line in out.stdout.splitlines() if line.startswith("--")]
    triggered = (
        owner.execute(
            text("""
            select distinct c.relname from pg_trigger t join pg_class c on c.oid = t.tgrelid
            join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id'
            where not t.tgisinternal order by 1""")
        )
        .scalars()
        .all()
    )
    assert "settlement_run" in triggered
    assert comments == [
        f"-- {len(triggered)} distributed tables carry guard triggers ({', '.join(triggered)}): "
        "Citus runs triggers on distributed tables only with citus.enable_unsafe_triggers = on"
    ]
    # One colocation group: the first distributed table starts it, every other joins it.
    colocate = [m[3] for m in matches if m[2]]
    assert colocate[0] == "none" and set(colocate[1:]) == {distributed[0]}
