"""The special-review workflow as plain rules (SPEC section 7): which step may follow which, who
takes it, which cases are eligible and how many a hospital may apply for."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from dianshu.errors import RefusalKind, Refused
from dianshu.grouping.drg_codes import ungroupable_or_ambiguous

# action -> (states it may start from, the state it leads to, the roles that take it)
TRANSITIONS: dict[str, tuple[tuple[str, ...], str, frozenset[str]]] = {
    "precheck": (("submitted",), "prechecked", frozenset({"region_admin"})),
    "reject": (("submitted",), "rejected", frozenset({"region_admin"})),
    "assign": (("prechecked", "appealed"), "in_review", frozenset({"region_admin"})),
    "decide": (("in_review",), "decided", frozenset({"region_admin"})),  # "final" after an appeal
    "appeal": (("decided",), "appealed", frozenset({"hospital_user", "integrator"})),
    "accept": (("decided",), "final", frozenset({"hospital_user", "integrator"})),
}


# A refusal of the review's own id is "not there (or not yours)"; of its state, opinions or an
# opinion, what the review's state forbids now; of anything else, the input.
_KIND_OF_FIELD: dict[str, RefusalKind] = {"id": "not_found", "state": "state", "opinion": "state", "opinions": "state"}


class ReviewRefused(Refused):
    """A review step refused (message: "record.field: reason")."""

    def __init__(self, record: str, field: str, reason: str) -> None:
        super().__init__(
            record, field, reason, message=f"{record}.{field}: {reason}", kind=_KIND_OF_FIELD.get(field, "invalid")
        )


def next_state(action: str, state: str, role: str, record: str, *, appealed: bool = False) -> str:
    starts, to, roles = TRANSITIONS[action]
    if role not in roles:
        raise ReviewRefused(record, "role", f"a {role} cannot {action} a review")
    if state not in starts:
        raise ReviewRefused(record, "state", f"cannot {action} a review that is {state} (only {', '.join(starts)})")
    if action == "appeal" and appealed:
        raise ReviewRefused(record, "state", "a review can be appealed once")
    if action == "decide" and appealed:
        return "final"
    return to


def grounds(
    *,
    drg: str,
    case_type: str,
    los_days: int,
    drg_cases_in_year: int,
    has_new_technology: bool,
    small_group_cases: int = 5,
    long_stay_days: int = 60,
) -> list[str]:
    """Why a case may be reviewed; empty when it may not."""
    out = []
    if case_type == "high_outlier":
        out.append("high outlier")
    if ungroupable_or_ambiguous(drg):
        out.append("ungroupable")
    elif drg_cases_in_year < small_group_cases:
        out.append(f"DRG with fewer than {small_group_cases} cases ({drg_cases_in_year})")
    if los_days > long_stay_days:
        out.append(f"stay over {long_stay_days} days ({los_days})")
    if has_new_technology:
        out.append("new technology")
    return out


def quota(discharges: int, ratio: Decimal) -> int:
    """At most `ratio` of a hospital's DRG discharges of the year (rounded down)."""
    return int((Decimal(discharges) * ratio).to_integral_value(ROUND_FLOOR))
