"""Test fixtures: a fresh database per run on a real PostgreSQL (the embedded one, or the server
named by DIANSHU_TEST_DATABASE_URL), migrations applied once, and a fresh city of tenants per test
so tests never see each other's rows."""

from __future__ import annotations

import itertools
import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from dianshu.config import Settings, reset_settings
from dianshu.db.session import Database, sync_url
from dianshu.jobs import service as jobs
from dianshu.scope import Role, Scope

ROOT = Path(__file__).resolve().parents[1]
TEST_STATE = ROOT / ".dianshu" / "test"
JWT_SECRET = "test-secret-" + "x" * 32
# The patient-id key of the whole suite (prod settings need one; subprocesses inherit it). Set,
# not defaulted: a developer's own key must not change what the tests expect.
PSN_KEY = "test-psn-key-" + "y" * 32
os.environ["DIANSHU_PSN_KEY"] = PSN_KEY


def _admin_url() -> str:
    configured = os.environ.get("DIANSHU_TEST_DATABASE_URL")
    if configured:
        return configured
    from dianshu.embedded import embedded_postgres_url

    return embedded_postgres_url(TEST_STATE, database="postgres")


def _set_by_others(name: str) -> bool:
    # pytest's own, and Intel OpenMP's (set once when the anomaly model's library is first imported).
    return name == "PYTEST_CURRENT_TEST" or name.startswith("KMP_")


@pytest.fixture(autouse=True)
def environment_left_as_found() -> Iterator[None]:
    """A test that sets os.environ (run_worker, serve) and leaves it set changes every later test
    in its process (PROMETHEUS_MULTIPROC_DIR turned this process's metrics to multiprocess mode):
    put it back, and fail the test that leaked, by name."""
    before = {k: v for k, v in os.environ.items() if not _set_by_others(k)}
    yield
    after = {k: v for k, v in os.environ.items() if not _set_by_others(k)}
    if after != before:
        for name in after.keys() - before.keys():
            del os.environ[name]
        os.environ.update(before)
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        pytest.fail(f"the test left os.environ changed: {', '.join(changed)} (use monkeypatch)")


@dataclass(frozen=True)
class TestDatabase:
    owner_url: str
    runtime_url: str
    name: str


@pytest.fixture(scope="session")
def test_database() -> Iterator[TestDatabase]:
    admin = _admin_url()
    name = f"dianshu_test_{secrets.token_hex(4)}"
    engine = create_engine(sync_url(admin), isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with engine.connect() as c:
        c.execute(text(f'create database "{name}"'))
    owner_url = make_url(admin).set(database=name).render_as_string(hide_password=False)
    os.environ.update(
        {
            "DATABASE_URL": owner_url,
            "DIANSHU_JWT_SECRET": JWT_SECRET,
            "DIANSHU_STATE_DIR": str(TEST_STATE),
            "DIANSHU_PROFILE": "dev",
        }
    )
    os.environ.pop("APP_DATABASE_URL", None)
    reset_settings()
    settings = Settings()
    from dianshu_cli.migrate import upgrade

    upgrade(settings, owner_url=owner_url)
    try:
        yield TestDatabase(owner_url=owner_url, runtime_url=settings.runtime_url(), name=name)
    finally:
        with engine.connect() as c:
            c.execute(text(f'drop database if exists "{name}" with (force)'))
        engine.dispose()
        if not os.environ.get("DIANSHU_TEST_DATABASE_URL"):
            # Stop the embedded server this run used, unless another live process (a concurrent
            # run in this worktree) still holds a handle on it.
            from dianshu.embedded import stop_embedded_postgres, stop_embedded_redis

            outcome = stop_embedded_postgres(TEST_STATE, only_if_unused=True)
            print(f"\n{outcome.message}")
            if outcome.ok:  # no other live run holds the server: the drills' embedded Redis goes too
                print(stop_embedded_redis(TEST_STATE).message)


@pytest.fixture(scope="session")
def settings(test_database: TestDatabase) -> Settings:
    return Settings()


@pytest.fixture(scope="session")
async def db(test_database: TestDatabase) -> AsyncIterator[Database]:
    database = Database(test_database.runtime_url, pool_size=5)
    yield database
    await database.dispose()


@pytest.fixture
async def prod(test_database: TestDatabase, db: Database):
    """The API in the production profile (masked errors, no suggestions, POST only) on the test database."""
    from tests.api import Api

    settings = Settings(
        profile="prod", database_url=test_database.owner_url, redis_url="redis://127.0.0.1:1/0", jwt_secret=JWT_SECRET
    )
    api = Api(settings, db)
    yield api
    await api.client.aclose()


@pytest.fixture(scope="session")
async def owner_db(test_database: TestDatabase) -> AsyncIterator[Database]:
    database = Database(test_database.owner_url, pool_size=2)
    yield database
    await database.dispose()


@dataclass
class City:
    """A fresh city with two regions (A, B), two hospitals in A (A1, A2) and one in B (B1)."""

    city: str
    a: str
    b: str
    a1: str
    a2: str
    b1: str

    @property
    def tenants(self) -> tuple[str, ...]:
        return (self.city, self.a, self.b)


_CODES = itertools.count(100001)


def _code() -> str:
    # Division-shaped (6 digits) so hospital codes of the default shape can name it; each run has a
    # fresh database, so a counter is unique enough.
    return f"{next(_CODES):06d}"


async def provision_city(owner_db: Database, db: Database) -> City:
    from dianshu.db.session import scoped_session
    from dianshu.tenancy.service import upsert_hospitals, validate_roster
    from dianshu_tenants.provisioning import ensure_tenants

    city, a, b = _code(), _code(), _code()
    await ensure_tenants(owner_db, (city, f"City {city}"), [(a, f"Region {a}"), (b, f"Region {b}")])
    c = City(city, a, b, f"H{a}00001", f"H{a}00002", f"H{b}00001")
    for tenant, codes in ((a, (c.a1, c.a2)), (b, (c.b1,))):
        rows = validate_roster(
            tenant, [{"id": h, "name": f"Hospital {h}", "level": 2, "type": "general"} for h in codes]
        )
        async with scoped_session(db, Scope.system((tenant,))) as s:
            await upsert_hospitals(s, rows)
    return c


@pytest.fixture
async def city(owner_db: Database, db: Database) -> City:
    return await provision_city(owner_db, db)


class RecordingDispatcher:
    """Stands in for the queue in API tests: records sends; jobs are then run with execute()."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, uuid.UUID]] = []

    def __call__(self, tenant_id: str, kind: str, job_id: uuid.UUID) -> None:
        self.sent.append((tenant_id, kind, job_id))


@pytest.fixture
def dispatcher() -> Iterator[RecordingDispatcher]:
    rec = RecordingDispatcher()
    jobs.set_dispatcher(rec)
    yield rec
    jobs.set_dispatcher(None)


@pytest.fixture
async def job_queue_of_its_own(db: Database) -> None:
    """For a test that starts a real worker: its sweep sweeps the whole test database, so the jobs
    that earlier tests on this xdist worker left queued or running are closed first (see
    tests/drills.py close_jobs_left_unfinished)."""
    from tests.drills import close_jobs_left_unfinished

    await close_jobs_left_unfinished(db)


ALL = object()  # scope_for's default: every hospital of the tenants


def scope_for(role: Role, tenants: tuple[str, ...], hospital: str | object | None = ALL) -> Scope:
    if hospital is ALL:
        return Scope(role, tenants, None, actor=f"test-{role.value}", all_hospitals=True)
    assert hospital is None or isinstance(hospital, str)
    return Scope(role, tenants, hospital, actor=f"test-{role.value}")
