import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DIANSHU = str(Path(sys.executable).parent / "dianshu")


def test_group_command_reports_bad_lines_and_goes_on(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "sex": 1, "age_years": 70, "diagnoses": ["C61.x00"], "procedures": ["60.5x02"]}),
                "{not json",
                json.dumps({"id": "b", "sex": 3, "diagnoses": ["J18.900"]}),
                "",
                json.dumps({"id": "c", "sex": 2, "age_years": 30, "diagnoses": ["J18.900", "I50.900"], "dept": "ICU"}),
            ]
        )
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    p = subprocess.run(
        # English stderr (the default is Chinese: tests/test_reasons.py checks both)
        [
            DIANSHU,
            "--lang",
            "en",
            "group",
            "--standard",
            "chs_drg_11",
            "--input",
            str(src),
            "--output",
            str(out),
            "--trace",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 1, p.stderr  # some lines were invalid
    assert "line 2: line: not valid JSON" in p.stderr
    assert "line 3: sex: must be 1 (male) or 2 (female) (got 3)" in p.stderr
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r.get("id") for r in rows] == ["a", None, "b", "c"]
    assert rows[0]["drg"] == "MA19" and rows[0]["status"] == "grouped" and rows[0]["trace"]
    assert rows[1] == {
        "line": 2,
        "id": None,
        "status": "invalid",
        "messages": [{"level": "error", "field": "line", "text": rows[1]["messages"][0]["text"]}],
    }
    assert rows[2]["status"] == "invalid" and rows[2]["line"] == 3
    assert rows[3]["drg"] == "ES31" and rows[3]["mcc"] == ["I50.900"]
    assert "4 records: 2 grouped, 0 ungroupable, 0 ambiguous, 2 invalid lines" in p.stderr


def test_group_command_zhejiang_and_unknown_standard(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "s", "sex": 1, "age_years": 60, "diagnoses": ["I63.900"], "dept": "ICU"}) + "\n")
    p = subprocess.run(
        [DIANSHU, "group", "--standard", "zhejiang_2022", "--input", str(src)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["drg"] == "BR29"
    bad = subprocess.run(
        [DIANSHU, "group", "--standard", "nope", "--input", str(src)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DIANSHU_LANG": "zh"},
    )
    assert bad.returncode == 2 and "未知的分组方案 'nope'" in bad.stderr  # the CLI's language: zh by default


def group(args, stdin=None, timeout=180):
    return subprocess.run(
        [DIANSHU, "--lang", "en", "group", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        text=isinstance(stdin, str),
    )


def lines_of(records):
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records)


def test_workers_keep_input_order_and_line_numbers_across_chunks(tmp_path):
    """25 lines in chunks of 3 over 2 workers: the output follows the input line for line, and the
    refused lines (in the 2nd, 4th and last chunk) carry their own line numbers."""
    rows = []
    for i in range(1, 26):
        if i == 5:
            rows.append('{"id": "bad-json"')  # line 5
        elif i == 11:
            rows.append({"id": "e11", "sex": 1, "diagnoses": "J18.900"})  # line 11: not a list
        elif i == 13:
            rows.append("")  # line 13: blank, skipped but counted
        elif i == 25:
            rows.append({"id": "e25", "diagnoses": ["J18.900"], "age": 3})  # line 25: unknown key
        else:
            rows.append({"id": f"r{i}", "sex": 2, "age_years": 30 + i, "diagnoses": ["J18.900"]})
    src = tmp_path / "in.jsonl"
    src.write_text(lines_of(rows))
    out = tmp_path / "out.jsonl"
    p = group(
        ["--standard", "chs_drg_11", "--input", str(src), "--output", str(out), "--workers", "2", "--chunk-lines", "3"]
    )
    assert p.returncode == 1, p.stderr
    got = [json.loads(x) for x in out.read_text().splitlines()]
    expected_ids = [f"r{i}" for i in range(1, 26) if i not in (5, 11, 13, 25)]
    assert [r["id"] for r in got if r["status"] != "invalid"] == expected_ids
    assert [(r["line"], r["id"]) for r in got if r["status"] == "invalid"] == [(5, None), (11, "e11"), (25, "e25")]
    # Position in the output: line 5 is the 5th output line, line 11 the 11th, line 25 the 24th (13 was blank).
    assert [i for i, r in enumerate(got, start=1) if r["status"] == "invalid"] == [5, 11, 24]
    assert all(r["drg"] == "ES35" for r in got if r["status"] != "invalid")  # J18.900 alone, adult: CHS ES35
    err = p.stderr.decode()
    assert "line 5: line: not valid JSON" in err
    assert "line 11: diagnoses: must be a list of codes (got 'J18.900')" in err
    assert "line 25: age: unknown field" in err
    assert "24 records: 21 grouped, 0 ungroupable, 0 ambiguous, 3 invalid lines" in err


def test_stdin_and_stdout_with_workers(tmp_path):
    rows = [{"id": f"s{i}", "sex": 1, "age_years": 60, "diagnoses": ["I63.900"], "dept": "ICU"} for i in range(40)]
    p = group(["--standard", "zhejiang_2022", "--input", "-", "--workers", "2", "--chunk-lines", "7"], lines_of(rows))
    assert p.returncode == 0, p.stderr
    got = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["id"] for r in got] == [f"s{i}" for i in range(40)]
    assert {r["drg"] for r in got} == {"BR29"}  # stroke in ICU: ZJ BR29
    # A last line without its line end is read too.
    p = group(["--standard", "zhejiang_2022", "--input", "-", "--output", "-"], lines_of(rows[:2]).rstrip("\n"))
    assert [json.loads(x)["id"] for x in p.stdout.splitlines()] == ["s0", "s1"]


def test_one_worker_and_two_give_the_same_bytes(tmp_path, zj):
    """The diverse set (every ADRG, codes as written) through one process and through two."""
    from dianshu.grouping.samples import diverse_records

    records = [
        {k: v for k, v in dataclasses.asdict(r).items() if v is not None and v != ()}
        for r in diverse_records(zj, 1500, seed=9)
    ]
    src = tmp_path / "in.jsonl"
    src.write_text(lines_of(records))
    outs = []
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}.jsonl"
        p = group(
            [
                "--standard",
                "zhejiang_2022",
                "--input",
                str(src),
                "--output",
                str(out),
                "--workers",
                workers,
                "--chunk-lines",
                "100",
            ]
        )
        assert p.returncode == 0, p.stderr
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]
    got = [json.loads(x) for x in outs[0].splitlines()]
    assert [r["id"] for r in got] == [r["id"] for r in records]
    # The same results as grouping in this process.
    from dianshu.grouping.records import parse_input

    assert got == [zj.group(parse_input(r)).to_dict() for r in records]


