"""`dianshu doctor` against the test database: every check passes; an unreachable broker, a runtime
role with BYPASSRLS or owning an object (throwaway roles), a DATABASE_URL whose login cannot act as
the owner and an unreachable identity provider each fail with a line that says what is wrong and how
to fix it; DATABASE_URL as the runtime role (a chart pod's) leaves the owner check undone, said so.
The checks are read in English (`--lang en`); Chinese, the default, is checked once."""

from __future__ import annotations

import re
import secrets
import socket

from sqlalchemy import create_engine, pool, text
from sqlalchemy.engine import make_url

from dianshu.db.session import sync_url
from tests.test_cli import run

CHECKS = ["configuration", "database owner", "runtime role", "migrations", "broker", "identity", "patient-id key"]


def doctor(env: dict | None = None, lang: str = "en"):
    """`dianshu --lang <lang> doctor` (English unless told)."""
    return run("--lang", lang, "doctor", env=env)


def _lines(out) -> dict[str, str]:
    return {line[2:].split(":", 1)[0]: line for line in out.stdout.splitlines()}


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_every_check_passes_against_the_test_database(test_database):
    out = doctor()
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
    lines = _lines(out)
    assert list(lines) == CHECKS
    assert all(line.startswith("✓ ") for line in lines.values()), out.stdout
    assert "dianshu_app: NOSUPERUSER NOBYPASSRLS, owns nothing" in lines["runtime role"]
    login = make_url(test_database.owner_url).username
    assert lines["database owner"].startswith(f"✓ database owner: connected as {login} ("), lines["database owner"]
    assert "dianshu_owner owns the " in lines["database owner"]
    assert "at head" in lines["migrations"]
    assert lines["patient-id key"] == (
        "✓ patient-id key: DIANSHU_PSN_KEY: 45 characters (keep it: another key gives other pseudonyms)"
    )


