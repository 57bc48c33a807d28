"""dianshu db …: the database's scale-out plan, backup and restore, pruning superseded points runs."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from sqlalchemy import create_engine, pool

app = typer.Typer(
    help="The database: the Citus scale-out plan, backup and restore, pruning superseded runs.", no_args_is_help=True
)


def _engine(url: str, **kw):
    from dianshu.db.session import sync_url

    return create_engine(sync_url(url), poolclass=pool.NullPool, **kw)


@app.command("backup")
def backup(
    output: Path = typer.Option(..., "--output", "-o", help="the archive to write (pg_dump custom format)"),
) -> None:
    """Dump the database of DATABASE_URL (schema, data, row-level security policies, grants) with
    the pg_dump matching its server. The login must bypass row-level security (a superuser, or
    BYPASSRLS with pg_read_all_data)."""
    from dianshu.config import get_settings
    from dianshu.db.backup import dump, find_tool, server_major

    url = get_settings().owner_url()
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            major = server_major(conn)
    finally:
        engine.dispose()
    done = dump(url, output, find_tool("pg_dump", major))
    sys.stderr.write(
        f"wrote {output} ({done.bytes:,} bytes) in {done.seconds:.1f} s with {done.tool.path} "
        f"(PostgreSQL {done.tool.major}; server {major})\n"
    )


@app.command("restore")
def restore(
    archive: Path = typer.Option(..., "--input", "-i", help="an archive written by `dianshu db backup`"),
    target: str = typer.Option(..., "--target", help="the database to restore into: created when missing, else empty"),
    jobs: int = typer.Option(1, "--jobs", min=1, max=16, help="parallel workers (1: one transaction)"),
) -> None:
    """Restore an archive into an empty database (created when missing) with the pg_restore
    matching its server, after creating the owner and runtime roles there when missing (roles
    belong to the server, not the dump). Prints each table's rows afterwards."""
    from dianshu.config import get_settings
    from dianshu.db.backup import BackupError, find_tool, inventory, server_major, user_tables
    from dianshu.db.backup import restore as pg_restore
    from dianshu.db.roles import bootstrap_roles
    from dianshu_cli.migrate import ensure_database

    settings = get_settings()
    if not archive.is_file():
        raise FileNotFoundError(2, "no such archive", str(archive))
    ensure_database(target)
    engine = _engine(target)
    try:
        with engine.begin() as conn:
            present = user_tables(conn)
            if present:
                raise BackupError(
                    f"{len(present)} table(s) already in the target ({', '.join(present[:3])}, …): "
                    "restore into an empty or new database"
                )
            bootstrap_roles(conn, settings.owner_role, settings.app_role, settings.app_db_password)
            major = server_major(conn)
        done = pg_restore(target, archive, find_tool("pg_restore", major), jobs=jobs)
        with engine.connect() as conn:
            restored = inventory(conn)
    finally:
        engine.dispose()
    for table, n in restored.rows.items():
        sys.stdout.write(f"{table}\t{n}\n")
    sys.stderr.write(
        f"restored {archive} in {done.seconds:.1f} s with {done.tool.path} (PostgreSQL {done.tool.major}): "
        f"{len(restored.rows)} tables, {sum(restored.rows.values()):,} rows, {len(restored.policies)} policies\n"
    )


@app.command("citus-plan")
def citus_plan() -> None:
    """Print the create_reference_table / create_distributed_table statements that distribute the
    migrated schema on Citus, in dependency order, from the live catalogue. Exit code 1 (and the
    reasons on stderr) when the schema is not ready to distribute."""
    from dianshu.config import get_settings
    from dianshu.db.citus import CITUS_EXCEPTIONS, CitusPlanError, plan, read_catalogue, violations
    from dianshu.db.session import sync_url

    settings = get_settings()
    engine = create_engine(sync_url(settings.owner_url()), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            catalogue = read_catalogue(conn)
    finally:
        engine.dispose()
    problems = [v for v in violations(catalogue) if v not in CITUS_EXCEPTIONS]
    if not catalogue.tables:
        problems.append("no tables: run `dianshu migrate` first")
    if problems:
        sys.stderr.write("".join(f"{p}\n" for p in problems))
        raise typer.Exit(1)
    try:
        statements = plan(catalogue)
    except CitusPlanError as e:
        sys.stderr.write(f"{e}\n")
        raise typer.Exit(1) from e
    sys.stdout.write("".join(f"{s}\n" for s in statements))


@app.command("prune-runs")
def prune_runs(
    tenant: list[str] = typer.Option(None, "--tenant", help="A tenant's code (repeatable); every tenant if left out."),
    year: int = typer.Option(None, "--year", min=2000, max=2100, help="Only this year's runs."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the superseded runs; delete nothing."),
) -> None:
    """Delete the case points of superseded points runs: not the year's latest run and not used by
    any settlement run (draft or published). The runs' summaries and monthly totals stay; each
    pruned run is audited. Runs as the owner role (DATABASE_URL)."""
    import asyncio

    from sqlalchemy import text

    from dianshu.config import get_settings
    from dianshu.db.session import Database, scoped_session
    from dianshu.scope import Scope
    from dianshu.settlement.runs.prune import prune_runs as prune
    from dianshu.settlement.runs.prune import superseded_runs

    settings = get_settings()

    async def run() -> list:
        db = Database(settings.owner_url(), pool_size=1)
        try:
            async with scoped_session(db, None) as s:
                known = set((await s.execute(text("select code from tenant"))).scalars())
            unknown = sorted(set(tenant or ()) - known)
            if unknown:
                sys.stderr.write(f"--tenant: no tenant {', '.join(unknown)}\n")
                raise typer.Exit(2)
            tenants = sorted(tenant or known)
            scope = Scope.system(tenants, actor="dianshu db prune-runs")
            async with scoped_session(db, scope) as s:
                if dry_run:
                    return await superseded_runs(s, tenants, year)
                return await prune(s, scope, tenants, year)
        finally:
            await db.dispose()

    runs = asyncio.run(run())
    verb = "superseded" if dry_run else "pruned"
    for r in runs:
        rows = "" if dry_run else f": {r.case_points:,} case points deleted"
        sys.stdout.write(f"{verb} {r.tenant_id} {r.year} through month {r.through_month} v{r.version} ({r.id}){rows}\n")
    sys.stdout.write(f"{len(runs)} run(s) {verb}\n")
    if not dry_run and runs:
        from dianshu.db.session import sync_url
        from dianshu.settlement.runs.prune import vacuum_statements

        engine = create_engine(sync_url(settings.owner_url()), poolclass=pool.NullPool, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                for statement in vacuum_statements(runs):
                    conn.execute(text(statement))
                    sys.stdout.write(f"{statement}: done\n")
        finally:
            engine.dispose()