def test_trace_with_workers(tmp_path):
    rows = [
        {"id": str(i), "sex": 1, "age_years": 70, "diagnoses": ["C61.x00"], "procedures": ["60.5x02"]} for i in range(9)
    ]
    p = group(
        ["--standard", "chs_drg_11", "--input", "-", "--trace", "--workers", "2", "--chunk-lines", "2"], lines_of(rows)
    )
    assert p.returncode == 0, p.stderr
    got = [json.loads(x) for x in p.stdout.splitlines()]
    assert [r["drg"] for r in got] == ["MA19"] * 9 and all(r["trace"][-1].startswith("  -> MA19") for r in got)


def test_read_tables_are_kept_between_runs_and_never_stale(tmp_path, monkeypatch):
    import shutil

    from dianshu.grouping.engine import Grouper
    from dianshu.grouping.records import GroupInput
    from dianshu.standards import tables
    from dianshu.standards.tables import builtin_dir
    from dianshu_cli.group import scheme_inputs

    cache = tmp_path / "cache"
    monkeypatch.setenv("DIANSHU_CACHE_DIR", str(cache))
    folder = tmp_path / "zj_copy"
    shutil.copytree(builtin_dir("zhejiang_2022"), folder)
    stroke_icu = GroupInput("s", sex=1, age_years=60, diagnoses=("I63.900",), dept="ICU")

    first = scheme_inputs(folder)
    assert len(list(cache.glob("scheme-zj_copy-*.pickle"))) == 1
    real_load = tables.load_scheme
    monkeypatch.setattr(tables, "load_scheme", lambda *a, **k: pytest.fail("read again although nothing changed"))
    kept = scheme_inputs(folder)
    assert kept[0].content_hash == first[0].content_hash
    assert Grouper(*kept).group(stroke_icu).drg_name == "脑缺血性疾患，伴重症监护"  # drg_groups.csv:47
    # An edited table is read again (a new key), not taken from the kept copy.
    monkeypatch.setattr(tables, "load_scheme", real_load)
    names = folder / "drg_groups.csv"
    names.write_text(
        names.read_text(encoding="utf-8").replace("BR29,脑缺血性疾患，伴重症监护", "BR29,改过的名称"), encoding="utf-8"
    )
    edited = scheme_inputs(folder)
    assert Grouper(*edited).group(stroke_icu).drg_name == "改过的名称"
    assert len(list(cache.glob("scheme-zj_copy-*.pickle"))) == 2
    # A damaged copy is read again and replaced.
    for p in cache.glob("scheme-zj_copy-*.pickle"):
        p.write_bytes(b"not a pickle")
    assert Grouper(*scheme_inputs(folder)).group(stroke_icu).drg_name == "改过的名称"
    # An empty DIANSHU_CACHE_DIR keeps nothing.
    monkeypatch.setenv("DIANSHU_CACHE_DIR", "")
    shutil.rmtree(cache)
    scheme_inputs(folder)
    assert not cache.exists()


def test_a_key_given_twice_refuses_its_line():
    """orjson keeps the last of repeated keys; the line is refused instead (a value in a string
    that looks like a key, and spaced keys, are read right)."""
    stdin = lines_of(
        [
            '{"id":"4","diagnoses":["J18.900"],"id":"5"}',
            '{"id" : "6", "diagnoses" :["J18.900"], "id":"7"}',
            '{"id":"8","dept":"a\\":b","diagnoses":["J18.900"]}',
            '{"id" : "9", "diagnoses" : ["J18.900"]}',
        ]
    )
    p = group(["--standard", "zhejiang_2022", "--input", "-", "--workers", "1"], stdin=stdin)
    assert p.returncode == 1, p.stderr
    rows = [json.loads(x) for x in p.stdout.splitlines()]
    assert [(r.get("line"), r["status"]) for r in rows] == [
        (1, "invalid"),
        (2, "invalid"),
        (None, "grouped"),
        (None, "grouped"),
    ]
    assert rows[0]["messages"] == [{"level": "error", "field": "id", "text": "appears twice in the record"}]
    assert [r["id"] for r in rows[2:]] == ["8", "9"]
