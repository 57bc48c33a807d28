"""The evaluation job end to end on the real inputs: the built-in catalogue in force, the computed
indicators (evaluation/indicators) of the settlement test year and values the bureau enters
(evaluation/entries). The computed indicators have their own hand-worked tests; here the entered
ones are checked by hand, through the whole run.

Region A 2025 (tests/settlement/world.py): a1 3 cases, a2 1 case, both level 2. Entered:
  E01 satisfaction (higher, weight 50): a1 90, a2 80 → P25 82.5, P75 87.5: a1 100, a2 60.
  E02 complaints per 1000 (lower, 25), entered as counts: a1 1 → 1 × 1000 / 3 = 333.3333,
      a2 0 → 0: P25 0 + 0.25 × 333.3333 = 83.3333, P75 250.0000 (4 places): a2 100, a1 60.
  E04 follow-up satisfaction (25): nobody entered it → missing, 60 for both.
  Satisfaction: a1 (50 × 100 + 25 × 60 + 25 × 60) / 100 = 80; a2 (50 × 60 + 25 × 100 + 25 × 60) / 100 = 70."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

from sqlalchemy import select

from dianshu.db.session import scoped_session
from dianshu.evaluation.entries import enter_indicator
from dianshu.evaluation.run_models import EvaluationDimensionScore, EvaluationIndicatorScore, EvaluationRun
from dianshu.evaluation.runs import RUN
from tests.evaluation.world import builtin_catalogue_version  # noqa: F401
from tests.settlement.world import budgeted_year, run_job
from tests.test_standards_db import builtin_versions  # noqa: F401


async def test_a_run_on_the_real_catalogue_indicators_and_entries(
    db,
    city,
    dispatcher,
    builtin_versions,  # noqa: F811
    builtin_catalogue_version,  # noqa: F811
):
    region = await budgeted_year(db, city, builtin_versions["zhejiang_2022"], {"reserve_ratio": "0.05"}, "year")
    async with scoped_session(db, region) as s:
        for hospital, code, value in ((city.a1, "E01", "90"), (city.a2, "E01", "80"), (city.a1, "E02", "1")):
            await enter_indicator(s, region, city.a, hospital, 2025, code, value, "survey")
        await enter_indicator(s, region, city.a, city.a2, 2025, "E02", "0", "survey")
    result = await run_job(db, region, city.a, RUN, {"year": 2025})
    run_id = uuid.UUID(result["runs"][0]["id"])
    async with scoped_session(db, region) as s:
        run = (await s.execute(select(EvaluationRun).where(EvaluationRun.id == run_id))).scalar_one()
        assert run.catalogue_version_id == builtin_catalogue_version
        rows = (
            await s.execute(select(EvaluationIndicatorScore).where(EvaluationIndicatorScore.run_id == run_id))
        ).scalars()
        by = {(r.hospital_id, r.code): r for r in rows}
        dims = {
            (d.hospital_id, d.dimension): d.score
            for d in (
                await s.execute(select(EvaluationDimensionScore).where(EvaluationDimensionScore.run_id == run_id))
            ).scalars()
        }
    assert len(by) == 2 * 50  # every indicator of the catalogue, per hospital
    assert (by[(city.a1, "E01")].score, by[(city.a2, "E01")].score) == (D("100.00"), D("60.00"))
    e02 = by[(city.a1, "E02")]
    assert (e02.value, e02.numerator, e02.denominator, e02.score) == (D("333.3333"), 1, 3, D("60.00"))
    assert (by[(city.a2, "E02")].value, by[(city.a2, "E02")].score) == (D("0.0000"), D("100.00"))
    assert (by[(city.a1, "E04")].status, by[(city.a1, "E04")].score) == ("missing", D("60.00"))
    assert (dims[(city.a1, "satisfaction")], dims[(city.a2, "satisfaction")]) == (D("80.00"), D("70.00"))
    # Computed indicators came from the cases: a1's CMI (A01) has a value.
    assert by[(city.a1, "A01")].status == "value" and by[(city.a1, "A01")].value is not None
