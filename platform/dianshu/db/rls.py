"""Row-level security statements used by migrations.

Policies read the per-transaction settings through two SQL functions (created once by the first
migration) so that every policy has the same, inlinable shape:
  tenant_id = ANY (dianshu_tenant_ids())                        the tenants in scope
  dianshu_hospital_visible(<hospital column>)                   '*' = all hospitals of those tenants
An unset or empty setting means no rows: the absence of a scope is never a bypass."""

from __future__ import annotations

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
