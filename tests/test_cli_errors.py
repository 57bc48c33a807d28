"""The CLI's answers to bad input (issue 14, item 7): one line on stderr and exit code 2, never a
traceback; `--version`; `-h` as well as `--help` on every command. No database: each of these is
refused before the CLI reads its configuration. The processes run side by side (about a second
each to start)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import typer.main

from dianshu_cli.main import app

DIANSHU = str(Path(sys.executable).parent / "dianshu")
ENGLISH = {**os.environ, "DIANSHU_LANG": "en"}


def run_all(*invocations: list[str], env: dict[str, str] = ENGLISH) -> list[subprocess.CompletedProcess]:
    procs = [
        # In English: the fragments below are the English wording (the zh lines: tests/test_reasons.py).
        subprocess.Popen([DIANSHU, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for args in invocations
    ]
    done = []
    for args, p in zip(invocations, procs, strict=True):
        out, err = p.communicate(timeout=120)
        done.append(subprocess.CompletedProcess(args, p.returncode, out, err))
    return done


def test_bad_input_is_one_line_and_exit_code_2(tmp_path):
    records = tmp_path / "records.jsonl"
    records.write_text('{"id": "1"}\n')
    scenario = tmp_path / "scenario.json"
    scenario.write_text('{"standard": {\n  "avg_cost_all": 1,,\n')  # malformed: line 2
    cases = [
        # missing file
        (["ingest", "--tenant", "330702", "--file", str(tmp_path / "missing.csv")], "does not exist"),
        (["simulate", "--input", str(tmp_path / "missing.json")], "missing.json: cannot read"),
        # wrong standard
        (["group", "--standard", "chs_drg_99", "--input", str(records)], "unknown standard 'chs_drg_99'"),
        # malformed line
        (["simulate", "--input", str(scenario)], "line 2"),
        (["standards", "editions", "--dir", str(tmp_path)], "mdc_rules.csv:0: file is missing"),  # long: not wrapped
        # bad option values, unknown options and commands, a missing argument
        (["serve", "--workers", "0"], "'--workers'"),
        (["settlement", "run", "--kind", "weekly", "--year", "2025"], "monthly or annual"),
        (["ingest", "--encoding", "big5", "--tenant", "330702", "--file", str(records)], "'big5' is not accepted"),
        (["ingest", "--dir", str(tmp_path)], "has no manifest.json"),
        (["token", "--role", "nobody", "--tenant", "330702"], "'nobody' is not one of"),
        (["settlement", "lst"], "No such command 'lst'"),
        (["standards", "publish"], "Missing argument"),
    ]
    for (args, said), p in zip(cases, run_all(*(a for a, _ in cases)), strict=True):
        lines = p.stderr.splitlines()
        assert (p.returncode, len(lines)) == (2, 1), (args, p.returncode, p.stderr)
        assert said in lines[0] and "Traceback" not in p.stderr + p.stdout, (args, p.stderr)


CHINESE = {**os.environ, "DIANSHU_LANG": "zh"}


def test_bad_input_is_one_line_wholly_in_chinese(tmp_path):
    """In Chinese (the default) each of those lines is Chinese whole: Click's own wording, a
    refused value inside it, a malformed or missing scenario, a scheme folder's missing tables."""
    records = tmp_path / "records.jsonl"
    records.write_text('{"id": "1"}\n')
    scenario = tmp_path / "scenario.json"
    scenario.write_text('{"standard": {\n  "avg_cost_all": 1,,\n')
    cases = [
        (["ingest", "--encoding", "big5", "--tenant", "330702", "--file", str(records)],
         "dianshu ingest: --encoding 的值无效：不接受 'big5'：请给出 utf-8 或 gb18030（gbk、gb2312 按 gb18030 读取），"
         "或不填以自动识别（-h 查看帮助）"),
        (["serve", "--workers", "0"],
         "dianshu serve: '--workers'（环境变量 'DIANSHU_SERVE_WORKERS'）的值无效：应大于或等于 1（-h 查看帮助）"),
        (["simulate", "--input", str(tmp_path / "missing.json")],
         f"{tmp_path / 'missing.json'}: 无法读取：文件或目录不存在"),
        (["simulate", "--input", str(scenario)],
         f"{scenario}: 不是有效的 JSON：属性名应以双引号括起（第 2 行第 21 列，第 35 个字符）"),
        (["simulate"], "输入(--input): 必填（或给出 --schema）"),
        (["standards", "editions", "--dir", str(tmp_path)],
         "mdc_rules.csv:0: 文件缺失；mdc_pdx_table.csv:0: 文件缺失；"),
        (["ingest", "--dir", str(tmp_path)],
         f"dianshu ingest: --dir 的值无效：{tmp_path} 中没有 manifest.json"
         "（由 'dianshu generate' 生成）（-h 查看帮助）"),
        (["settlement", "lst"], "没有命令 'lst'。"),
    ]  # fmt: skip
    for (args, said), p in zip(cases, run_all(*(a for a, _ in cases), env=CHINESE), strict=True):
        lines = p.stderr.splitlines()
        assert (p.returncode, len(lines)) == (2, 1), (args, p.returncode, p.stderr)
        assert said in lines[0], (args, p.stderr)
        shown = re.sub(r"^dianshu( [a-z]+)?: |manifest\.json|dianshu generate", "", lines[0].replace(str(tmp_path), ""))
        assert not re.search(r"\b[A-Za-z]{3,} [a-z]{3,}\b", shown), (args, p.stderr)


