"""The CLI's wording (dianshu.reports.labels.CLI, said by dianshu_cli.words.t): every text has its
English with the same fields, every text a command says is there, and tables say Chinese by default
and English with `--lang en` (or DIANSHU_LANG=en), their numbers formatted as before. No database."""

from __future__ import annotations

import ast
import io
import string
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console
from typer.testing import CliRunner

from dianshu.reports.labels import CLI, cli_text
from dianshu.tabular.write import Lang
from dianshu_cli.errors import CHOSEN
from dianshu_cli.main import app

CLI_DIR = Path(__file__).resolve().parents[1] / "cli" / "dianshu_cli"


def fields(s: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(s) if name is not None}


def test_every_text_has_its_english_with_the_same_fields():
    for zh, en in CLI.items():
        assert isinstance(en, str) and en.strip(), zh
        assert fields(zh) == fields(en), (zh, en)


def said_texts() -> list[tuple[str, int, str]]:
    """(file, line, Chinese) of every `t("…")` of the CLI, and of every string of a tuple a `for`
    loop gives to `t(col)` (the tables' headers)."""
    found = []
    for path in sorted(CLI_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "t" and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append((path.name, node.lineno, arg.value))
            if isinstance(node, ast.For) and isinstance(node.target, ast.Name) and isinstance(node.iter, ast.Tuple):
                name = node.target.id
                calls_t = any(
                    isinstance(c, ast.Call)
                    and isinstance(c.func, ast.Name)
                    and c.func.id == "t"
                    and any(isinstance(a, ast.Name) and a.id == name for a in c.args)
                    for c in ast.walk(node)
                )
                if calls_t:
                    found += [
                        (path.name, e.lineno, e.value)
                        for e in node.iter.elts
                        if isinstance(e, ast.Constant) and isinstance(e.value, str)
                    ]
    return found


def test_every_text_the_cli_says_is_in_the_catalogue_and_none_is_left_over():
    said = said_texts()
    assert len(said) > 100
    missing = [(f, n, zh) for f, n, zh in said if zh not in CLI]
    assert missing == []
    # demo_evaluation's short dimension headers are said through SHORT: counted as said.
    from dianshu_cli.demo_evaluation import SHORT

    unused = set(CLI) - {zh for _, _, zh in said} - set(SHORT.values())
    assert unused == set()


def test_a_text_without_fields_is_kept_as_written_for_rich():
    assert cli_text("{task.fields[n]:,} 条记录", Lang.en) == "{task.fields[n]:,} records"
    assert cli_text("批次 {id}（{tenant}）：{status}", Lang.en, id=1, tenant="330702", status="done") == (
        "batch 1 (330702): done"
    )


@pytest.fixture
def chinese_locale(monkeypatch):
    """No language asked for: the CLI's default (Chinese)."""
    for var in ("DIANSHU_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delitem(CHOSEN, "lang", raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def test_supervision_rules_shows_chinese_headers_by_default_and_english_on_request(chinese_locale, monkeypatch):
    zh = CliRunner().invoke(app, ["supervision", "rules"])
    assert zh.exit_code == 0, zh.output
    assert "智能监管规则" in zh.stdout and "英文名称" in zh.stdout and "违规类型" in zh.stdout
    assert "violation" not in zh.stdout and "severity" not in zh.stdout
    assert "split_admission" in zh.stdout and "高" in zh.stdout  # the codes stay; the severity is labelled
    en = CliRunner().invoke(app, ["--lang", "en", "supervision", "rules"])
    assert en.exit_code == 0, en.output
    assert "Supervision rules" in en.stdout and "violation" in en.stdout and "severity" in en.stdout
    assert "违规类型" not in en.stdout and "split_admission" in en.stdout
    monkeypatch.setenv("DIANSHU_LANG", "en")
    by_env = CliRunner().invoke(app, ["supervision", "rules"])
    assert by_env.exit_code == 0 and "violation" in by_env.stdout
    # JSON is for tools: the same in either language.
    a = CliRunner().invoke(app, ["--lang", "zh", "supervision", "rules", "--format", "json"]).stdout
    assert a == CliRunner().invoke(app, ["--lang", "en", "supervision", "rules", "--format", "json"]).stdout


def shown(monkeypatch, lang: str, draw) -> str:
    monkeypatch.setitem(CHOSEN, "lang", lang)
    out = io.StringIO()
    draw(Console(file=out, width=250))
    return out.getvalue()


def test_settlement_list_and_ingest_tables_in_both_languages(chinese_locale, monkeypatch):
    from dianshu_cli.cases import print_batches
    from dianshu_cli.settlement import print_runs

    run = SimpleNamespace(
        id=uuid.UUID(int=7),
        tenant_id="330702",
        kind="monthly",
        year=2025,
        month=6,
        ledger="employee",
        version=2,
        status="published",
        figures={"PV": "12.345670"},
    )
    zh = shown(monkeypatch, "zh", lambda c: print_runs(c, [run]))
    assert "结算批次" in zh and "批次编号" in zh and "月度预结算" in zh and "职工医保" in zh and "已发布" in zh
    assert str(run.id) in zh and "12.345670" in zh  # the point value as stored, to its 6 places
    en = shown(monkeypatch, "en", lambda c: print_runs(c, [run]))
    assert "Settlement runs" in en and "monthly" in en and "employee" in en and "published" in en
    assert "结算" not in en and str(run.id) in en
    assert "没有结算批次" in shown(monkeypatch, "zh", lambda c: print_runs(c, []))
    assert "no settlement runs" in shown(monkeypatch, "en", lambda c: print_runs(c, []))

    batch = SimpleNamespace(
        id=uuid.UUID(int=9),
        tenant_id="330702",
        status="done",
        rows_total=12345,
        rows_accepted=12000,
        rows_corrected=5,
        rows_unchanged=300,
        rows_refused=40,
        reason=None,
    )
    files = {batch.id: Path("out/refused.csv")}
    zh = shown(monkeypatch, "zh", lambda c: print_batches(c, [batch], {batch.id: "gb18030"}, files))
    assert "导入批次" in zh and "接收" in zh and "12,345" in zh  # thousands separators as before
    assert f"批次 {batch.id}（330702）：已完成，按 gb18030 读取；拒收行：out/refused.csv" in zh
    en = shown(monkeypatch, "en", lambda c: print_batches(c, [batch], {batch.id: "gb18030"}, files))
    assert "Ingestion batches" in en and "accepted" in en and "12,345" in en
    assert f"batch {batch.id} (330702): done, read as gb18030; refused rows: out/refused.csv" in en


def test_the_clearing_overview_and_the_demo_tables_in_both_languages(chinese_locale, monkeypatch, capsys):
    from dianshu_cli.demo_evaluation import print_findings, print_scores
    from dianshu_cli.settlement import print_overview

    row = {
        "region": "330702",
        "ledger": "resident",
        "status": "draft",
        "T": "123456789",
        "E": "1000000",
        "F": "2000000",
        "PV": "10.5",
        "hospitals": 12,
    }
    zh = shown(monkeypatch, "zh", lambda c: print_overview(c, 2025, [row]))
    assert "2025 年终清算：各统筹区对比" in zh and "居民医保" in zh and "草稿" in zh and "12,345.7" in zh
    en = shown(monkeypatch, "en", lambda c: print_overview(c, 2025, [row]))
    assert "Annual clearing 2025: region by region" in en and "res" in en and "draft" in en and "12,345.7" in en

    def printed(lang: str, draw) -> str:  # the demo's tables go to stdout (its own Console)
        monkeypatch.setitem(CHOSEN, "lang", lang)
        capsys.readouterr()
        draw(Console(file=io.StringIO()))
        return capsys.readouterr().out

    score = SimpleNamespace(hospital_id="H1", level=3, dims={"drg": 80.0}, total=81.5, capped=False, rank_band="A")
    zh = printed("zh", lambda c: print_scores(c, [score]))
    assert "医院考核评价 2025：各维度得分" in zh and "总分" in zh
    en = printed("en", lambda c: print_scores(c, [score]))
    assert "医院考核评价 2025: scores by dimension" in en and "total" in en and "总分" not in en
    finding = SimpleNamespace(
        hospital_id="H1", rule="split_admission", severity="high", figure=1234.5, unit="%", threshold=10, cases=3
    )
    zh = printed("zh", lambda c: print_findings(c, [finding]))
    assert "智能监管 2025：待处理的主要疑点" in zh and "分解住院" in zh and "1,234.50 %" in zh
    en = printed("en", lambda c: print_findings(c, [finding]))
    assert "智能监管 2025: top open findings" in en and "Split admission" in en and "high" in en