def test_an_unreachable_broker_fails_its_check_only(test_database):
    port = _closed_port()
    out = doctor(env={"REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    assert out.returncode == 1
    lines = _lines(out)
    assert lines["broker"].startswith(f"✗ broker: Redis at redis://127.0.0.1:{port}/0 unreachable: ")
    assert "fix: check REDIS_URL and that Redis is running" in lines["broker"]
    assert [n for n, line in lines.items() if line.startswith("✗")] == ["broker"]
    out = doctor(env={"AMQP_URL": f"amqp://guest:pw-7f3a@127.0.0.1:{port}/%2F"})
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
        out = doctor(env={"APP_DATABASE_URL": url.render_as_string(hide_password=False)})
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
    out = doctor(env={"DIANSHU_JWT_ALGORITHM": "RS256", "DIANSHU_JWT_JWKS_URL": url})
    assert out.returncode == 1
    line = _lines(out)["identity"]
    assert line.startswith(f"✗ identity: the identity provider's keys at {url} could not be fetched")
    assert "fix: check DIANSHU_JWT_JWKS_URL" in line
    # Production without a broker: the configuration check says which setting is missing.
    out = doctor(env={"DIANSHU_PROFILE": "prod"})
    assert out.returncode == 1
    assert out.stdout.startswith("✗ configuration: profile prod: REDIS_URL or AMQP_URL is required"), out.stdout
    # A setting that does not load stops there, naming it.
    out = doctor(env={"DIANSHU_JWT_LEEWAY_S": "900"})
    assert out.returncode == 1
    assert out.stdout == (
        '✗ configuration: DIANSHU_JWT_LEEWAY_S: must be ≤ 300 (got "900") — fix: correct the setting it names\n'
    )


def _throwaway_role(test_database, *setup: str):
    """A login role (password pw) made by the test database's admin login, with `setup` statements
    ({role} in them is its name, {db} the database's); returns (role, its URL, drop)."""
    role = f"zz_doctor_{secrets.token_hex(3)}"
    admin = create_engine(sync_url(test_database.owner_url), isolation_level="AUTOCOMMIT", poolclass=pool.NullPool)
    with admin.connect() as c:
        c.execute(text(f"create role {role} login password 'pw' nosuperuser nobypassrls"))
        for statement in setup:
            c.execute(text(statement.format(role=role, db=make_url(test_database.owner_url).database)))

    def drop() -> None:
        with admin.connect() as c:
            c.execute(text(f"drop owned by {role}"))
            c.execute(text(f"drop role {role}"))
        admin.dispose()

    url = make_url(test_database.owner_url).set(username=role, password="pw").render_as_string(hide_password=False)
    return role, url, drop


def test_database_url_as_the_runtime_role_says_the_owner_was_not_checked(test_database):
    """A chart pod: DATABASE_URL and APP_DATABASE_URL both the runtime role's. The owner check says
    which role it connected as, that it is the runtime role, and that the owner was not checked:
    no ✓, no ✗ (nothing to fix here), the exit code left to the other checks."""
    env = {"DATABASE_URL": test_database.runtime_url, "APP_DATABASE_URL": test_database.runtime_url}
    out = doctor(env=env)
    line = _lines(out)["database owner"]
    assert line.startswith(
        "– database owner: not checked: DATABASE_URL connects as dianshu_app, the runtime role, not as a login"
        " that can act as dianshu_owner"
    ), line
    assert "the catalogue, read as dianshu_app, says dianshu_owner owns the " in line
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]  # the other checks pass as that role
    assert _lines(out)["runtime role"].startswith("✓ runtime role: dianshu_app:")


def _doctor_with_throwaway_role(test_database, setup: str, variable: str):
    """`dianshu doctor` with `variable` (DATABASE_URL or APP_DATABASE_URL) naming a new login set up
    by `setup` (dropped afterwards); (the role, the run)."""
    role, url, drop = _throwaway_role(test_database, setup)
    try:
        return role, doctor(env={variable: url})
    finally:
        drop()


def test_database_url_whose_login_cannot_act_as_the_owner_fails(test_database):
    role, out = _doctor_with_throwaway_role(test_database, 'grant connect on database "{db}" to {role}', "DATABASE_URL")
    assert out.returncode == 1
    line = _lines(out)["database owner"]
    assert line.startswith(f"✗ database owner: DATABASE_URL connects as {role}, which can not act as dianshu_owner"), (
        line
    )
    assert f"fix: grant dianshu_owner to {role}" in line


def test_a_runtime_role_that_owns_an_object_fails_naming_it(test_database):
    role, out = _doctor_with_throwaway_role(
        test_database, "create schema {role}_own authorization {role}", "APP_DATABASE_URL"
    )
    assert out.returncode == 1
    line = _lines(out)["runtime role"]
    assert line.startswith(f"✗ runtime role: role {role} owns 1 object(s): schema {role}_own"), line
    assert "reassign what it owns to dianshu_owner" in line


def test_a_runtime_role_that_may_act_as_the_owner_fails(test_database):
    role, out = _doctor_with_throwaway_role(test_database, "grant dianshu_owner to {role}", "APP_DATABASE_URL")
    assert out.returncode == 1
    line = _lines(out)["runtime role"]
    assert line.startswith(f"✗ runtime role: role {role} may act as the owner dianshu_owner (a member of it)"), line


CHECKS_ZH = ["配置", "数据库属主", "运行时角色", "数据库迁移", "消息代理", "身份认证", "患者标识密钥"]


def _english_left(line: str, *values: str) -> list[str]:
    """English words in a line apart from its values: `values`, URLs, paths, role and variable
    names (anything with a digit, an underscore, a slash or a dot in it), SQL words in capitals."""
    for value in values:
        line = line.replace(value, "")
    said = re.sub(r"\S*[\d_/.:@]\S*|`[^`]*`", "", line)
    return re.findall(r"\b[a-z]{3,}\b", said)


def test_the_checks_are_said_in_chinese_by_default(test_database):
    out = run("doctor")
    assert out.returncode == 0, out.stdout + out.stderr[-2000:]
    lines = {line[2:].split("：", 1)[0]: line for line in out.stdout.splitlines()}
    assert list(lines) == CHECKS_ZH, out.stdout
    login = make_url(test_database.owner_url).username
    assert [line for line in lines.values() if _english_left(line, login)] == []
    assert lines["运行时角色"] == "✓ 运行时角色：dianshu_app：NOSUPERUSER NOBYPASSRLS，不拥有任何对象"
    assert lines["患者标识密钥"].startswith("✓ 患者标识密钥：DIANSHU_PSN_KEY：45 个字符")
    # A bad setting: the settings' reason from the reasons catalogue, the fix and its joiner Chinese.
    out = run("doctor", env={"DIANSHU_JWT_LEEWAY_S": "900"})
    assert out.returncode == 1
    assert out.stdout == '✗ 配置：DIANSHU_JWT_LEEWAY_S: 应 ≤ 300（实际为 "900"）——处理：更正其中指出的设置\n'
    # Production without a broker; an unreachable identity provider and broker: Chinese but the values.
    out = run("doctor", env={"DIANSHU_PROFILE": "prod"})
    assert out.stdout.startswith("✗ 配置：生产环境（DIANSHU_PROFILE=prod）：必须设置 REDIS_URL 或 AMQP_URL"), out.stdout
    assert _english_left(out.stdout) == []
    url = f"http://127.0.0.1:{_closed_port()}/jwks.json"
    out = run("doctor", env={"DIANSHU_JWT_ALGORITHM": "RS256", "DIANSHU_JWT_JWKS_URL": url})
    line = {line[2:].split("：", 1)[0]: line for line in out.stdout.splitlines()}["身份认证"]
    assert line.startswith(f"✗ 身份认证：无法获取身份提供方 {url} 的密钥（"), line
    assert "——处理：检查 DIANSHU_JWT_JWKS_URL（从这里可以访问）" in line
    out = run("doctor", env={"REDIS_URL": f"redis://127.0.0.1:{_closed_port()}/0"})
    line = {line[2:].split("：", 1)[0]: line for line in out.stdout.splitlines()}["消息代理"]
    assert (
        line.startswith("✗ 消息代理：Redis redis://127.0.0.1:")
        and "——处理：检查 REDIS_URL，并确认 Redis 正在运行" in line
    )
