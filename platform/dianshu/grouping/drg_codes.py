"""What a grouper's DRG code says besides the group: 0000 is an ungroupable case, a code ending in QY
(xQY, one per MDC) an ambiguous group. One home for the test: settlement pays both by item, review
takes both as grounds, readmission and the simulation's group check leave both aside."""

from __future__ import annotations

UNGROUPABLE = "0000"


def is_ungroupable(drg: str) -> bool:
    return drg == UNGROUPABLE


def is_ambiguous(drg: str) -> bool:
    """An ambiguous group (xQY)."""
    return drg.endswith("QY")


def ungroupable_or_ambiguous(drg: str) -> bool:
    """No DRG of the standard: ungroupable (0000) or an ambiguous group (xQY)."""
    return is_ungroupable(drg) or is_ambiguous(drg)


def no_group_sql(column: str) -> str:
    """The same test as a SQL condition on a DRG code column (set-wise queries): ungroupable or ambiguous."""
    return f"({column} = '{UNGROUPABLE}' or {column} like '%QY')"


def ambiguous_sql(column: str) -> str:
    """is_ambiguous as a SQL condition on a DRG code column."""
    return f"({column} like '%QY')"
