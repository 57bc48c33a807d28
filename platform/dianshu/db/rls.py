"""Row-level security statements used by migrations.

Policies read the per-transaction settings through two SQL functions (created once by the first
migration) so that every policy has the same, inlinable shape:
  tenant_id = ANY (dianshu_tenant_ids())                        the tenants in scope
  dianshu_hospital_visible(<hospital column>)                   the hospital in scope, or all of them
                                                                when app.all_hospitals = 'on'
An unset or empty setting means no rows: the absence of a scope is never a bypass. The hospital
setting is compared by equality only: no value of it means "all" (migration 0008)."""

from __future__ import annotations

# As the first migration created them (its 'all hospitals' was a value of app.hospital_id);
# migration 0008 replaces dianshu_hospital_visible with HOSPITAL_VISIBLE below.
SCOPE_FUNCTIONS = """
create or replace function dianshu_tenant_ids() returns text[]
language sql stable parallel safe as $$
  select pg_catalog.string_to_array(nullif(pg_catalog.current_setting('app.tenant_ids', true), ''), ',')
$$;

create or replace function dianshu_hospital_visible(h text) returns boolean
language sql stable parallel safe as $$
  select coalesce(
    nullif(pg_catalog.current_setting('app.hospital_id', true), '') = '*'
    or h = nullif(pg_catalog.current_setting('app.hospital_id', true), ''),
    false)
$$;
"""

HOSPITAL_VISIBLE = """
create or replace function dianshu_all_hospitals() returns boolean
language sql stable parallel safe as $$
  select coalesce(pg_catalog.current_setting('app.all_hospitals', true) = 'on', false)
$$;

create or replace function dianshu_hospital_visible(h text) returns boolean
language sql stable parallel safe as $$
  select dianshu_all_hospitals()
    or coalesce(h = nullif(pg_catalog.current_setting('app.hospital_id', true), ''), false)
$$;
"""


def protect(table: str, hospital_column: str | None = None) -> list[str]:
    """Enable and force RLS on a tenant table with one policy for every command."""
    cond = "tenant_id = any (dianshu_tenant_ids())"
    if hospital_column:
        cond += f" and dianshu_hospital_visible({hospital_column})"
    return [
        f"alter table {table} enable row level security",
        f"alter table {table} force row level security",
        f"create policy {table}_scope on {table} using ({cond}) with check ({cond})",
    ]


def grant(table: str, app_role: str, privileges: str) -> str:
    return f'grant {privileges} on {table} to "{app_role}"'


# ---- immutability of published reference data ---------------------------------------------------

VERSION_GUARD_FUNCTION = """
create or replace function dianshu_version_guard() returns trigger language plpgsql as $$
declare
  frozen text[] := array['status', 'retired_at', 'effective_to', 'published_at'];
begin
  if tg_op = 'DELETE' then
    if old.status <> 'draft' then
      raise exception '% % is %: only a draft can be deleted', tg_table_name, old.id, old.status
        using errcode = 'P0001';
    end if;
    return old;
  end if;
  if old.status = 'retired' then
    raise exception '% % is retired: it is immutable', tg_table_name, old.id using errcode = 'P0001';
  end if;
  if old.status = 'published' then
    if new.status = 'draft' then
      raise exception '% % is published: it cannot return to draft', tg_table_name, old.id using errcode = 'P0001';
    end if;
    if (to_jsonb(new) - frozen) is distinct from (to_jsonb(old) - frozen)
       or new.published_at is distinct from old.published_at then
      raise exception '% % is published: only retiring it is allowed', tg_table_name, old.id using errcode = 'P0001';
    end if;
  end if;
  return new;
end $$;

create or replace function dianshu_version_rows_guard() returns trigger language plpgsql as $$
declare
  parent text := tg_argv[0];
  fk text := tg_argv[1];
  bad text;
begin
  execute format(
    'select p.id::text || '' ('' || p.status || '')'' from %I p where p.status <> ''draft'' and p.id in '
    '(select (to_jsonb(r) ->> %L)::uuid from changed r) limit 1', parent, fk) into bad;
  if bad is not null then
    raise exception 'rows of % % are immutable (only a draft can change)', parent, bad using errcode = 'P0001';
  end if;
  return null;
end $$;
"""


def guard_versioned(parent: str) -> list[str]:
    return [
        f"create trigger {parent}_guard before update or delete on {parent} "
        f"for each row execute function dianshu_version_guard()"
    ]


def guard_rows(table: str, parent: str, fk: str) -> list[str]:
    """Statement-level checks (one query per statement, so bulk loads stay fast)."""
    out = []
    for event, ref in (("insert", "new"), ("update", "new"), ("delete", "old")):
        out.append(
            f"create trigger {table}_{event}_guard after {event} on {table} "
            f"referencing {ref} table as changed for each statement "
            f"execute function dianshu_version_rows_guard('{parent}', '{fk}')"
        )
    return out
