"""A grouping comparison as a table (GET /grouping/{tenant}/comparisons/{job}.csv or .xlsx): per
hospital, how many cases moved from a group under one scheme to a group under the other, at the
DRG or ADRG level (headers from the message catalogue; CSV and XLSX by dianshu.tabular.write)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from dianshu.reports.labels import column, text
from dianshu.tabular.write import Kind, Lang, Table

LEVELS = ("drg", "adrg")


def comparison_table(job_id: uuid.UUID, level: str, rows: Sequence[Any]) -> Table:
    """`rows`: GroupingComparison rows (hospital_id, from_code, to_code, cases) of one level."""
    if level not in LEVELS:
        raise ValueError(f"level: one of {', '.join(LEVELS)} (got {level!r})")
    name = level.upper()
    return Table(
        f"comparison-{job_id}-{level}",
        text("comparison.title", Lang.zh, level=name),
        text("comparison.title", Lang.en, level=name),
        (
            column("hospital_id", msgid="col.hospital"),
            column("from_code", msgid=f"col.from_{level}"),
            column("to_code", msgid=f"col.to_{level}"),
            column("cases", Kind.count),
        ),
        rows,
    )
