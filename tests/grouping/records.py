"""Building grouper inputs by hand, and what a grouping comes to, for the hand-derived tests."""

from __future__ import annotations

from dianshu.grouping.engine import Grouper
from dianshu.grouping.records import GroupInput


def rec(**kw) -> GroupInput:
    """A record with the given fields: a 45-year-old man unless said otherwise."""
    kw.setdefault("id", "r")
    kw.setdefault("sex", 1)
    kw.setdefault("age_years", 45)
    kw["diagnoses"] = tuple(kw.get("diagnoses", ()))
    kw["procedures"] = tuple(kw.get("procedures", ()))
    return GroupInput(**kw)


def got(g: Grouper, r: GroupInput) -> tuple:
    """(MDC, ADRG, DRG, status) of a record."""
    res = g.group(r)
    return res.mdc, res.adrg, res.drg, res.status
