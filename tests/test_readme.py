"""The README stays true: its ingestion layout table is the code's, and it names the two commands."""

from pathlib import Path

from dianshu.cases.layout import COLUMNS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_layout_table_matches_the_code():
    for column, zh, required, meaning in COLUMNS:
        line = f"| `{column}` | {zh} | {'yes' if required else ''} | {meaning} |"
        assert line in README, f"README layout row missing or stale: {line}"


def test_readme_names_the_two_commands():
    assert "make demo" in README and "make test" in README
