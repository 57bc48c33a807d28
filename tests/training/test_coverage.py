"""Training coverage per hospital, by hand on the world of tests/training/world.py, and how the
evaluation's F07 reads it (the records win for a hospital with coders or physicians on record)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from dianshu.db.session import scoped_session
from dianshu.evaluation.catalogue import builtin_catalogue
from dianshu.evaluation.runs import observe
from dianshu.evaluation.scoring import MISSING, VALUE, Observed
from dianshu.scope import Role
from dianshu.training.coverage import coverage, coverage_values
from dianshu.training.service import save_person
from tests.conftest import scope_for
from tests.training import world


async def test_coverage_by_hand(db, city):
    """2025, A1: the roster is the coders P1, P2 (P3 left on 2024-12-31) and the physicians P4, P5, P6:
    2 + 3 = 5. Trained in 2025: P1 (S1 and S3: once), P4 (S1), P5 (S3); P2 only at S2, held 2024-12-30;
    P3 is not on the roster. Coders 1 of 2, physicians 2 of 3: (1 + 2) ÷ (2 + 3) × 100 = 60.0000.
    A2: Q1 (S1) and Q2 (S3) of Q1, Q2, Q3: 2 ÷ 3 × 100 = 66.66666… = 66.6667 (half-up, 4 places).
    2024, A1: P3 still on the roster (left on its last day): coders P1, P2, P3, physicians P4, P5, P6;
    P2 at S2 only: coders 1 of 3, physicians 0 of 3: 1 ÷ 6 × 100 = 16.6666… = 16.6667; A2 0 ÷ 3 = 0.
    Bureau staff (BS1) belong to no hospital: in no coverage."""
    await world.build(db, city)
    region = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region) as s:
        y2025 = {c.hospital_id: c for c in await coverage(s, [city.a], 2025)}
        y2024 = {c.hospital_id: c for c in await coverage(s, [city.a], 2024)}
    a1 = y2025[city.a1]
    assert (a1.coders, a1.coders_trained, a1.physicians, a1.physicians_trained) == (2, 1, 3, 2)
    assert a1.coverage == Decimal("60.0000")
    a2 = y2025[city.a2]
    assert (a2.coders, a2.coders_trained, a2.physicians, a2.physicians_trained) == (0, 0, 3, 2)
    assert a2.coverage == Decimal("66.6667")
    assert (y2024[city.a1].coders, y2024[city.a1].coders_trained, y2024[city.a1].roster) == (3, 1, 6)
    assert y2024[city.a1].coverage == Decimal("16.6667")
    assert y2024[city.a2].coverage == Decimal("0.0000")


async def test_a_hospital_sees_its_own_coverage_only(db, city):
    await world.build(db, city)
    a2 = scope_for(Role.hospital_user, (city.a,), city.a2)
    async with scoped_session(db, a2) as s:
        rows = await coverage(s, [city.a], 2025)
    assert [(c.hospital_id, c.coverage) for c in rows] == [(city.a2, Decimal("66.6667"))]
    other = scope_for(Role.region_admin, (city.b,))
    async with scoped_session(db, other) as s:
        assert await coverage(s, [city.a], 2025) == []


async def test_the_records_win_over_an_entered_f07(db, city):
    """F07 of A1 and A2 come from the records (60.0000 = 3 ÷ 5 × 100 and 66.6667 = 2 ÷ 3 × 100), even
    where a value was entered (A1: 90); B1 has no roster: its entered 75 stays; a hospital with
    neither is missing (scores 60, as every entered indicator without an entry)."""
    await world.build(db, city)
    region = scope_for(Role.city_admin, city.tenants)
    async with scoped_session(db, region) as s:
        values = await coverage_values(s, [city.a, city.b], 2025)
    assert set(values) == {city.a1, city.a2}  # B1 has no one on record
    trained = {h: (c.coverage, Decimal(c.trained), Decimal(c.roster)) for h, c in values.items()}
    catalogue = builtin_catalogue()
    entered = {(city.a1, "F07"): Decimal(90), (city.b1, "F07"): Decimal(75)}
    hospitals = [city.a1, city.a2, city.b1, "H-NONE"]
    observed = observe(catalogue, hospitals, {}, {}, entered, trained)
    assert observed[(city.a1, "F07")] == Observed(VALUE, Decimal("60.0000"), Decimal(3), Decimal(5))
    assert observed[(city.a2, "F07")] == Observed(VALUE, Decimal("66.6667"), Decimal(2), Decimal(3))
    assert observed[(city.b1, "F07")] == Observed(VALUE, Decimal(75))
    assert observed[("H-NONE", "F07")] == Observed(MISSING)
    # Only the training indicator: another entered indicator keeps its entered value (E01 missing here).
    assert observed[(city.a1, "E01")] == Observed(MISSING)


async def test_the_roster_is_the_years(db, city):
    """The roster of a year is who was on it at any time in the year (active_from to left_on).

    N1, a coder of A1 registered from 2026-03-01, is not in 2025's roster: A1 2025 stays 5 people,
    3 trained: 3 ÷ 5 × 100 = 60.0000. P4 (trained at S1 in 2025) leaves on 2026-05-31: still in
    2025's roster with their 2025 training (60.0000 unchanged), and in 2026's. A1 2026: coders P1,
    P2, N1 (3), physicians P4, P5, P6 (3), no session in 2026: 0 ÷ 6 × 100 = 0.0000. 2023: no one
    on any roster (everyone from 2024-01-01): no coverage, so the evaluation keeps an entered F07
    of 2023 (coverage_values is empty)."""
    await world.build(db, city)
    region = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region) as s:
        await save_person(s, region, city.a, "N1-0001", city.a1, "coder", active_from=datetime.date(2026, 3, 1))
        left = await save_person(
            s, region, city.a, "P4-0001", city.a1, "physician", False, None, datetime.date(2026, 5, 31)
        )
        assert left.row.active_from == datetime.date(2024, 1, 1)  # kept
        y2025 = {c.hospital_id: c for c in await coverage(s, [city.a], 2025)}
        y2026 = {c.hospital_id: c for c in await coverage(s, [city.a], 2026)}
        y2023 = await coverage_values(s, [city.a], 2023)
    a1 = y2025[city.a1]
    assert (a1.coders, a1.coders_trained, a1.physicians, a1.physicians_trained) == (2, 1, 3, 2)
    assert a1.coverage == Decimal("60.0000")
    b = y2026[city.a1]
    assert (b.coders, b.physicians, b.trained, b.coverage) == (3, 3, 0, Decimal("0.0000"))
    assert y2023 == {}


async def test_an_earlier_year_keeps_its_entered_f07(db, city):
    """Records arriving later never turn an earlier year's entered F07 into 0: 2023 has no roster
    (everyone from 2024-01-01), so observe() is given no training value for 2023 and A1's entered
    80 is what scoring sees (VALUE 80)."""
    await world.build(db, city)
    region = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region) as s:
        values = await coverage_values(s, [city.a], 2023)
    trained = {h: (c.coverage, Decimal(c.trained), Decimal(c.roster)) for h, c in values.items()}
    cat = builtin_catalogue()
    got = observe(cat, [city.a1], {}, {city.a1: 10}, {(city.a1, "F07"): Decimal("80")}, trained)
    assert got[(city.a1, "F07")].status == VALUE and got[(city.a1, "F07")].value == Decimal("80")
