"""The special-review workflow end to end, its quota and blindness, and the decision flowing into
the annual clearing (hand-computed on the year of tests/settlement/world.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from dianshu.db.session import scoped_session
from dianshu.reviews import service as reviews
from dianshu.reviews.models import ReviewAssignment, ReviewEvent, SpecialReview
from dianshu.reviews.workflow import ReviewRefused, grounds, quota
from dianshu.scope import Role, Scope
from dianshu.settlement.runs import policies
from tests.conftest import scope_for
from tests.settlement.test_runs import lines
from tests.settlement.world import budgeted_year, settle
from tests.test_standards_db import builtin_versions  # noqa: F401


def test_grounds_and_quota():
    assert grounds(
        drg="ES23", case_type="high_outlier", los_days=5, drg_cases_in_year=100, has_new_technology=False
    ) == ["high outlier"]
    assert grounds(drg="0000", case_type="itemized", los_days=61, drg_cases_in_year=0, has_new_technology=True) == [
        "ungroupable",
        "stay over 60 days (61)",
        "new technology",
    ]
    assert grounds(drg="ES23", case_type="normal", los_days=5, drg_cases_in_year=4, has_new_technology=False) == [
        "DRG with fewer than 5 cases (4)"
    ]
    assert grounds(drg="ES23", case_type="normal", los_days=60, drg_cases_in_year=5, has_new_technology=False) == []
    # 5% of 59 discharges = 2.95 → 2 applications; of 60 → 3.
    assert (quota(59, D("0.05")), quota(60, D("0.05")), quota(19, D("0.05"))) == (2, 3, 0)


def expert(city, n):
    return Scope(Role.expert, (city.a,), None, f"expert-{n}")


@pytest.fixture
async def world(db, city, dispatcher, builtin_versions):  # noqa: F811
    # a2 has one discharge: a quota of 1 needs a ratio of 1 (the default 5% allows none).
    region = await budgeted_year(
        db, city, builtin_versions["zhejiang_2022"], {"review_quota_ratio": "1"}, "small test year"
    )
    async with scoped_session(db, region) as s:
        for n in range(1, 6):
            await reviews.add_expert(s, region, city.a, f"expert-{n}", f"Expert {n}")
    return region


async def test_review_from_application_to_final_decision_and_into_points(db, city, world):
    region = world
    hosp = scope_for(Role.hospital_user, (city.a,), city.a2)
    # A-4 is a high outlier (ES23 has 100 cases in the standard: not a small group). a2 applies for it.
    async with scoped_session(db, hosp) as s:
        r = await reviews.submit(s, hosp, city.a, city.a2, "A-4", "ECMO for 3 days: cost far above the group")
        again = await reviews.submit(s, hosp, city.a, city.a2, "A-4", "retried")
    assert again.id == r.id and r.state == "submitted"
    assert r.grounds == ["high outlier"]
    assert r.case_summary["points"] == "300.0000" and "hospital" not in r.case_summary
    # A hospital cannot precheck its own application.
    with pytest.raises(ReviewRefused, match="a hospital_user cannot precheck"):
        async with scoped_session(db, hosp) as s:
            await reviews.precheck(s, hosp, city.a, r.id, True, "mine")
    async with scoped_session(db, region) as s:
        await reviews.precheck(s, region, city.a, r.id, True, "documents complete")
        r = await reviews.assign(s, region, city.a, r.id, "first round")
    assert (r.state, r.round) == ("in_review", 1)
    async with scoped_session(db, Scope.system((city.a,))) as s:
        chosen = sorted(
            (await s.execute(select(ReviewAssignment.expert).where(ReviewAssignment.review_id == r.id))).scalars()
        )
    assert len(chosen) == 3 and set(chosen) <= {f"expert-{n}" for n in range(1, 6)}
    # The region cannot decide before every expert has given an opinion.
    with pytest.raises(ReviewRefused, match="3 of 3 experts have not given an opinion"):
        async with scoped_session(db, region) as s:
            await reviews.decide(s, region, city.a, r.id, "add_points", "350", "too early")
    # Blind: each expert sees the review and only its own assignment; an unassigned expert sees nothing.
    outsider = next(f"expert-{n}" for n in range(1, 6) if f"expert-{n}" not in chosen)
    async with scoped_session(db, Scope(Role.expert, (city.a,), None, outsider)) as s:
        assert (await s.execute(select(SpecialReview))).first() is None
    for i, e in enumerate(chosen):
        sc = Scope(Role.expert, (city.a,), None, e)
        async with scoped_session(db, sc) as s:
            seen = (await s.execute(select(ReviewAssignment))).scalars().all()
            assert [a.expert for a in seen] == [e]
            assert (await s.execute(select(SpecialReview.id))).scalar_one() == r.id
            await reviews.give_opinion(s, sc, city.a, r.id, "add_points", str(340 + 10 * i), f"opinion {i}")
    # The hospital never sees who reviewed.
    async with scoped_session(db, hosp) as s:
        assert (await s.execute(select(ReviewAssignment))).first() is None
    async with scoped_session(db, region) as s:
        r = await reviews.decide(
            s, region, city.a, r.id, "add_points", "350", "the experts' median", on=datetime.date(2026, 1, 15)
        )
    assert (r.state, r.outcome, r.decided_points, r.decided_month) == (
        "decided",
        "add_points",
        D("350.0000"),
        datetime.date(2026, 1, 1),
    )

    # The decision flows into the clearing. P = a1 300 + a2 350 = 650; S 8,000; F 56,850 (as in
    # test_runs): PV = 64,850 / 650 = 99.769230769…
    # D_a1 = 300 × PV − 6,000 = 23,930.769230… ; D_a2 = 350 × PV − 2,000 = 32,919.230769…
    # Floors 23,930.76 + 32,919.23 = 56,849.99: the missing fen goes to a1 (remainder .0092 > .0008).
    run = (await settle(db, region, city.a, "annual"))["runs"][0]
    assert (run["P"], run["PV"]) == ("650.0000", "99.769231")
    got = await lines(db, city.a, run["id"])
    assert (got[city.a1].due, got[city.a2].due) == (D("23930.77"), D("32919.23"))

    # Appeal once: a new round with experts not drawn before (5 in the pool, 3 used: 2 fresh + 1 again).
    async with scoped_session(db, hosp) as s:
        r = await reviews.appeal(s, hosp, city.a, r.id, "the ECMO days were not counted")
    assert (r.state, r.appealed) == ("appealed", True)
    async with scoped_session(db, region) as s:
        r = await reviews.assign(s, region, city.a, r.id, "appeal round")
    # While the appeal is reviewed, the first decision stays in force (350 points, P = 650).
    assert (await settle(db, region, city.a, "annual"))["runs"][0]["P"] == "650.0000"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        second = sorted(
            (
                await s.execute(
                    select(ReviewAssignment.expert).where(
                        ReviewAssignment.review_id == r.id, ReviewAssignment.round == 2
                    )
                )
            ).scalars()
        )
    assert len(second) == 3 and len(set(second) - set(chosen)) == 2
    for e in second:
        sc = Scope(Role.expert, (city.a,), None, e)
        async with scoped_session(db, sc) as s:
            await reviews.give_opinion(s, sc, city.a, r.id, "pay_by_item", None, "itemize")
    async with scoped_session(db, region) as s:
        r = await reviews.decide(
            s, region, city.a, r.id, "pay_by_item", None, "appeal upheld", on=datetime.date(2026, 2, 3)
        )
    assert r.state == "final"
    with pytest.raises(ReviewRefused, match="cannot appeal a review that is final"):
        async with scoped_session(db, hosp) as s:
            await reviews.appeal(s, hosp, city.a, r.id, "again")
    # Pay by item: 40,000 / 8,000 × 100 × 1.0 = 500 points for A-4.
    run = (await settle(db, region, city.a, "annual"))["runs"][0]
    assert run["P"] == "800.0000"
    # The trail: every step with who and why, visible to the hospital and the region.
    async with scoped_session(db, hosp) as s:
        trail = (
            (await s.execute(select(ReviewEvent).where(ReviewEvent.review_id == r.id).order_by(ReviewEvent.seq)))
            .scalars()
            .all()
        )
    assert [(e.action, e.to_state) for e in trail] == [
        ("submit", "submitted"),
        ("precheck", "prechecked"),
        ("assign", "in_review"),
        ("decide", "decided"),
        ("appeal", "appealed"),
        ("assign", "in_review"),
        ("decide", "final"),
    ]
    assert trail[0].actor == hosp.actor and trail[1].reason == "documents complete"
    # Each expert's step is its assignment: who, when and why, for the region to read.
    async with scoped_session(db, region) as s:
        opinions = (await s.execute(select(ReviewAssignment).where(ReviewAssignment.review_id == r.id))).scalars().all()
    assert len(opinions) == 6 and all(a.opinion and a.decided_at and a.comment for a in opinions)


async def test_ineligible_cases_and_other_regions_are_refused(db, city, world):
    region = world
    hosp = scope_for(Role.hospital_user, (city.a,), city.a1)
    # The quota at the default 5%: a2's one discharge allows no application.
    async with scoped_session(db, region) as s:
        await policies.set_region_policy(
            s, region, city.city, city.a, 2025, "employee", {"review_quota_ratio": "0.05"}, "back to 5%"
        )
    a2 = scope_for(Role.hospital_user, (city.a,), city.a2)
    with pytest.raises(ReviewRefused, match=r"quota: the hospital has used 0 of 0 applications for 2025 \(0.05 of 1"):
        async with scoped_session(db, a2) as s:
            await reviews.submit(s, a2, city.a, city.a2, "A-4", "ECMO")
    with pytest.raises(ReviewRefused, match=r"not eligible: normal case of DRG ES23 \(100 cases in the standard\)"):
        async with scoped_session(db, hosp) as s:
            await reviews.submit(s, hosp, city.a, city.a1, "A-1", "please")
    other = scope_for(Role.hospital_user, (city.b,), city.b1)
    with pytest.raises(ReviewRefused, match="no current, active case"):
        async with scoped_session(db, other) as s:
            await reviews.submit(s, other, city.a, city.a1, "A-1", "not mine")
