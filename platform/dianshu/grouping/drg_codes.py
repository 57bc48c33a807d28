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


# A split ADRG's DRGs end in 1 (with MCC), 3 (with CC) or 5 (without); 9 (and 0) are not split.
WITH_MCC_SUFFIX = "1"
WITH_COMPLICATION_SUFFIXES = ("1", "3")
SPLIT_SUFFIXES = ("1", "3", "5")


def no_group_sql(column: str) -> str:
    """The same test as ungroupable_or_ambiguous, as a SQL condition on a DRG column."""
    return f"({column} = '{UNGROUPABLE}' or {column} like '%QY')"


def with_complication_sql(column: str) -> str:
    """A DRG of a split ADRG grouped with MCC or CC (its code ends in 1 or 3), as SQL."""
    return f"right({column}, 1) in ({', '.join(repr(s) for s in WITH_COMPLICATION_SUFFIXES)})"


def split_adrg_sql(column: str) -> str:
    """A DRG of a split ADRG (its code ends in 1, 3 or 5), as SQL."""
    return f"right({column}, 1) in ({', '.join(repr(s) for s in SPLIT_SUFFIXES)})"


def with_mcc_sql(column: str) -> str:
    """A DRG of a split ADRG grouped with MCC (its code ends in 1), as SQL."""
    return f"right({column}, 1) = '{WITH_MCC_SUFFIX}'"


def ambiguous_sql(column: str) -> str:
    """is_ambiguous as a SQL condition on a DRG code column."""
    return f"({column} like '%QY')"
