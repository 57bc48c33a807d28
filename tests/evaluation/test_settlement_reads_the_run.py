"""The annual clearing reads the published evaluation run: its totals release the holdback, its
band's points coefficient multiplies the points before the point value, and a region's override
(with its reason) beats it. On the hand-settled year of tests/settlement/world.py:

Region A 2025, employee: a1 300 points (S 6,000), a2 300 points (S 2,000); T 60,000, R 3,000,
B 57,000, E 56,000 ≤ B: F = 56,000 + 0.85 × 1,000 = 56,850.00; nothing prepaid (no monthly run).
The evaluation (tests/evaluation/test_runs.py's inputs, region peers): a1 100, a2 60."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

import pytest

from dianshu.db.session import scoped_session
from dianshu.evaluation.runs import RUN, publish_run
from dianshu.settlement.runs import regional
from dianshu.settlement.runs.regional import RegionalRefused
from tests.evaluation.test_runs import evaluation_inputs  # noqa: F401
from tests.settlement.test_runs import lines
from tests.settlement.world import budgeted_year, run_job, settle
from tests.test_standards_db import builtin_versions  # noqa: F401


async def evaluate_and_publish(db, region, city):
    result = await run_job(db, region, city.a, RUN, {"year": 2025})
    async with scoped_session(db, region) as s:
        await publish_run(s, region, city.a, uuid.UUID(result["runs"][0]["id"]))
    return result["runs"][0]["id"]


async def run_inputs(db, region, run_id):
    from sqlalchemy import select

    from dianshu.settlement.models import SettlementRun

    async with scoped_session(db, region) as s:
        return (await s.execute(select(SettlementRun.inputs).where(SettlementRun.id == uuid.UUID(run_id)))).scalar_one()


async def test_the_published_run_releases_the_holdback_and_an_override_beats_it(
    db,
    city,
    dispatcher,
    builtin_versions,  # noqa: F811
    evaluation_inputs,  # noqa: F811
):
    region = await budgeted_year(db, city, builtin_versions["zhejiang_2022"], {"reserve_ratio": "0.05"}, "year")
    evaluation_run = await evaluate_and_publish(db, region, city)
    # No coefficient bands: P = 600, PV = (56,850 + 8,000) / 600 = 108.083333…;
    # D_a1 = 300 × PV − 6,000 = 26,425.00, D_a2 = 300 × PV − 2,000 = 30,425.00.
    # a1 scored 100: balance 26,425.00, nothing withheld.
    # a2 scored 60: 30,425 × (0.95 + 0.05 × 0.60) = 30,425 × 0.98 = 29,816.50; withheld 608.50.
    run = (await settle(db, region, city.a, "annual"))["runs"][0]
    assert (run["P"], run["PV"], run["balance"], run["withheld"]) == ("600.0000", "108.083333", "56241.50", "608.50")
    got = await lines(db, city.a, run["id"])
    assert (got[city.a1].score, got[city.a1].balance, got[city.a1].withheld) == (D("100.00"), D("26425.00"), D(0))
    assert (got[city.a2].score, got[city.a2].balance, got[city.a2].withheld) == (
        D("60.00"),
        D("29816.50"),
        D("608.50"),
    )
    assert got[city.a2].evaluation_coefficient is None  # no bands in the policy
    inputs = await run_inputs(db, region, run["id"])
    assert inputs["evaluation_run"] == evaluation_run
    assert inputs["score_sources"] == {city.a1: "evaluation_run", city.a2: "evaluation_run"}
    assert inputs["evaluation_coefficients"] == {}

    # The region overrides a2's score with a reason: 90 beats the run's 60.
    # a2: 30,425 × (0.95 + 0.05 × 0.90) = 30,272.875 → 30,272.88; withheld 152.12.
    with pytest.raises(RegionalRefused, match="reason"):
        async with scoped_session(db, region) as s:
            await regional.override_evaluation_score(s, region, city.a, city.a2, 2025, "90", "  ")
    async with scoped_session(db, region) as s:
        row = await regional.override_evaluation_score(s, region, city.a, city.a2, 2025, "90", "appeal upheld")
        assert (row.source, row.reason) == ("override", "appeal upheld")
    run = (await settle(db, region, city.a, "annual"))["runs"][0]
    got = await lines(db, city.a, run["id"])
    assert (got[city.a2].score, got[city.a2].balance, got[city.a2].withheld) == (
        D("90.00"),
        D("30272.88"),
        D("152.12"),
    )
    assert got[city.a1].balance == D("26425.00")  # still the run's 100
    inputs = await run_inputs(db, region, run["id"])
    assert inputs["score_sources"] == {city.a1: "evaluation_run", city.a2: "override"}


async def test_the_points_coefficient_changes_p_and_pv(
    db,
    city,
    dispatcher,
    builtin_versions,  # noqa: F811
    evaluation_inputs,  # noqa: F811
):
    bands = {"evaluation_coefficient_floors": ["0", "80"], "evaluation_coefficients": ["0.9", "1.05"]}
    region = await budgeted_year(db, city, builtin_versions["zhejiang_2022"], bands, "bands")
    await evaluate_and_publish(db, region, city)
    # a1 100 ≥ 80 → 1.05: P_a1 = 300 × 1.05 = 315; a2 60 < 80 → 0.9: P_a2 = 270. P = 585.
    # PV = (56,850 + 8,000) / 585 = 110.854700854…
    # D_a1 = 315 × 64,850 / 585 − 6,000 = 34,919.230769… − 6,000 = 28,919.230769…
    # D_a2 = 270 × 64,850 / 585 − 2,000 = 29,930.769230… − 2,000 = 27,930.769230…
    # To the fen by largest remainder (Σ = F = 56,850.00): floors 28,919.23 + 27,930.76 = 56,849.99;
    # the missing fen goes to a2 (remainder 0.0092 > a1's 0.0008): 28,919.23 and 27,930.77.
    # Balances: a1 (100) 28,919.23; a2 (60): 27,930.77 × 0.98 = 27,372.1546 → 27,372.15, withheld 558.62.
    run = (await settle(db, region, city.a, "annual"))["runs"][0]
    assert (run["P"], run["PV"], run["F"]) == ("585.0000", "110.854701", "56850.00")
    got = await lines(db, city.a, run["id"])
    assert (got[city.a1].points, got[city.a1].evaluation_coefficient, got[city.a1].due) == (
        D("315.0000"),
        D("1.05"),
        D("28919.23"),
    )
    assert (got[city.a2].points, got[city.a2].evaluation_coefficient, got[city.a2].due) == (
        D("270.0000"),
        D("0.9"),
        D("27930.77"),
    )
    assert (got[city.a2].balance, got[city.a2].withheld) == (D("27372.15"), D("558.62"))
    inputs = await run_inputs(db, region, run["id"])
    assert inputs["evaluation_coefficients"] == {city.a1: "1.05", city.a2: "0.9"}
