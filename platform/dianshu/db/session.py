"""Engines and sessions. The scope is applied per transaction only, by `set_config(..., true)` in
the session's begin hook, so a pooled connection never carries one request's scope to the next."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

from dianshu.scope import Scope

_SET_SCOPE = text(
    "select set_config('app.tenant_ids', :tenants, true),"
    " set_config('app.hospital_id', :hospital, true),"
    " set_config('app.all_hospitals', :all_hospitals, true),"
    " set_config('app.role', :role, true),"
    " set_config('app.actor', :actor, true)"
)


def async_url(url: str) -> str:
    """libpq-style URL -> SQLAlchemy asyncpg URL."""
    u = make_url(url)
    return u.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """libpq-style URL -> SQLAlchemy psycopg (v3) URL."""
    u = make_url(url)
    return u.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


@event.listens_for(Session, "after_begin")
def _apply_scope(session: Session, transaction: Any, connection: Any) -> None:
    scope: Scope | None = session.info.get("scope")
    if scope is None:
        # No scope: the transaction sees no tenant rows at all (the settings stay empty).
        return
    connection.execute(
        _SET_SCOPE,
        {
            "tenants": ",".join(scope.tenant_ids),
            "hospital": scope.hospital_id or "",
            # Its own setting: the hospital setting is data, compared only by equality.
            "all_hospitals": "on" if scope.all_hospitals else "",
            "role": scope.role.value,
            "actor": scope.actor,
        },
    )


class Database:
    """One async engine for the runtime role, and scoped sessions from it."""

    def __init__(self, url: str, *, pool_size: int = 10, echo: bool = False) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            async_url(url),
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=True,
            echo=echo,
        )
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    def session(self, scope: Scope | None) -> AsyncSession:
        return self._sessions(info={"scope": scope})

    async def dispose(self) -> None:
        await self.engine.dispose()


@asynccontextmanager
async def scoped_session(db: Database, scope: Scope | None) -> AsyncIterator[AsyncSession]:
    """A session whose every transaction runs under `scope`; commits on success.

    Work registered with `after_commit(session, fn)` runs once the commit has succeeded (the
    job outbox uses this to send messages only for committed jobs)."""
    session = db.session(scope)
    try:
        async with session.begin():
            yield session
        for callback in session.info.pop("after_commit", []):
            await callback()
    finally:
        await session.close()


def after_commit(session: AsyncSession, callback: Any) -> None:
    session.info.setdefault("after_commit", []).append(callback)
