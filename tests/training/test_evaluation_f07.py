"""The evaluation job reads F07 (training coverage) from the training records: the records win over
an entered value for a hospital with coders or physicians on record; a hospital with no one on
record keeps its entered F07.

Region A 2025 (tests/settlement/world.py and tests/training/world.py). Entered F07: a1 90, a2 50.
a1's roster: coders P1, P2, physicians P4, P5, P6; trained in 2025 P1, P4, P5: 3 ÷ 5 × 100 =
60.0000 (numerator 3, denominator 5), not the entered 90. a2's physicians Q1–Q3 left on
2024-12-31: no one on a2's roster of 2025, so a2's F07 is its entered 50."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal as D

from sqlalchemy import select

from dianshu.db.session import scoped_session
from dianshu.evaluation.entries import enter_indicator
from dianshu.evaluation.run_models import EvaluationIndicatorScore, EvaluationRun
from dianshu.evaluation.runs import RUN
from dianshu.training.service import save_person
from tests.evaluation.world import builtin_catalogue_version  # noqa: F401
from tests.settlement.world import budgeted_year, run_job
from tests.test_standards_db import builtin_versions  # noqa: F401
from tests.training import world


async def test_the_run_reads_f07_from_the_records_where_there_are_any(
    db,
    city,
    dispatcher,
    builtin_versions,  # noqa: F811
    builtin_catalogue_version,  # noqa: F811
):
    region = await budgeted_year(db, city, builtin_versions["zhejiang_2022"], {"reserve_ratio": "0.05"}, "year")
    await world.build(db, city)
    async with scoped_session(db, region) as s:
        await enter_indicator(s, region, city.a, city.a1, 2025, "F07", "90", "by hand")
        await enter_indicator(s, region, city.a, city.a2, 2025, "F07", "50", "by hand")
        for q in ("Q1", "Q2", "Q3"):
            await save_person(s, region, city.a, f"{q}-0001", city.a2, "physician", False, None, date(2024, 12, 31))
    result = await run_job(db, region, city.a, RUN, {"year": 2025})
    run_id = uuid.UUID(result["runs"][0]["id"])
    async with scoped_session(db, region) as s:
        run = (await s.execute(select(EvaluationRun).where(EvaluationRun.id == run_id))).scalar_one()
        rows = (
            await s.execute(
                select(EvaluationIndicatorScore).where(
                    EvaluationIndicatorScore.run_id == run_id, EvaluationIndicatorScore.code == "F07"
                )
            )
        ).scalars()
        by = {r.hospital_id: r for r in rows}
    a1, a2 = by[city.a1], by[city.a2]
    assert (a1.value, a1.numerator, a1.denominator) == (D("60.0000"), 3, 5)
    assert a2.value == D("50.0000") and a2.numerator is None
    assert "training.coverage.coverage_values" in run.inputs["sources"]["training"]


def test_the_builtin_catalogue_file_is_unchanged():
    """The built-in catalogue's text is main's, byte for byte: a changed F07 wording would change the
    built-in catalogue's hash and label, and an existing database would publish a second built-in
    version taking over past years. Which wins (the records or the entered F07) is said in
    evaluation/data/README.md and the README, not in the catalogue file."""
    import hashlib

    from dianshu.evaluation.catalogue import DATA

    digest = hashlib.sha256((DATA / "catalogue.csv").read_bytes()).hexdigest()
    assert digest == "c53f55b03e66a87aa6945e15acc2e01d52091766b7fca128a9c5dbc00d8f083e"
