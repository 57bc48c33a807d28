"""Alembic environment: migrations run as the owner role, never as the runtime role."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool, text

from dianshu.config import get_settings
from dianshu.db import models  # noqa: F401  (fills the metadata)
from dianshu.db.base import Base
from dianshu.db.roles import bootstrap_roles
from dianshu.db.session import sync_url

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    settings = get_settings()
    url = config.attributes.get("owner_url") or settings.owner_url()
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    with engine.connect() as connection:
        bootstrap_roles(connection, settings.owner_role, settings.app_role, settings.app_db_password)
        connection.commit()
        # Everything below, alembic_version included, is created and owned by the owner role.
        connection.execute(text(f'set role "{settings.owner_role}"'))
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            compare_type=True,
            transaction_per_migration=True,
        )
        context.config.attributes["app_role"] = settings.app_role
        context.config.attributes["owner_role"] = settings.owner_role
        with context.begin_transaction():
            context.run_migrations()
        # Readiness probes (as the runtime role) compare the schema revision.
        connection.execute(text(f'grant select on alembic_version to "{settings.app_role}"'))
        connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run `dianshu migrate`")
run_migrations_online()
