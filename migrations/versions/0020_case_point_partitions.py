"""case_point partitioned by year; points_run.pruned_at; dianshu_year_partition()

case_point becomes LIST-partitioned by a new `year` column (the points run's year), one partition
per year made on demand by the SECURITY DEFINER function dianshu_year_partition(parent, year)
(db/partitions.py). The primary key gains `year` last (tenant_id, run_id, case_id, year): a key of a
partitioned table must hold its partition key, and Citus needs tenant_id in it. Row-level security:
the parent keeps its forced policy and its grants (select, insert); each partition gets the same
forced policy and no grant at all, so the runtime role reaches rows through the parent only.

The rows move: the old table is renamed, a partition is made for every year of points_run, the rows
are copied with their run's year, the counts compared, the old table dropped. Row-level security is
suspended (NO FORCE) on the tables read while they move, so the owner sees every tenant's rows.
points_run.pruned_at: when `dianshu db prune-runs` deleted a superseded run's case points.
Downgrade moves the rows back into an unpartitioned table of 0007's shape.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

from dianshu.db import rls
from dianshu.db.partitions import YearPartitioned, function_grants, year_partition_function

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (
    "hospital_id varchar(20) not null, list_id varchar(50) not null, ledger varchar(10) not null, "
    "month smallint not null, drg varchar(8) not null, type varchar(16) not null, "
    "points numeric(16, 4) not null, original numeric(16, 4) not null, addon numeric(16, 4) not null, "
    "deduction numeric(16, 4) not null, self_pay numeric(16, 2) not null, fund_pay numeric(16, 2) not null, "
    "reason text not null"
)
NAMES = (
    "tenant_id, run_id, case_id, hospital_id, list_id, ledger, month, drg, type, points, original, addon, "
    "deduction, self_pay, fund_pay, reason"
)


def _aside(name: str) -> None:
    """Rename case_point and its key and index out of the way (their names are the new table's)."""
    op.execute(f"alter table case_point rename to {name}")
    op.execute(f"alter table {name} rename constraint pk_case_point to pk_{name}")
    op.execute(f"alter index ix_case_point_hospital rename to ix_{name}_hospital")
    op.execute(f"alter table {name} no force row level security")  # the owner reads every tenant's rows


def _protect(app: str) -> None:
    for statement in (*rls.protect("case_point", "hospital_id"), rls.grant("case_point", app, "select, insert")):
        op.execute(statement)


def _same_count(old: str) -> None:
    op.execute(f"""
    do $$ declare a bigint; b bigint; begin
      select count(*) into a from {old};
      select count(*) into b from case_point;
      if a <> b then
        raise exception 'case_point: % rows before, % after (rows without a points run?)', a, b;
      end if;
    end $$""")


def upgrade() -> None:
    app = context.config.attributes["app_role"]
    op.execute(year_partition_function({"case_point": YearPartitioned("hospital_id")}))  # the parents known then
    for statement in function_grants(app):
        op.execute(statement)
    op.add_column("points_run", sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True))

    _aside("case_point_unpartitioned")
    op.execute(f"""
    create table case_point (
        tenant_id varchar(12) not null, run_id uuid not null, case_id bigint not null, year smallint not null,
        {COLUMNS},
        constraint pk_case_point primary key (tenant_id, run_id, case_id, year)
    ) partition by list (year)""")
    op.execute("create index ix_case_point_hospital on case_point (tenant_id, run_id, hospital_id)")
    op.execute("alter table points_run no force row level security")
    op.execute("select dianshu_year_partition('case_point', year) from (select distinct year from points_run) y")
    op.execute(f"""
    insert into case_point ({NAMES}, year)
    select {", ".join(f"c.{n.strip()}" for n in NAMES.split(","))}, r.year
    from case_point_unpartitioned c join points_run r on r.tenant_id = c.tenant_id and r.id = c.run_id""")
    _same_count("case_point_unpartitioned")
    op.execute("alter table points_run force row level security")
    op.execute("drop table case_point_unpartitioned")
    _protect(app)
    op.execute("analyze case_point")


def downgrade() -> None:
    app = context.config.attributes["app_role"]
    _aside("case_point_partitioned")
    op.execute(f"""
    create table case_point (
        tenant_id varchar(12) not null, run_id uuid not null, case_id bigint not null,
        {COLUMNS},
        constraint pk_case_point primary key (tenant_id, run_id, case_id)
    )""")
    op.execute("create index ix_case_point_hospital on case_point (tenant_id, run_id, hospital_id)")
    op.execute(f"insert into case_point ({NAMES}) select {NAMES} from case_point_partitioned")
    _same_count("case_point_partitioned")
    op.execute("drop table case_point_partitioned")  # and its partitions
    _protect(app)
    op.drop_column("points_run", "pruned_at")
    op.execute("drop function dianshu_year_partition(text, int)")
