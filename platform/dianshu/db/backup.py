"""Backup and restore of one database with PostgreSQL's own tools (pg_dump -Fc, pg_restore), and
the inventory a restore is checked against.

The tools must match the server: pg_dump refuses a server newer than itself, and a dump made by a
newer pg_dump may not restore into an older server. `find_tool` asks the server its major version
and takes, in order, the first of DIANSHU_PG_BIN (a folder), the embedded server's own bin folder
(pgserver ships PostgreSQL 16), /usr/lib/postgresql/<major>/bin (Debian's clients, e.g. 15) and the
PATH whose `--version` has that major; failing that, the newest candidate above it (pg_dump dumps
older servers); none: BackupError naming the package to install.

Row-level security is forced on every tenant table, and pg_dump refuses to dump rows a policy would
hide: the backup login must bypass RLS (a superuser, or a role with BYPASSRLS and pg_read_all_data;
the owner and runtime roles do not). Roles are cluster-wide, so a dump holds the grants and policies
but not the roles: `restore` creates the owner and runtime roles first (roles.bootstrap_roles)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

_VERSION = re.compile(r"\(PostgreSQL\) (\d+)(?:\.\d+)?")


class BackupError(Exception):
    """A backup or restore that cannot go on, with what to do."""


@dataclass(frozen=True)
class Tool:
    path: Path
    major: int


def _candidates(tool: str, major: int) -> Iterable[Path]:
    configured = os.environ.get("DIANSHU_PG_BIN")
    if configured:
        yield Path(configured) / tool
    try:
        from pgserver._commands import POSTGRES_BIN_PATH  # the embedded server's own tools

        yield Path(POSTGRES_BIN_PATH) / tool
    except ImportError:
        pass
    yield Path(f"/usr/lib/postgresql/{major}/bin") / tool
    found = shutil.which(tool)
    if found:
        yield Path(found)


def tool_major(path: Path) -> int | None:
    try:
        # the argument list is a tool path found above, never shell text
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=10, check=False)  # noqa: S603
    except OSError:
        return None
    m = _VERSION.search(out.stdout)
    return int(m.group(1)) if m else None


def find_tool(tool: str, server_major: int) -> Tool:
    """pg_dump or pg_restore for a server of `server_major` (see the module's docstring)."""
    seen: list[Tool] = []
    for path in _candidates(tool, server_major):
        if not path.is_file():
            continue
        major = tool_major(path)
        if major is None:
            continue
        if major == server_major:
            return Tool(path, major)
        seen.append(Tool(path, major))
    newer = sorted((t for t in seen if t.major > server_major), key=lambda t: -t.major)
    if newer:
        return newer[0]
    found = ", ".join(f"{t.path} ({t.major})" for t in seen) or "none"
    raise BackupError(
        f"no {tool} for PostgreSQL {server_major} (found: {found}): install postgresql-client-{server_major} "
        "or set DIANSHU_PG_BIN to a folder holding it"
    )


def server_major(conn: Connection) -> int:
    return int(conn.execute(text("select current_setting('server_version_num')::int / 10000")).scalar_one())


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (it would show in the process list) and the environment
    carrying it (PGPASSWORD) instead."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    bare = u.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return bare, env


def _run(args: list[str], env: dict[str, str], what: str) -> None:
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603 (no shell)
    if out.returncode != 0:
        tail = " ".join(out.stderr.strip().splitlines()[-3:])
        hint = ""
        if "row-level security" in out.stderr:
            hint = " (the backup login must bypass row-level security: a superuser, or BYPASSRLS + pg_read_all_data)"
        raise BackupError(f"{what} failed (exit {out.returncode}): {tail}{hint}")


@dataclass(frozen=True)
class Done:
    tool: Tool
    seconds: float
    bytes: int


def dump(url: str, archive: Path, tool: Tool) -> Done:
    """pg_dump -Fc of the whole database (schema, data, policies, grants) to `archive`, written
    beside it first and renamed: a failed dump leaves no partial archive under the name."""
    bare, env = _libpq(url)
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(archive.name + ".partial")
    start = time.perf_counter()
    try:
        _run(
            [str(tool.path), "--format=custom", "--no-password", f"--file={partial}", f"--dbname={bare}"],
            env,
            "pg_dump",
        )
        partial.replace(archive)
    finally:
        partial.unlink(missing_ok=True)
    return Done(tool, time.perf_counter() - start, archive.stat().st_size)


def restore(url: str, archive: Path, tool: Tool, *, jobs: int = 1) -> Done:
    """pg_restore of `archive` into the (empty) database at `url`, stopping at the first error;
    in one transaction when `jobs` is 1 (nothing half restored), else `jobs` parallel workers."""
    if not archive.is_file():
        raise BackupError(f"{archive}: no such archive")
    bare, env = _libpq(url)
    args = [str(tool.path), "--no-password", "--exit-on-error", f"--dbname={bare}"]
    args += ["--single-transaction"] if jobs == 1 else [f"--jobs={jobs}"]
    start = time.perf_counter()
    _run([*args, str(archive)], env, "pg_restore")
    return Done(tool, time.perf_counter() - start, archive.stat().st_size)


def user_tables(conn: Connection) -> list[str]:
    return list(
        conn.execute(
            text("""select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
                    order by 1""")
        ).scalars()
    )


@dataclass(frozen=True)
class Inventory:
    """What a restore must give back: rows per table (partitions counted through their parent),
    and the security the platform rests on: per table RLS enabled/forced and owner, each policy's
    command, roles and expressions, each grant, and the alembic revision."""

    rows: dict[str, int]
    tables: dict[str, tuple[bool, bool, str]]
    policies: dict[tuple[str, str], tuple[str, tuple[str, ...], str, str]]
    grants: frozenset[tuple[str, str, str]]
    revision: tuple[str, ...]

    def differences(self, other: Inventory) -> list[str]:
        out = []
        for name in ("rows", "tables", "policies"):
            a, b = getattr(self, name), getattr(other, name)
            for k in sorted(set(a) | set(b), key=str):
                if a.get(k) != b.get(k):
                    out.append(f"{name} {k}: {a.get(k)!r} before, {b.get(k)!r} after")
        if self.grants != other.grants:
            out.append(
                f"grants: lost {sorted(self.grants - other.grants)}, gained {sorted(other.grants - self.grants)}"
            )
        if self.revision != other.revision:
            out.append(f"revision: {self.revision} before, {other.revision} after")
        return out


POLICIES_SQL = """
select tablename, policyname, cmd, roles, qual, with_check from pg_policies where schemaname = 'public'"""


def inventory(conn: Connection) -> Inventory:
    """Read by a login that bypasses RLS (the backup login): counts are of every row."""
    tables = user_tables(conn)
    rows = {t: int(conn.execute(text(f'select count(*) from "{t}"')).scalar_one()) for t in tables}
    flags = {
        r.relname: (r.relrowsecurity, r.relforcerowsecurity, r.owner)
        for r in conn.execute(
            text("""select c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) as owner
                    from pg_class c join pg_namespace n on n.oid = c.relnamespace
                    where n.nspname = 'public' and c.relkind in ('r', 'p')""")
        )
    }
    policies: dict[tuple[str, str], Any] = {
        (r.tablename, r.policyname): (r.cmd, tuple(r.roles), r.qual or "", r.with_check or "")
        for r in conn.execute(text(POLICIES_SQL))
    }
    grants = frozenset(
        (r.grantee, r.table_name, r.privilege_type)
        for r in conn.execute(
            text("""select grantee, table_name, privilege_type from information_schema.role_table_grants
                    where table_schema = 'public' and grantee <> 'PUBLIC'""")
        )
    )
    has_alembic = conn.execute(text("select to_regclass('public.alembic_version') is not null")).scalar_one()
    revision = (
        tuple(sorted(conn.execute(text("select version_num from alembic_version")).scalars())) if has_alembic else ()
    )
    return Inventory(rows, flags, policies, grants, revision)
