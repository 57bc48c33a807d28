"""Year partitions of the large per-case tables: one home for which tables are partitioned, how a
partition is named and how one comes to exist.

`case_point` (migration 0020) is LIST-partitioned by `year`, the points run's year, one partition
per year (`case_point_y2025`); `case_grouping` (migration 0023) by its case's discharge year (a case
version's discharge month never changes: a correction is a new case version, a new row). One level
only: Citus distributes a partitioned table but not a multi-level one (citusdata/citus#4911), and a
partition per points run would make every run a DDL statement on the parent (ACCESS EXCLUSIVE) and,
on Citus, a distributed table of its own (shards × runs). Within a year, a superseded run is
deleted from that year's partition alone (settlement/runs/prune.py); a year past retention is one
DROP (or DETACH) of each table's partition.

A partition is created when a job first writes its year, by `dianshu_year_partition(parent, year)`:
a SECURITY DEFINER function owned by the owner role (the runtime role owns nothing and cannot
create tables), idempotent and race-safe (an advisory lock per partition, then CREATE TABLE IF NOT
EXISTS). Row-level security: queries through the parent are filtered by the parent's policies; a
partition, reached directly, by its own, so each partition gets the same forced policy, and the
runtime role gets no privilege on it at all (it reads and writes through the parent only)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class YearPartitioned:
    hospital_column: str | None  # its row-level security policy's shape, as db/rls.protect makes it
    storage: str | None = None  # each partition's storage parameters (a partitioned parent has none)


YEAR_PARTITIONED: dict[str, YearPartitioned] = {
    "case_point": YearPartitioned("hospital_id"),
    # Half of each page free: a regroup updates its rows in place (HOT; migration 0011).
    "case_grouping": YearPartitioned("hospital_id", storage="fillfactor = 50"),
}

# The years a partition may be made for (a typo'd year would otherwise leave a stray table behind).
FIRST_YEAR, LAST_YEAR = 2000, 2100


def partition_name(parent: str, year: int) -> str:
    return f"{parent}_y{year}"


def _policy_condition(hospital_column: str | None) -> str:
    cond = "tenant_id = any (dianshu_tenant_ids())"
    if hospital_column:
        cond += f" and dianshu_hospital_visible({hospital_column})"
    return cond


def _parent_cases(partitioned: dict[str, YearPartitioned]) -> str:
    return "\n".join(
        f"    when '{parent}' then cond := '{_policy_condition(p.hospital_column)}'; "
        f"storage := '{f' with ({p.storage})' if p.storage else ''}';"
        for parent, p in partitioned.items()
    )


def year_partition_function(partitioned: dict[str, YearPartitioned]) -> str:
    """The function's definition for these parents: each migration that partitions a table
    replaces it with the parents known then (0020: case_point; 0023: and case_grouping)."""
    return f"""
create or replace function dianshu_year_partition(parent text, year int) returns text
language plpgsql security definer set search_path = public, pg_temp as $$
declare
  part text := parent || '_y' || year;
  cond text;
  storage text;
begin
  case parent
{_parent_cases(partitioned)}
    else raise exception '% is not partitioned by year', parent using errcode = '22023';
  end case;
  if year is null or year < {FIRST_YEAR} or year > {LAST_YEAR} then
    raise exception 'year % is out of range ({FIRST_YEAR}-{LAST_YEAR})', year using errcode = '22023';
  end if;
  if to_regclass(part) is not null then
    return part;  -- the common case: no lock, no DDL
  end if;
  -- One creator at a time per partition; the loser finds the table made (IF NOT EXISTS).
  perform pg_advisory_xact_lock(hashtextextended('dianshu_year_partition:' || part, 0));
  execute format('create table if not exists %I partition of %I for values in (%s)', part, parent, year) || storage;
  if not exists (select 1 from pg_policy where polrelid = part::regclass) then
    execute format('alter table %I enable row level security', part);
    execute format('alter table %I force row level security', part);
    execute format('create policy %I on %I using (%s) with check (%s)', part || '_scope', part, cond, cond);
  end if;
  -- Nothing for anyone on the partition itself: the parent is the only door.
  execute format('revoke all on %I from public', part);
  return part;
end $$;
"""


# Created or replaced as the owner role by the migrations. `set search_path` because it runs with
# the owner's rights: no object of the caller's choosing may stand in for ours.
YEAR_PARTITION_FUNCTION = year_partition_function(YEAR_PARTITIONED)


def function_grants(app_role: str) -> list[str]:
    return [
        "revoke all on function dianshu_year_partition(text, int) from public",
        f'grant execute on function dianshu_year_partition(text, int) to "{app_role}"',
    ]


async def ensure_year_partition(session: AsyncSession, parent: str, year: int) -> str:
    """Make `parent`'s partition for `year` exist (in the session's transaction); its name.

    Creating one takes an ACCESS EXCLUSIVE lock on the parent until the transaction ends, so a job
    calls this in a short transaction of its own, before its main transaction touches the parent
    (the lock is taken once a year; afterwards this only looks the table up)."""
    return (await session.execute(text("select dianshu_year_partition(:p, :y)"), {"p": parent, "y": year})).scalar_one()


LIST_PARTITIONS_SQL = """
select parent.relname as parent, child.relname as partition,
       pg_get_expr(child.relpartbound, child.oid) as bound
from pg_inherits i
join pg_class parent on parent.oid = i.inhparent join pg_class child on child.oid = i.inhrelid
join pg_namespace n on n.oid = parent.relnamespace
where n.nspname = 'public'
order by 1, 2
"""
