"""The one home of the hospital-code rule (定点医药机构编号): a code has its city's shape (setting
`hospital_code_pattern`, overridden per city or region by `hospital_code_patterns`) and its division
digits are its region's code. Every place a
hospital code enters (rosters, tokens, service accounts) asks here, so a code can never be a
wildcard, a list or another region's hospital. Pure: plain values in, a reason (or None) out."""

from __future__ import annotations

import re
from functools import lru_cache

DIVISION_GROUP = "division"


@lru_cache(maxsize=8)
def compile_hospital_pattern(pattern: str) -> re.Pattern[str]:
    """The compiled pattern; ValueError when it cannot work (bad regex, or no `division` group)."""
    try:
        compiled = re.compile(pattern)
    except re.error as e:
        raise ValueError(f"hospital_code_pattern={pattern!r}: not a regular expression ({e})") from e
    if DIVISION_GROUP not in compiled.groupindex:
        raise ValueError(
            f"hospital_code_pattern={pattern!r}: needs a named group (?P<division>...) holding the region's code"
        )
    return compiled


def city_of(division: str) -> str:
    """The prefecture-level division of a county-level one (GB/T 2260: its first four digits, then 00)."""
    return division[:4] + "00" if len(division) == 6 and division.isdigit() else division


def pattern_for(tenant_id: str, default: str, overrides: dict[str, str]) -> str:
    """The hospital-code shape of a region: its own override, else its city's, else the default."""
    return overrides.get(tenant_id) or overrides.get(city_of(tenant_id)) or default


def hospital_code_problem(code: str, tenant_id: str, pattern: str) -> str | None:
    """Why `code` cannot be a hospital of region `tenant_id`, or None when it can."""
    # fullmatch: a trailing newline or a second code after the first never slips through `$`.
    m = compile_hospital_pattern(pattern).fullmatch(code)
    if m is None:
        return f"{code!r} does not have the hospital code shape {pattern}"
    if m.group(DIVISION_GROUP) != tenant_id:
        return f"{code!r} is a code of division {m.group(DIVISION_GROUP)}, not of region {tenant_id}"
    return None


def plain_code(code: str) -> bool:
    """A code the database scope can hold: letters and digits only (no wildcard, no list)."""
    return bool(code) and code.isascii() and code.isalnum()
