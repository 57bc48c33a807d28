"""dianshu db …: the database's scale-out plan."""

from __future__ import annotations

import sys

import typer
from sqlalchemy import create_engine, pool

app = typer.Typer(help="The database: the Citus scale-out plan.", no_args_is_help=True)


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
