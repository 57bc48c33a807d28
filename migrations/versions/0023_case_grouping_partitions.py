"""case_grouping partitioned by year (its case's discharge year)

case_grouping becomes LIST-partitioned by a new `year` column, the discharge year of its case (a
case version's discharge month never changes: a correction is a new case version, a new row), one
partition per year made on demand by dianshu_year_partition(parent, year) (db/partitions.py),
which this migration replaces with one that knows case_grouping too; each of its partitions keeps
0011's fillfactor 50 (a partitioned parent has no storage of its own). The primary key gains
`year` last (tenant_id, case_id, version_id, year): a key of a partitioned table must hold its
partition key, and lookups by (tenant, case, version) keep their index prefix. The foreign key to
case_record stays. Row-level security as for case_point (0020): the parent keeps its forced policy
and its grants (select, insert, update); each partition gets the same forced policy and no grant.

The rows move as in 0020: the old table is set aside, a partition made for every year its cases
have, the rows copied with their case's year, the counts compared, the old table dropped.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03
"""

from collections.abc import Sequence

from alembic import context, op

from dianshu.db import rls
from dianshu.db.partitions import YearPartitioned, year_partition_function

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    "hospital_id varchar(20) not null, mdc varchar(8), adrg varchar(8), drg varchar(8) not null, "
    "status varchar(12) not null, mcc text[] not null, cc text[] not null, messages jsonb not null, "
    "job_id uuid not null, grouped_at timestamptz not null default now()"
)
NAMES = "tenant_id, case_id, version_id, hospital_id, mdc, adrg, drg, status, mcc, cc, messages, job_id, grouped_at"
FOREIGN_KEY = (
    "constraint fk_case_grouping_tenant_id_case_id_case_record foreign key (tenant_id, case_id) "
    "references case_record (tenant_id, id)"
)
# The function as 0020 made it, for the downgrade.
CASE_POINT_ONLY = {"case_point": YearPartitioned("hospital_id")}
BOTH = {**CASE_POINT_ONLY, "case_grouping": YearPartitioned("hospital_id", storage="fillfactor = 50")}


def _aside(name: str) -> None:
    """Rename case_grouping and its key, foreign key and index out of the way."""
    op.execute(f"alter table case_grouping rename to {name}")
    op.execute(f"alter table {name} rename constraint pk_case_grouping to pk_{name}")
    op.execute(f"alter table {name} rename constraint fk_case_grouping_tenant_id_case_id_case_record to fk_{name}")
    op.execute(f"alter index ix_case_grouping_drg rename to ix_{name}_drg")
    op.execute(f"alter table {name} no force row level security")  # the owner reads every tenant's rows


def _protect(app: str) -> None:
    for statement in (
        *rls.protect("case_grouping", "hospital_id"),
        rls.grant("case_grouping", app, "select, insert, update"),
    ):
        op.execute(statement)


def _same_count(old: str) -> None:
    op.execute(f"""
    do $$ declare a bigint; b bigint; begin
      select count(*) into a from {old};
      select count(*) into b from case_grouping;
      if a <> b then
        raise exception 'case_grouping: % rows before, % after', a, b;
      end if;
    end $$""")


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    op.execute(year_partition_function(BOTH))
    _aside("case_grouping_unpartitioned")
    op.execute(f"""
    create table case_grouping (
        tenant_id varchar(12) not null, case_id bigint not null, version_id uuid not null, year smallint not null,
        {COLUMNS},
        constraint pk_case_grouping primary key (tenant_id, case_id, version_id, year),
        {FOREIGN_KEY}
    ) partition by list (year)""")
    op.execute("create index ix_case_grouping_drg on case_grouping (tenant_id, version_id, drg)")
    op.execute("alter table case_record no force row level security")
    op.execute("""
    select dianshu_year_partition('case_grouping', y) from (
      select distinct extract(year from c.discharge_month)::int as y
      from case_grouping_unpartitioned g join case_record c on c.tenant_id = g.tenant_id and c.id = g.case_id
    ) years""")
    op.execute(f"""
    insert into case_grouping ({NAMES}, year)
    select {", ".join(f"g.{n.strip()}" for n in NAMES.split(","))}, extract(year from c.discharge_month)::int
    from case_grouping_unpartitioned g join case_record c on c.tenant_id = g.tenant_id and c.id = g.case_id""")
    _same_count("case_grouping_unpartitioned")
    op.execute("alter table case_record force row level security")
    op.execute("drop table case_grouping_unpartitioned")
    _protect(app)
    op.execute("analyze case_grouping")


def downgrade() -> None:
    app = context.config.attributes["app_role"]
    _aside("case_grouping_partitioned")
    op.execute(f"""
    create table case_grouping (
        tenant_id varchar(12) not null, case_id bigint not null, version_id uuid not null,
        {COLUMNS},
        constraint pk_case_grouping primary key (tenant_id, case_id, version_id),
        {FOREIGN_KEY}
    ) with (fillfactor = 50)""")
    op.execute("create index ix_case_grouping_drg on case_grouping (tenant_id, version_id, drg)")
    op.execute(f"insert into case_grouping ({NAMES}) select {NAMES} from case_grouping_partitioned")
    _same_count("case_grouping_partitioned")
    op.execute("drop table case_grouping_partitioned")  # and its partitions
    _protect(app)
    op.execute(year_partition_function(CASE_POINT_ONLY))
