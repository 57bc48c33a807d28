"""Processes stop when told and say so truthfully: a worker given SIGTERM mid-job exits within its
grace period without a traceback (the job's message is given back, so another worker redoes it);
`dianshu embedded stop` leaves no PostgreSQL running and no stale pid in the handle file."""

from __future__ import annotations

import gc
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from dianshu.db.session import scoped_session
from dianshu.jobs import service as jobs
from dianshu.scope import Role
from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from tests.conftest import scope_for
from tests.test_drill import drill_setup, job_state, start_worker, wait_for

DIANSHU = str(Path(sys.executable).parent / "dianshu")
GRACE_S = 3  # DIANSHU_WORKER_SHUTDOWN_TIMEOUT_S given to the worker below


@pytest.mark.drill
@pytest.mark.usefixtures("job_queue_of_its_own")
async def test_worker_exits_on_sigterm_mid_job_within_its_grace_without_a_traceback(db, city, test_database):
    env, _ = drill_setup("embedded", step_delay_ms=2000)  # 15 steps of 2 s: the job outlives the grace
    env["DIANSHU_WORKER_SHUTDOWN_TIMEOUT_S"] = str(GRACE_S)
    roster = [{"id": f"H{city.a}{10000 + i:05d}", "name": f"T {i}", "level": 1, "type": "general"} for i in range(3000)]
    scope = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, scope) as s:
        job, _ = await jobs.submit(s, db, scope, city.a, IMPORT_HOSPITALS, {"hospitals": roster})
    worker = start_worker(env, stderr=subprocess.PIPE)  # read by communicate() below
    try:
        await wait_for(db, city.a, job.id, lambda r: r.status == "running", timeout_s=60)
        sent = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=GRACE_S + 12)
        took = time.monotonic() - sent
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
    stderr = err.decode(errors="replace")
    assert "Traceback" not in stderr, stderr[-3000:]
    assert worker.returncode == 0, stderr[-3000:]
    assert took < GRACE_S + 10, f"took {took:.1f}s"
    # Not done, not lost: the job is still to be done (its message was not acknowledged).
    assert (await job_state(db, city.a, job.id)).status in ("queued", "running")


