"""`dianshu evaluation catalogue`: the built-in file as a table (Chinese headers first), JSON with
every field, CSV in UTF-8 with a BOM; a stored version by label; loading and publishing as the
operator (retry-safe)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from dianshu.evaluation.catalogue import DATA, INDICATOR_COLUMNS, builtin_catalogue
from dianshu.evaluation.versions import builtin_label
from dianshu_cli.main import app
from tests.evaluation.world import builtin_catalogue_version  # noqa: F401

DIANSHU = str(Path(sys.executable).parent / "dianshu")


def cli(*args: str):
    result = CliRunner().invoke(app, ["evaluation", *args])
    assert result.exit_code == 0, result.output
    return result


def test_the_table_has_chinese_headers_first_and_every_indicator():
    out = cli("catalogue").stdout
    header = next(line for line in out.splitlines() if "编码" in line)
    assert header.split()[:4] == ["编码", "维度", "指标名称", "方向"]
    for i in builtin_catalogue().indicators:
        assert i.code in out
    assert "病例组合指数(CMI)" in out and "越高越好" in out and "填报" in out
    english = cli("catalogue", "--lang", "en").stdout
    assert "Code" in english and "Case mix index (CMI)" in english and "编码" not in english


def test_json_has_every_field_of_every_indicator():
    doc = json.loads(cli("catalogue", "--format", "json").stdout)
    with (DATA / "catalogue.csv").open(encoding="utf-8") as fh:
        expected = list(csv.DictReader(fh))
    assert doc["indicators"] == [{c: r[c].strip() for c in INDICATOR_COLUMNS} for r in expected]
    assert [(d["code"], d["weight"]) for d in doc["dimensions"]] == [
        ("comprehensive", "20"),
        ("drg", "25"),
        ("audit", "20"),
        ("outcome", "15"),
        ("satisfaction", "10"),
        ("process", "10"),
    ]


def test_csv_is_utf8_with_a_bom_in_the_catalogue_files_columns():
    raw = CliRunner().invoke(app, ["evaluation", "catalogue", "--format", "csv"]).stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8")[1:])))
    assert len(rows) == 50 and tuple(rows[0]) == INDICATOR_COLUMNS
    e02 = next(r for r in rows if r["code"] == "E02")
    assert (e02["source"], e02["unit"], e02["weight"], e02["name_zh"]) == (
        "entered",
        "per_mille",
        "25",
        "每千人次投诉数",
    )


def run(*args: str, lang: str = "en") -> subprocess.CompletedProcess:
    return subprocess.run(
        [DIANSHU, "--lang", lang, "evaluation", *args],
        env={**os.environ, "COLUMNS": "250"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_stored_version_loads_idempotently_prints_and_publishes_retry_safe(builtin_catalogue_version):  # noqa: F811
    loaded = run("load-catalogue")
    assert loaded.returncode == 0, loaded.stderr
    assert f"catalogue {builtin_label()} (50 indicators)" in loaded.stderr and "nothing changed" in loaded.stderr
    chinese = run("load-catalogue", lang="zh")  # the CLI's default language
    assert chinese.returncode == 0, chinese.stderr
    assert f"指标目录 {builtin_label()}（50 项指标）" in chinese.stderr and "未作改动" in chinese.stderr
    shown = run("catalogue", "--version", builtin_label(), "--format", "json")
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["version"]["id"] == str(builtin_catalogue_version) and doc["version"]["status"] == "published"
    assert doc["indicators"] == json.loads(cli("catalogue", "--format", "json").stdout)["indicators"]
    again = run("publish-catalogue", builtin_label(), "--from", "2000")  # as published: a no-op
    assert again.returncode == 0, again.stderr
    other = run("publish-catalogue", builtin_label(), "--from", "2001")
    assert other.returncode == 2 and "only a draft can be published" in other.stderr
    missing = run("catalogue", "--version", "no-such-label")
    assert missing.returncode == 2 and "no catalogue version labelled 'no-such-label'" in missing.stderr
    listed = run("versions")
    assert listed.returncode == 0 and builtin_label() in listed.stdout and "in force" in listed.stdout
    listed_zh = run("versions", lang="zh")
    assert listed_zh.returncode == 0 and builtin_label() in listed_zh.stdout and "适用年度" in listed_zh.stdout