def test_version_and_short_help_on_every_command():
    version, *helps = run_all(["--version"], ["-h"], ["ingest", "-h"], ["settlement", "list", "-h"])
    assert version.returncode == 0 and version.stdout.strip() == "dianshu 0.1.0"
    assert all(h.returncode == 0 and "Usage: dianshu" in h.stdout for h in helps), [h.stderr for h in helps]
    assert "--encoding" in helps[1].stdout and "--refused-dir" in helps[1].stdout
    # -h is a help option of every command and group, in process (a subprocess each would be slow).
    root = typer.main.get_command(app)

    def walk(cmd, path, parent=None):
        ctx = cmd.make_context(path[-1] if path else "dianshu", [], parent=parent, resilient_parsing=True)
        yield path, ctx
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, [*path, name], ctx)

    walked = list(walk(root, []))
    assert len(walked) > 30 and ["settlement", "list"] in [p for p, _ in walked]  # the whole tree
    for path, ctx in walked:
        assert ctx.help_option_names == ["-h", "--help"], path


def test_a_setting_of_the_wrong_type_is_one_line_naming_it():
    """A mistyped environment variable (not a pydantic dump with a URL): each setting by its name
    and why, in the CLI's language, exit code 2."""
    bad = {"DIANSHU_ANALYTICS_RESPONSE_CACHE_ENTRIES": "abc", "DIANSHU_PROFILE": "staging"}
    zh, en = run_all(["settlement", "list"], env=CHINESE | bad) + run_all(["settlement", "list"], env=ENGLISH | bad)
    assert (zh.returncode, en.returncode) == (2, 2), (zh.stderr, en.stderr)
    assert zh.stderr.splitlines() == [
        'dianshu: DIANSHU_PROFILE: 应为 dev 或 prod 之一（实际为 "staging"）；'
        'DIANSHU_ANALYTICS_RESPONSE_CACHE_ENTRIES: 应为整数（实际为 "abc"）'
    ], zh.stderr
    assert en.stderr.splitlines() == [
        'dianshu: DIANSHU_PROFILE: must be one of dev or prod (got "staging"); '
        'DIANSHU_ANALYTICS_RESPONSE_CACHE_ENTRIES: must be a whole number (got "abc")'
    ], en.stderr
