"""Shared set-up for benchmarks: a fresh database with the pilot city provisioned."""

from __future__ import annotations

import asyncio
import os
from datetime import date

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from dianshu.config import Settings, reset_settings
from dianshu.db.session import Database, scoped_session, sync_url
from dianshu.scope import Scope
from dianshu.tenancy import pilot
from dianshu.tenancy.service import upsert_hospitals, validate_roster


def fresh_database(name: str) -> Settings:
    """Drop and recreate database `name` on the configured server (embedded by default), migrate it,
    and point this process's settings (and child processes') at it."""
    from dianshu_cli.migrate import upgrade

    base = Settings()
    admin = make_url(base.owner_url())
    engine = create_engine(
        sync_url(admin.set(database="postgres").render_as_string(hide_password=False)),
        isolation_level="AUTOCOMMIT",
        poolclass=pool.NullPool,
    )
    with engine.connect() as c:
        c.execute(text(f'drop database if exists "{name}" with (force)'))
        c.execute(text(f'create database "{name}"'))
    engine.dispose()
    os.environ["DATABASE_URL"] = admin.set(database=name).render_as_string(hide_password=False)
    reset_settings()
    settings = Settings()
    upgrade(settings)
    return settings


def provision_pilot(settings: Settings, hospitals: int = 150, standards: bool = False) -> None:
    from dianshu_tenants.provisioning import ensure_tenants

    async def run() -> None:
        owner = Database(settings.owner_url(), pool_size=1)
        db = Database(settings.runtime_url(), pool_size=2)
        try:
            await ensure_tenants(owner, pilot.CITY, [(c, n) for c, n, _ in pilot.REGIONS])
            roster = pilot.hospitals(hospitals)
            for code, _, _ in pilot.REGIONS:
                rows = validate_roster(
                    code,
                    [
                        {"id": h.id, "name": h.name, "level": h.level, "type": h.type, "alliance_id": h.alliance_id}
                        for h in roster
                        if h.tenant_id == code
                    ],
                )
                async with scoped_session(db, Scope.system((code,))) as s:
                    await upsert_hospitals(s, rows)
            if standards:
                from dianshu.standards.service import ensure_builtin_standards

                await ensure_builtin_standards(owner, settings.owner_url(), date(2024, 1, 1), "bench")
        finally:
            await db.dispose()
            await owner.dispose()

    asyncio.run(run())
