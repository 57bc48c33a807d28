import json
import subprocess
import sys
from pathlib import Path

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
        [DIANSHU, "group", "--standard", "chs_drg_11", "--input", str(src), "--output", str(out), "--trace"],
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
        [DIANSHU, "group", "--standard", "nope", "--input", str(src)], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "unknown standard" in bad.stderr
