"""`dianshu serve --workers N`: N server processes from the app factory (uvicorn's supervisor)."""

from __future__ import annotations

import uvicorn
from typer.testing import CliRunner

from dianshu_cli.main import app


def test_serve_with_workers_uses_the_factory(monkeypatch, tmp_path):
    calls = []
    # serve points its processes at a metrics directory through the environment: this test's own,
    # put back afterwards (left set, it would turn this test process's metrics to multiprocess mode).
    (tmp_path / "stale.db").write_bytes(b"")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    monkeypatch.setattr(uvicorn, "run", lambda target, **kw: calls.append((target, kw)))
    monkeypatch.setattr("dianshu.config.Settings.runtime_url", lambda self: "postgresql://x@127.0.0.1/x")
    result = CliRunner().invoke(app, ["serve", "--workers", "3", "--port", "8123"])
    assert result.exit_code == 0, result.output
    ((target, kw),) = calls
    assert target == "dianshu_cli.serving:app"
    assert kw["factory"] is True and kw["workers"] == 3 and kw["port"] == 8123
    assert list(tmp_path.iterdir()) == [], "the metrics directory is emptied before the processes start"


def test_serve_refuses_no_workers():
    result = CliRunner().invoke(app, ["serve", "--workers", "0"])
    assert result.exit_code == 2


def test_the_factory_builds_an_app(settings):
    from starlette.applications import Starlette

    from dianshu_cli.serving import app as factory

    built = factory()
    assert isinstance(built, Starlette)
    assert any(getattr(r, "path", None) == "/workstation/check" for r in built.routes)
