from pathlib import Path

import pytest

from dianshu.config import ConfigError, Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch):
    """Other tests set DATABASE_URL and friends for the session; these tests need them unset."""
    for name in (
        "DATABASE_URL",
        "APP_DATABASE_URL",
        "REDIS_URL",
        "AMQP_URL",
        "DIANSHU_JWT_SECRET",
        "DIANSHU_PROFILE",
        "DIANSHU_CONFIG_FILE",
        "DIANSHU_JWT_ALGORITHM",
    ):
        monkeypatch.delenv(name, raising=False)


def test_prod_refuses_embedded_services_and_dev_secret():
    with pytest.raises(ConfigError, match="DATABASE_URL is required"):
        Settings(profile="prod", redis_url="redis://x", jwt_secret="s")
    with pytest.raises(ConfigError, match="REDIS_URL or AMQP_URL"):
        Settings(profile="prod", database_url="postgresql://u@h/d", jwt_secret="s")
    with pytest.raises(ConfigError, match="DIANSHU_JWT_SECRET"):
        Settings(profile="prod", database_url="postgresql://u@h/d", redis_url="redis://x")
    with pytest.raises(ConfigError, match="RS256 needs"):
        Settings(profile="prod", database_url="postgresql://u@h/d", redis_url="redis://x", jwt_algorithm="RS256")
    ok = Settings(profile="prod", database_url="postgresql://u@h/d", amqp_url="amqp://x", jwt_secret="s")
    assert not ok.embedded_database and not ok.embedded_broker


def test_only_one_broker():
    with pytest.raises(ConfigError, match="only one of REDIS_URL and AMQP_URL"):
        Settings(redis_url="redis://x", amqp_url="amqp://y")


def test_runtime_url_is_the_owner_url_with_the_runtime_role():
    s = Settings(database_url="postgresql://admin:pw@db.example:5432/dianshu", app_db_password="apw")
    assert s.runtime_url() == "postgresql://dianshu_app:apw@db.example:5432/dianshu"
    s2 = Settings(database_url="postgresql://admin@h/d", app_database_url="postgresql://other@h/d")
    assert s2.runtime_url() == "postgresql://other@h/d"


def test_config_file_and_env_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    f = tmp_path / "dianshu.toml"
    f.write_text('database_url = "postgresql://fromfile@h/d"\nmax_query_depth = 7\n')
    monkeypatch.setenv("DIANSHU_CONFIG_FILE", str(f))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("DIANSHU_MAX_QUERY_DEPTH", raising=False)
    s = Settings()
    assert s.database_url == "postgresql://fromfile@h/d"
    assert s.max_query_depth == 7
    monkeypatch.setenv("DATABASE_URL", "postgresql://fromenv@h/d")
    assert Settings().database_url == "postgresql://fromenv@h/d"


def test_missing_config_file_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DIANSHU_CONFIG_FILE", "/nonexistent/dianshu.toml")
    with pytest.raises(ConfigError, match="no such file"):
        Settings()


def test_dev_secret_is_generated_once_per_state_dir(tmp_path: Path):
    s = Settings(state_dir=tmp_path, jwt_secret=None)
    first = s.dev_jwt_secret()
    assert len(first) > 40
    assert Settings(state_dir=tmp_path, jwt_secret=None).dev_jwt_secret() == first
