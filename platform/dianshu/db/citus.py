"""The scale-out path: the schema read from the live catalogue, checked for what Citus needs to
distribute every tenant table by `tenant_id`, and the statements that distribute it.

Citus's rules, as checked here:
- a distributed table's primary key and every unique constraint or index include the distribution
  column (`tenant_id`);
- a foreign key between two distributed tables joins their `tenant_id`s (the tables are colocated,
  so the rows it relates live on one node);
- a reference table (copied to every node) may not reference a distributed table; a distributed
  table may reference a reference table;
- colocated tables share the distribution column's type.
The city-wide tables are `dianshu.db.base.CITY_WIDE_TABLES` (the one list); every other table has
`tenant_id` and is distributed. A known exception goes into `CITUS_EXCEPTIONS` with its reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.engine import Connection

from dianshu.db.base import CITY_WIDE_TABLES

DISTRIBUTION_COLUMN = "tenant_id"

# Violations accepted for now, by the text `violations` gives them, each with its reason. The test
# of the schema fails on any violation not listed here, and on an entry here that no longer occurs.
CITUS_EXCEPTIONS: dict[str, str] = {}


@dataclass(frozen=True)
class Key:
    """A primary key, unique constraint or unique index of one table."""

    table: str
    name: str
    kind: str  # "primary key", "unique constraint", "unique index", "exclusion constraint"
    columns: tuple[str, ...]  # index expressions appear as "(expression)"


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    referenced: str
    referenced_columns: tuple[str, ...]
    on_delete: str = "a"  # pg_constraint.confdeltype: a no action, r restrict, c cascade, n set null, d set default


@dataclass(frozen=True)
class Catalogue:
    tables: dict[str, str | None]  # table -> the type of its tenant_id column (None: none)
    keys: tuple[Key, ...]
    foreign_keys: tuple[ForeignKey, ...]
    triggers: dict[str, int] = field(default_factory=dict)  # table -> user triggers on it
    city_wide: frozenset[str] = field(default=CITY_WIDE_TABLES)

    @property
    def reference_tables(self) -> list[str]:
        return sorted(t for t, tenant in self.tables.items() if tenant is None)

    @property
    def distributed_tables(self) -> list[str]:
        return sorted(t for t, tenant in self.tables.items() if tenant is not None)


def read_catalogue(conn: Connection, schema: str = "public") -> Catalogue:
    """The tables of `schema` (plain and partitioned; a partition is its parent's), their keys and
    foreign keys, as the database has them."""
    tables = {
        r.relname: r.tenant_type
        for r in conn.execute(
            text("""
            select c.relname,
                   (select format_type(a.atttypid, a.atttypmod) from pg_attribute a
                     where a.attrelid = c.oid and a.attname = :col and not a.attisdropped) as tenant_type
            from pg_class c join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = :s and c.relkind in ('r', 'p') and not c.relispartition"""),
            {"s": schema, "col": DISTRIBUTION_COLUMN},
        )
    }
    keys = [
        Key(r.tbl, r.name, r.kind, tuple(r.cols))
        for r in conn.execute(
            text("""
            select t.relname as tbl, i.relname as name,
                   case when x.indisprimary then 'primary key'
                        when con.contype = 'u' then 'unique constraint'
                        when con.contype = 'x' then 'exclusion constraint'
                        else 'unique index' end as kind,
                   array(select coalesce(a.attname, '(' || pg_get_indexdef(x.indexrelid, k.n::int, true) || ')')
                         from unnest(x.indkey) with ordinality k(attnum, n)
                         left join pg_attribute a on a.attrelid = x.indrelid and a.attnum = k.attnum
                         where k.n <= x.indnkeyatts
                         order by k.n) as cols
            from pg_index x
            join pg_class t on t.oid = x.indrelid join pg_class i on i.oid = x.indexrelid
            join pg_namespace n on n.oid = t.relnamespace
            left join pg_constraint con on con.conindid = x.indexrelid and con.conrelid = x.indrelid
            where n.nspname = :s and not t.relispartition and t.relkind in ('r', 'p')
              and (x.indisunique or con.contype = 'x')
            order by 1, 2"""),
            {"s": schema},
        )
    ]
    fks = [
        ForeignKey(r.name, r.src, tuple(r.cols), r.dst, tuple(r.dst_cols), r.confdeltype)
        for r in conn.execute(
            text("""
            select c.conname as name, src.relname as src, dst.relname as dst, c.confdeltype,
                   array(select a.attname from unnest(c.conkey) with ordinality k(attnum, n)
                         join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum
                         order by k.n) as cols,
                   array(select a.attname from unnest(c.confkey) with ordinality k(attnum, n)
                         join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum
                         order by k.n) as dst_cols
            from pg_constraint c
            join pg_class src on src.oid = c.conrelid join pg_class dst on dst.oid = c.confrelid
            join pg_namespace n on n.oid = src.relnamespace
            where c.contype = 'f' and n.nspname = :s and not src.relispartition and c.conparentid = 0
            order by 2, 1"""),
            {"s": schema},
        )
    ]
    triggers = {
        r.tbl: r.n
        for r in conn.execute(
            text("""
            select c.relname as tbl, count(*) as n from pg_trigger t
            join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
            where n.nspname = :s and not t.tgisinternal and not c.relispartition group by 1"""),
            {"s": schema},
        )
    }
    return Catalogue(tables, tuple(keys), tuple(fks), triggers)


def violations(cat: Catalogue) -> list[str]:
    """What keeps the schema from being distributed by tenant_id, one sentence each (exceptions
    included: the caller subtracts CITUS_EXCEPTIONS)."""
    out: list[str] = []
    for table, tenant in sorted(cat.tables.items()):
        if tenant is None and table not in cat.city_wide:
            out.append(f"{table}: no {DISTRIBUTION_COLUMN} and not declared city-wide (CITY_WIDE_TABLES)")
        if tenant is not None and table in cat.city_wide:
            out.append(f"{table}: declared city-wide but has {DISTRIBUTION_COLUMN}")
    distributed = {t for t, tenant in cat.tables.items() if tenant is not None}
    types = sorted({cat.tables[t] for t in distributed})
    if len(types) > 1:
        by_type = {ty: sorted(t for t in distributed if cat.tables[t] == ty) for ty in types}
        out.append(f"{DISTRIBUTION_COLUMN} has several types, so the tables cannot be colocated: {by_type}")
    with_pk = {k.table for k in cat.keys if k.kind == "primary key"}
    for table in sorted(distributed - with_pk):
        out.append(f"{table}: no primary key")
    for k in cat.keys:
        if k.table in distributed and DISTRIBUTION_COLUMN not in k.columns:
            out.append(f"{k.table}: {k.kind} {k.name} ({', '.join(k.columns)}) lacks {DISTRIBUTION_COLUMN}")
    for fk in cat.foreign_keys:
        src_d, dst_d = fk.table in distributed, fk.referenced in distributed
        if not src_d and dst_d:
            out.append(f"{fk.table}: foreign key {fk.name} from a reference table to the distributed {fk.referenced}")
        elif src_d and dst_d and not _joins_tenants(fk):
            out.append(
                f"{fk.table}: foreign key {fk.name} ({', '.join(fk.columns)}) -> {fk.referenced} "
                f"({', '.join(fk.referenced_columns)}) does not join {DISTRIBUTION_COLUMN} to {DISTRIBUTION_COLUMN}"
            )
        elif src_d and dst_d and fk.on_delete in ("n", "d"):
            out.append(
                f"{fk.table}: foreign key {fk.name} sets its columns, {DISTRIBUTION_COLUMN} among them, on delete "
                "(Citus refuses SET NULL / SET DEFAULT on the distribution column)"
            )
    return out


def _joins_tenants(fk: ForeignKey) -> bool:
    return any(
        a == DISTRIBUTION_COLUMN and b == DISTRIBUTION_COLUMN
        for a, b in zip(fk.columns, fk.referenced_columns, strict=True)
    )


class CitusPlanError(RuntimeError):
    pass


def _dependency_order(tables: Iterable[str], fks: Iterable[ForeignKey]) -> list[str]:
    """The tables so that each comes after the tables its foreign keys reference (within the set;
    self-references ignored); ties by name. CitusPlanError on a cycle."""
    todo = set(tables)
    needs = {t: set() for t in todo}
    for fk in fks:
        if fk.table in todo and fk.referenced in todo and fk.referenced != fk.table:
            needs[fk.table].add(fk.referenced)
    order: list[str] = []
    while todo:
        ready = sorted(t for t in todo if not (needs[t] & todo))
        if not ready:
            raise CitusPlanError(f"foreign keys form a cycle among {sorted(todo)}")
        order.extend(ready)
        todo -= set(ready)
    return order


def plan(cat: Catalogue) -> list[str]:
    """The statements that make a migrated single-node database a Citus cluster's schema: the
    reference tables first, then the distributed tables, each after the tables it references, all
    colocated with the first. Comment lines (`--`) say what the operator must do first."""
    statements = []
    with_triggers = [t for t in cat.distributed_tables if cat.triggers.get(t)]
    if with_triggers:
        statements.append(
            f"-- {len(with_triggers)} distributed tables carry guard triggers ({', '.join(with_triggers)}): "
            "Citus runs triggers on distributed tables only with citus.enable_unsafe_triggers = on"
        )
    statements += [
        f"select create_reference_table('{t}');" for t in _dependency_order(cat.reference_tables, cat.foreign_keys)
    ]
    distributed = _dependency_order(cat.distributed_tables, cat.foreign_keys)
    for i, t in enumerate(distributed):
        colocate = "'none'" if i == 0 else f"'{distributed[0]}'"
        statements.append(
            f"select create_distributed_table('{t}', '{DISTRIBUTION_COLUMN}', colocate_with => {colocate});"
        )
    return statements
