"""The current, active case: one rule, one home. A settlement list id has versions (a correction
supersedes the accepted one, which stays in history) and its current version may be recalled; what
counts for grouping, points, budgets, reviews and calibration is the current version that is still
active. Every query that means it writes current_cases()."""

from __future__ import annotations


def current_cases(alias: str | None = None) -> str:
    """The rule as a SQL condition on case_record, its columns qualified by `alias` when given
    ("c" -> "c.is_current and c.status = 'active'")."""
    p = f"{alias}." if alias else ""
    return f"{p}is_current and {p}status = 'active'"
