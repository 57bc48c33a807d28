"""Per-process worker state: the runtime role's database, created on the event loop that uses it."""

from __future__ import annotations

import asyncio

from dianshu.config import get_settings
from dianshu.db.session import Database

_dbs: dict[int, Database] = {}


def database() -> Database:
    """One Database per running event loop (asyncpg connections belong to their loop)."""
    loop = asyncio.get_running_loop()
    key = id(loop)
    if key not in _dbs:
        settings = get_settings()
        _dbs[key] = Database(settings.runtime_url(), pool_size=max(2, settings.worker_threads))
    return _dbs[key]