def _process_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_embedded_stop_stops_postgres_and_cleans_the_handle_file():
    # Its own state directory (short: unix socket paths are limited), never the suite's server.
    state = Path(tempfile.mkdtemp(prefix="ds-stop-", dir="/tmp"))
    env = {**os.environ, "DIANSHU_STATE_DIR": str(state), "DIANSHU_PROFILE": "dev"}
    for k in ("DATABASE_URL", "APP_DATABASE_URL"):
        env.pop(k, None)
    try:
        started = subprocess.run(
            [sys.executable, "-c", "from pathlib import Path; import sys; from dianshu.embedded import "
             "embedded_postgres_url as u; print(u(Path(sys.argv[1])))", str(state)],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert started.returncode == 0, started.stderr
        pgdata = state / "pg"
        pid = int((pgdata / "postmaster.pid").read_text().split()[0])
        assert _process_alive(pid)
        # A stale handle: a process that died without releasing the server (SIGKILL, OOM).
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        (pgdata / ".handle_pids.json").write_text(json.dumps([dead.pid]))

        out = subprocess.run([DIANSHU, "embedded", "stop"], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        assert f"embedded PostgreSQL (pid {pid}) stopped" in out.stdout + out.stderr
        assert not _process_alive(pid)
        assert json.loads((pgdata / ".handle_pids.json").read_text()) == []

        again = subprocess.run([DIANSHU, "embedded", "stop"], env=env, capture_output=True, text=True, timeout=60)
        assert (again.returncode, "is not running" in again.stdout + again.stderr) == (0, True), again.stderr
    finally:
        subprocess.run([DIANSHU, "embedded", "stop"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(state, ignore_errors=True)


def test_embedded_stop_stops_a_redis_left_behind():
    # A process that started the embedded Redis and was killed leaves its server running: stop finds it.
    state = Path(tempfile.mkdtemp(prefix="ds-rstop-", dir="/tmp"))
    env = {**os.environ, "DIANSHU_STATE_DIR": str(state), "DIANSHU_PROFILE": "dev"}
    try:
        starter = subprocess.Popen(
            [sys.executable, "-c", "import sys, time; from pathlib import Path; from dianshu.embedded import "
             "embedded_redis; r = embedded_redis(Path(sys.argv[1])); r.ping(); print('up', flush=True); "
             "time.sleep(60)", str(state)],
            env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert starter.stdout.readline().strip() == "up"
        starter.kill()  # SIGKILL: no clean-up runs, the server stays
        starter.wait()
        info = json.loads((state / "redis" / "dianshu.rdb.settings").read_text())
        pid = int(Path(info["pidfile"]).read_text())
        assert _process_alive(pid)
        out = subprocess.run([DIANSHU, "embedded", "stop"], env=env, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        assert f"embedded Redis (pid {pid}) stopped" in out.stdout + out.stderr
        assert not _process_alive(pid)
        again = subprocess.run([DIANSHU, "embedded", "stop"], env=env, capture_output=True, text=True, timeout=60)
        said = again.stdout + again.stderr
        assert again.returncode == 0 and f"embedded Redis ({state / 'redis'}) is not running" in said, said
    finally:
        subprocess.run([DIANSHU, "embedded", "stop"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(state, ignore_errors=True)


def test_the_embedded_redis_outlives_its_clients_and_is_started_once():
    """A client's exit or garbage collection used to shut the shared server down when it counted
    itself the last connection (a worker then attached to a new server while the sender's message
    sat in the old one), and processes starting at once each started a server on the one file."""
    state = Path(tempfile.mkdtemp(prefix="ds-rshare-", dir="/tmp"))
    env = {**os.environ, "DIANSHU_STATE_DIR": str(state), "DIANSHU_PROFILE": "dev"}
    script = (
        "import sys; from pathlib import Path; from dianshu.embedded import embedded_redis; "
        "r = embedded_redis(Path(sys.argv[1])); r.ping(); "
        "print(int(Path(r.pidfile).read_text()), flush=True)"
    )
    try:
        starters = [
            subprocess.Popen([sys.executable, "-c", script, str(state)], env=env, stdout=subprocess.PIPE, text=True)
            for _ in range(3)
        ]
        pids = {int(p.communicate(timeout=60)[0].strip()) for p in starters}
        assert [p.returncode for p in starters] == [0, 0, 0]
        assert len(pids) == 1, pids  # one server for all three
        (pid,) = pids
        assert _process_alive(pid)  # each exited, the last one alone on the server: it runs on

        from dianshu.embedded import embedded_redis

        client = embedded_redis(state)
        client.set("kept", "1")
        del client
        gc.collect()
        assert _process_alive(pid)
        assert embedded_redis(state).get("kept") == b"1"

        out = subprocess.run([DIANSHU, "embedded", "stop"], env=env, capture_output=True, text=True, timeout=60)
        assert f"embedded Redis (pid {pid}) stopped" in out.stdout + out.stderr, out.stdout + out.stderr
        assert not _process_alive(pid)
    finally:
        subprocess.run([DIANSHU, "embedded", "stop"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(state, ignore_errors=True)


@pytest.fixture
def worker_environ(monkeypatch):
    """run_worker sets the environment Dramatiq's processes inherit (it then execs them): here,
    a copy of this test's, put back afterwards."""
    from dianshu_workers import main

    monkeypatch.setattr(main.os, "environ", dict(os.environ))
    return main.os.environ


def test_a_worker_process_takes_no_more_jobs_than_it_has_threads_and_polls_soon(monkeypatch, worker_environ):
    """Dramatiq's default prefetch (twice the threads) let a busy process hold a second long job
    while the other process sat idle, and its 1 s poll left a process idle after each job;
    `dianshu worker` hands Dramatiq one job per thread and a 0.1 s poll, and an operator's own
    settings stay."""
    from dianshu_workers import main

    seen: list[tuple[list[str], str | None, str | None]] = []

    def execv(path: str, args: list[str]) -> None:
        seen.append((args, worker_environ.get(main.PREFETCH_ENV), worker_environ.get(main.POLL_ENV)))

    monkeypatch.setattr(main, "check_runtime_role", lambda url: None)
    monkeypatch.setattr(main.os, "execv", execv)
    for name in (main.PREFETCH_ENV, main.POLL_ENV, main.GIVE_BACK_ENV):
        worker_environ.pop(name, None)
    main.run_worker(processes=2, threads=3)
    args, prefetch, poll = seen[-1]
    assert args[args.index("--threads") + 1] == "3" and args[args.index("--processes") + 1] == "2"
    assert prefetch == "3"
    assert poll == "100"  # a process that finished a job polls for the next within 0.1 s, not 1 s
    worker_environ[main.PREFETCH_ENV] = "7"
    main.run_worker(processes=2, threads=3)
    assert seen[-1][1] == "7"


def test_a_worker_consumes_its_queue_group(monkeypatch, worker_environ):
    """`dianshu worker --queues` (the chart's queue groups) hands Dramatiq those queues, every
    queue by default; a queue no actor uses is refused by name before anything starts."""
    import pytest

    from dianshu_workers import main

    seen: list[list[str]] = []
    monkeypatch.setattr(main, "check_runtime_role", lambda url: None)
    monkeypatch.setattr(main.os, "execv", lambda path, args: seen.append(args))

    def queues(args: list[str]) -> list[str]:
        at = args.index("--queues") + 1
        end = next((i for i in range(at, len(args)) if args[i].startswith("--")), len(args))
        return args[at:end]

    main.run_worker(processes=1, threads=1)
    assert queues(seen[-1]) == ["jobs"]  # QUEUES today: the one "jobs" queue
    main.run_worker(processes=1, threads=1, queues=["jobs"])
    assert queues(seen[-1]) == ["jobs"]
    with pytest.raises(ValueError, match="queues: no actor uses reports"):
        main.run_worker(processes=1, threads=1, queues=["jobs", "reports"])
    assert len(seen) == 2


def test_processes_starting_the_embedded_server_at_once_share_one(tmp_path):
    """On a fresh machine every test worker starts the embedded PostgreSQL at the same moment:
    each must get the one server (pgserver's own creation of its data folder is not atomic)."""
    from dianshu.embedded import stop_embedded_postgres

    state = Path(tempfile.mkdtemp(prefix="ds-", dir="/tmp"))  # a short path: the socket's is limited
    # Each process imports first, then waits for the same instant: they race as test workers do.
    code = (
        "import sys, time; from pathlib import Path; import pgserver; from dianshu.embedded import "
        "embedded_postgres_url; time.sleep(max(0.0, float(sys.argv[2]) - time.time())); "
        "print(embedded_postgres_url(Path(sys.argv[1]), database='shared'))"
    )
    start = str(time.time() + 4)
    try:
        runs = [
            subprocess.Popen(
                [sys.executable, "-c", code, str(state), start], stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
            for _ in range(4)
        ]
        outs = [(p.communicate(timeout=120), p.returncode) for p in runs]
        assert [rc for _, rc in outs] == [0] * 4, [err.decode()[-800:] for (_, err), _ in outs]
        assert len({out.strip() for (out, _), _ in outs}) == 1
    finally:
        assert stop_embedded_postgres(state).ok
        shutil.rmtree(state, ignore_errors=True)
