"""The two database roles: an owner that migrations run as, and a runtime role that owns nothing
and can bypass nothing (NOSUPERUSER NOBYPASSRLS), which the API and the workers log in as."""

from __future__ import annotations

import re

from sqlalchemy import text
from sqlalchemy.engine import Connection

_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def _ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"role name {name!r} is not a plain lower-case identifier")
    return f'"{name}"'


def _create_role(conn: Connection, statement: str) -> None:
    """Roles are cluster-wide, so two migrations of two databases (parallel test workers, two
    deployments sharing a server) may create the same role at once; the loser's unique violation
    means the role now exists, which is what it wanted."""
    conn.execute(
        text(f"do $$ begin {statement}; exception when duplicate_object or unique_violation then null; end $$")
    )


def bootstrap_roles(conn: Connection, owner: str, app: str, app_password: str | None) -> None:
    """Create the roles when missing (needs CREATEROLE then; a DBA may pre-create them instead),
    let the migrating login act as the owner, and let the runtime role connect."""
    o, a = _ident(owner), _ident(app)
    exists = conn.execute(text("select rolname from pg_roles where rolname in (:o, :a)"), {"o": owner, "a": app})
    have = {r[0] for r in exists}
    if owner not in have:
        _create_role(conn, f"create role {o} nologin nosuperuser nobypassrls")
    if app not in have:
        _create_role(conn, f"create role {a} login nosuperuser nobypassrls nocreatedb nocreaterole noinherit")
    if app_password:
        conn.execute(text(f"alter role {a} password :p").bindparams(p=app_password))
    me = conn.execute(text("select current_user")).scalar_one()
    if me != owner:
        conn.execute(text(f"grant {o} to current_user"))
    db = conn.execute(text("select current_database()")).scalar_one()
    conn.execute(text(f'grant connect on database "{db}" to {a}'))
    conn.execute(text(f"grant usage, create on schema public to {o}"))
    conn.execute(text(f"grant usage on schema public to {a}"))


def runtime_role_problems(conn_row: tuple[str, bool, bool]) -> list[str]:
    """Why a login must not run the API or a worker (empty when it is fine)."""
    name, superuser, bypassrls = conn_row
    problems = []
    if superuser:
        problems.append(f"role {name} is a superuser")
    if bypassrls:
        problems.append(f"role {name} has BYPASSRLS")
    return problems


CURRENT_ROLE_SQL = "select rolname, rolsuper, rolbypassrls from pg_roles where rolname = current_user"

# What a role owns (relations, functions, schemas, types), as "kind name"; the runtime role's is empty.
OWNED_BY_SQL = """
with r as (select oid from pg_roles where rolname = :r)
select 'relation ' || relname from pg_class where relowner = (select oid from r)
union all select 'function ' || proname from pg_proc where proowner = (select oid from r)
union all select 'schema ' || nspname from pg_namespace where nspowner = (select oid from r)
union all select 'type ' || typname from pg_type where typowner = (select oid from r)
"""
