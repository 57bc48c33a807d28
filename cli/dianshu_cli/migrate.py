from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from dianshu.config import Settings
from dianshu.db.session import sync_url


def migrations_dir() -> Path:
    configured = os.environ.get("DIANSHU_MIGRATIONS_DIR")
    path = Path(configured) if configured else Path(__file__).resolve().parents[2] / "migrations"
    if not (path / "env.py").is_file():
        raise RuntimeError(f"no alembic migrations at {path}; set DIANSHU_MIGRATIONS_DIR")
    return path


def ensure_database(url: str) -> bool:
    """Create the URL's database when it does not exist (for a first run against a bare server).
    Returns True when it was created."""
    target = make_url(url)
    name = target.database
    maintenance = create_engine(
        sync_url(target.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        poolclass=pool.NullPool,
    )
    try:
        with maintenance.connect() as c:
            if c.execute(text("select 1 from pg_database where datname = :d"), {"d": name}).first():
                return False
            c.execute(text(f'create database "{name}"'))
            return True
    finally:
        maintenance.dispose()


def upgrade(settings: Settings, owner_url: str | None = None, revision: str = "head") -> None:
    """Apply migrations as the owner role (alembic's env.py bootstraps the roles first)."""
    url = owner_url or settings.owner_url()
    if not settings.embedded_database or owner_url:
        ensure_database(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["owner_url"] = url
    command.upgrade(cfg, revision)
