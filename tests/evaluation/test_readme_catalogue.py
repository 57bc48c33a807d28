"""The README's catalogue table is catalogue.csv's, row for row, so the two cannot drift.

To rewrite the table after changing the catalogue file:
    .venv/bin/python -m tests.evaluation.test_readme_catalogue
"""

from __future__ import annotations

import csv
from pathlib import Path

from dianshu.evaluation.catalogue import DATA

README = Path(__file__).resolve().parents[2] / "README.md"
BEGIN = "<!-- evaluation catalogue: generated from catalogue.csv (tests/evaluation/test_readme_catalogue.py) -->"
END = "<!-- end of the evaluation catalogue -->"
HEADER = (
    "| code | 指标 (indicator) | dimension | direction | source | unit | weight | status | formula |",
    "|---|---|---|---|---|---|---:|---|---|",
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def table_lines() -> list[str]:
    """The table's lines, generated from catalogue.csv and dimensions.csv."""
    with (DATA / "dimensions.csv").open(encoding="utf-8-sig") as fh:
        dims = {r["code"]: r["name_zh"] for r in csv.DictReader(fh)}
    with (DATA / "catalogue.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh))
    lines = list(HEADER)
    for r in rows:
        cells = (
            r["code"],
            f"{r['name_zh']} ({r['name_en']})",
            f"{dims[r['dimension']]} ({r['dimension']})",
            r["direction"],
            r["source"],
            r["unit"],
            r["weight"],
            r["status"],
            f"{r['formula_zh']}; {r['formula_en']}",
        )
        lines.append("| " + " | ".join(_cell(c.strip()) for c in cells) + " |")
    return lines


def readme_table(text: str) -> list[str]:
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n").splitlines()


def test_the_readme_table_is_the_catalogue_file():
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text, "README has no generated evaluation catalogue table"
    lines = readme_table(text)
    assert lines == table_lines()
    assert len(lines) == 2 + 50


def rewrite() -> None:
    text = README.read_text(encoding="utf-8")
    before, rest = text.split(BEGIN, 1)
    after = rest.split(END, 1)[1]
    README.write_text(before + BEGIN + "\n" + "\n".join(table_lines()) + "\n" + END + after, encoding="utf-8")


if __name__ == "__main__":
    rewrite()
