"""The README's example client (docs/examples/client.py), run as it is, as a separate process,
against the app served by a real uvicorn on a free port of this machine. A job stand-in runs each
job in the server's event loop a moment after it is sent, so the client really polls."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import uvicorn

from dianshu.jobs import service as jobs
from dianshu.scope import Role
from dianshu_graphql.app import create_app
from dianshu_tenants.identity import TokenCodec

CLIENT = Path(__file__).resolve().parents[1] / "docs" / "examples" / "client.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """The app under uvicorn in a thread (its own event loop and database pool)."""

    def __init__(self, settings) -> None:
        self.port = free_port()
        self.app = create_app(settings, check_role=False)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.tasks: set[asyncio.Task] = set()

    def dispatch(self, tenant: str, kind: str, job_id: uuid.UUID) -> None:
        """A worker's stand-in: run the job in the server's loop, half a second after it is sent."""
        loop = asyncio.get_running_loop()

        def start() -> None:
            task = loop.create_task(jobs.execute(self.app.state.services.db, tenant, job_id))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

        loop.call_later(0.5, start)

    def __enter__(self) -> Served:
        jobs.set_dispatcher(self.dispatch)
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return self
            threading.Event().wait(0.05)
        raise RuntimeError("uvicorn did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(20)
        jobs.set_dispatcher(None)


@pytest.mark.timeout(180)
async def test_the_example_client_runs_against_the_served_api(settings, city):
    token = TokenCodec(settings).encode(subject="example", role=Role.region_admin, tenant_ids=[city.a])
    hospital = f"H{city.a}99001"
    with Served(settings) as served:
        env = {
            **os.environ,
            "DIANSHU_URL": f"http://127.0.0.1:{served.port}/graphql",
            "DIANSHU_TOKEN": token,
            "DIANSHU_TENANT": city.a,
            "DIANSHU_HOSPITAL": hospital,
            "DIANSHU_IDEMPOTENCY_KEY": "example-1",
        }
        p = await asyncio.to_thread(
            subprocess.run, [sys.executable, str(CLIENT)], env=env, capture_output=True, text=True, timeout=120
        )
    assert p.returncode == 0, p.stderr[-3000:]
    assert p.stdout.splitlines() == [
        f"me: region_admin of {city.a}",
        f"hospitals: 2 ({city.a1}, {city.a2})",
        "submitted: created=True; retried: created=False, same job=True",
        "job: succeeded ImportHospitalsJobResult rows=1 inserted=1 updated=0 unchanged=0",
        "refused: BAD_USER_INPUT on first: first: must be between 1 and 100 (got 500)",
    ]
