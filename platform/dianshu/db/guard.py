"""Refuse to serve or work as a role that could see past row-level security."""

from __future__ import annotations

from sqlalchemy import create_engine, pool, text

from dianshu.db.roles import CURRENT_ROLE_SQL, runtime_role_problems
from dianshu.db.session import sync_url


class UnsafeRoleError(RuntimeError):
    pass


def check_runtime_role(url: str) -> str:
    """Connect with `url`; raise UnsafeRoleError if its role is a superuser or has BYPASSRLS.
    Returns the role name."""
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            row = conn.execute(text(CURRENT_ROLE_SQL)).one()
    finally:
        engine.dispose()
    problems = runtime_role_problems((row[0], row[1], row[2]))
    if problems:
        raise UnsafeRoleError(
            "refusing to start: " + "; ".join(problems) + " (row-level security would not apply). "
            "Connect as the runtime role (APP_DATABASE_URL / DIANSHU_APP_ROLE)."
        )
    return row[0]
