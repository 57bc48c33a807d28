"""`dianshu doctor` against the test database: every check passes; an unreachable broker, a runtime
role with BYPASSRLS (a throwaway role) and an unreachable identity provider each fail with a line
that says what is wrong and how to fix it."""

from __future__ import annotations

import secrets
import socket

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from dianshu.db.session import sync_url
from tests.test_cli import run

CHECKS = ["configuration", "database owner", "runtime role", "migrations", "broker", "identity", "patient-id key"]


def _lines(out) -> dict[str, str]:
    return {line[2:].split(":", 1)[0]: line for line in out.stdout.splitlines()}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_check_passes_against_the_test_database(test_database):
    out = run("doctor")
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
    lines = _lines(out)
    assert list(lines) == CHECKS
    assert all(line.startswith("✓ ") for line in lines.values()), out.stdout
    assert "dianshu_app: NOSUPERUSER NOBYPASSRLS, owns nothing" in lines["runtime role"]
    assert "at head" in lines["migrations"]
    assert lines["patient-id key"] == (
        "✓ patient-id key: DIANSHU_PSN_KEY: 45 characters (keep it: another key gives other pseudonyms)"
    )


def test_an_unreachable_broker_fails_its_check_only(test_database):
    port = _closed_port()
    out = run("doctor", env={"REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    assert out.returncode == 1
    lines = _lines(out)
    assert lines["broker"].startswith(f"✗ broker: Redis at redis://127.0.0.1:{port}/0 unreachable: ")
    assert "fix: check REDIS_URL and that Redis is running" in lines["broker"]
    assert [n for n, line in lines.items() if line.startswith("✗")] == ["broker"]
    out = run("doctor", env={"AMQP_URL": f"amqp://guest:pw-7f3a@127.0.0.1:{port}/%2F"})
    assert out.returncode == 1
    line = _lines(out)["broker"]
    expected = f"✗ broker: RabbitMQ at amqp://guest:***@127.0.0.1:{port}/%2F unreachable: AMQPConnectionError"
    assert line.startswith(expected), line
    assert "Connection refused" in line
    assert "pw-7f3a" not in out.stdout and "fix: check AMQP_URL" in line


def test_a_runtime_role_with_bypassrls_fails_with_the_reason(test_database):
    role = f"zz_doctor_{secrets.token_hex(3)}"
    admin = create_engine(sync_url(test_database.owner_url), isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with admin.connect() as c:
        c.execute(text(f"create role {role} login password 'pw' nosuperuser bypassrls"))
    try:
        url = make_url(test_database.owner_url).set(username=role, password="pw")
        out = run("doctor", env={"APP_DATABASE_URL": url.render_as_string(hide_password=False)})
    finally:
        with admin.connect() as c:
            c.execute(text(f"drop role {role}"))
        admin.dispose()
    assert out.returncode == 1
    line = _lines(out)["runtime role"]
    assert line.startswith(f"✗ runtime role: role {role} has BYPASSRLS (row-level security would not hold)")
    assert f"fix: alter role {role} nosuperuser nobypassrls" in line


def test_an_unreachable_identity_provider_and_a_bad_setting_fail_clearly(test_database):
    url = f"http://127.0.0.1:{_closed_port()}/jwks.json"
    out = run("doctor", env={"DIANSHU_JWT_ALGORITHM": "RS256", "DIANSHU_JWT_JWKS_URL": url})
    assert out.returncode == 1
    line = _lines(out)["identity"]
    assert line.startswith(f"✗ identity: the identity provider's keys at {url} could not be fetched")
    assert "fix: check DIANSHU_JWT_JWKS_URL" in line
    # Production without a broker: the configuration check says which setting is missing.
    out = run("doctor", env={"DIANSHU_PROFILE": "prod"})
    assert out.returncode == 1
    assert out.stdout.startswith("✗ configuration: profile prod: REDIS_URL or AMQP_URL is required"), out.stdout
    # A setting that does not load stops there, naming it.
    out = run("doctor", env={"DIANSHU_JWT_LEEWAY_S": "900"})
    assert out.returncode == 1
    assert out.stdout == (
        "✗ configuration: DIANSHU_JWT_LEEWAY_S='900': Input should be less than or equal to 300"
        " — fix: correct the setting it names\n"
    )
