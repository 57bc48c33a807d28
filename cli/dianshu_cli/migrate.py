from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config

from dianshu.config import Settings


def migrations_dir() -> Path:
    configured = os.environ.get("DIANSHU_MIGRATIONS_DIR")
    path = Path(configured) if configured else Path(__file__).resolve().parents[2] / "migrations"
    if not (path / "env.py").is_file():
        raise RuntimeError(f"no alembic migrations at {path}; set DIANSHU_MIGRATIONS_DIR")
    return path


def upgrade(settings: Settings, owner_url: str | None = None, revision: str = "head") -> None:
    """Apply migrations as the owner role (alembic's env.py bootstraps the roles first)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    cfg.attributes["owner_url"] = owner_url or settings.owner_url()
    command.upgrade(cfg, revision)
