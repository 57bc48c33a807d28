"""Entered indicator values: only entered/training indicators of the catalogue in force, strict
decimals in their unit's range, the bureau enters them, a retry writes and audits nothing, a change
audits old -> new, and row-level security shows a hospital its own."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text

from dianshu.db.session import scoped_session
from dianshu.evaluation.entries import EntryRefused, enter_indicator, entered_values, entries_query
from dianshu.scope import Role, Scope
from tests.conftest import scope_for
from tests.evaluation.world import builtin_catalogue_version  # noqa: F401

pytestmark = pytest.mark.usefixtures("builtin_catalogue_version")


async def enter(db, scope, tenant, hospital, year, code, value, note=""):
    async with scoped_session(db, scope) as s:
        return await enter_indicator(s, scope, tenant, hospital, year, code, value, note)


async def counts(db, tenant):
    """(audit entries, entry rows) of a tenant, seen by the system."""
    async with scoped_session(db, Scope.system((tenant,))) as s:
        row = (
            await s.execute(
                text(
                    "select (select count(*) from audit_log where tenant_id = :t),"
                    " (select count(*) from evaluation_entry where tenant_id = :t)"
                ),
                {"t": tenant},
            )
        ).one()
    return tuple(row)


async def test_entering_then_retrying_writes_once_and_a_change_audits_old_and_new(db, city):
    region = scope_for(Role.region_admin, (city.a,))
    audits, rows = await counts(db, city.a)
    first = await enter(db, region, city.a, city.a1, 2025, "E01", "86.5", "survey of 400 patients")
    assert first.changed and first.entry.value == Decimal("86.5") and first.entry.entered_by == region.actor
    assert await counts(db, city.a) == (audits + 1, rows + 1)
    # The same value again (as a Decimal with trailing zeros, and as sent): nothing written or audited.
    for same in ("86.5", Decimal("86.5000"), " 86.50 "):
        again = await enter(db, region, city.a, city.a1, 2025, "E01", same, "survey of 400 patients")
        assert not again.changed and again.entry.entered_at == first.entry.entered_at
    assert await counts(db, city.a) == (audits + 1, rows + 1)
    # A correction: updated and audited old -> new.
    changed = await enter(db, region, city.a, city.a1, 2025, "E01", "88", "survey of 400 patients")
    assert changed.changed and changed.entry.value == Decimal("88")
    assert await counts(db, city.a) == (audits + 2, rows + 1)
    async with scoped_session(db, Scope.system((city.a,))) as s:
        details = (
            await s.execute(
                text(
                    "select details from audit_log where tenant_id = :t and action = 'evaluation.entered'"
                    " order by id desc limit 1"
                ),
                {"t": city.a},
            )
        ).scalar()
    assert (details["old"], details["new"]) == ("86.5000", "88")


async def test_entered_values_and_complaints_are_a_count(db, city):
    region_a = scope_for(Role.region_admin, (city.a,))
    admin = scope_for(Role.city_admin, city.tenants)
    await enter(db, region_a, city.a, city.a1, 2024, "E02", 7)  # 7 complaints in the year (an int is exact)
    await enter(db, region_a, city.a, city.a2, 2024, "C08", "92.25")
    await enter(db, admin, city.b, city.b1, 2024, "F07", "100")  # the city enters for any of its regions
    await enter(db, admin, city.b, city.b1, 2023, "F07", "50")
    async with scoped_session(db, admin) as s:
        values = await entered_values(s, city.tenants, 2024)
        only_b = await entered_values(s, [city.b], 2024)
    assert values == {
        (city.a1, "E02"): Decimal(7),
        (city.a2, "C08"): Decimal("92.25"),
        (city.b1, "F07"): Decimal(100),
    }
    assert only_b == {(city.b1, "F07"): Decimal(100)}


@pytest.mark.parametrize(
    ("code", "value", "field", "reason"),
    [
        ("Z99", "1", "code", "is not an indicator of the catalogue builtin-"),
        ("A01", "1.2", "code", "A01 is computed from the data (source grouping)"),
        ("C01", "3", "code", "C01 is computed from the data (source findings)"),
        ("E01", "100.01", "value", "a score from 0 to 100"),
        ("E01", "-1", "value", "a score from 0 to 100"),
        ("C08", "101", "value", "a percent from 0 to 100"),
        ("E02", "2.5", "value", "the count of events in the year"),
        ("E02", "-3", "value", "the count of events in the year"),
        ("E01", 86.5, "value", "never float"),
        ("E01", True, "value", "never bool"),
        ("E01", "eighty", "value", "is not a decimal"),
        ("E01", "NaN", "value", "is not a decimal"),
        ("E01", "Infinity", "value", "is not a decimal"),
        ("E01", "1e400", "value", "a score from 0 to 100"),
        ("E01", "50.12345", "value", "at most 4 decimal places"),
    ],
)
async def test_refusals_name_the_entry_field_and_reason(db, city, code, value, field, reason):
    region = scope_for(Role.region_admin, (city.a,))
    audits, rows = await counts(db, city.a)
    with pytest.raises(EntryRefused) as e:
        await enter(db, region, city.a, city.a1, 2025, code, value)
    assert e.value.record == f"entry {city.a1}/2025/{code}"
    assert e.value.field == field and reason in e.value.reason, e.value.reason
    assert e.value.kind == "invalid"
    assert await counts(db, city.a) == (audits, rows)


async def test_a_hospital_of_another_tenant_and_an_impossible_year_are_refused(db, city):
    region = scope_for(Role.region_admin, (city.a,))
    with pytest.raises(EntryRefused) as e:
        await enter(db, region, city.a, city.b1, 2025, "E01", "80")
    assert (e.value.field, e.value.reason) == ("hospital", f"not a hospital of {city.a}")
    admin = scope_for(Role.city_admin, city.tenants)
    with pytest.raises(EntryRefused) as e:  # the city sees B1, but B1 is not region A's
        await enter(db, admin, city.a, city.b1, 2025, "E01", "80")
    assert e.value.field == "hospital"
    for year in (1999, 2101):
        with pytest.raises(EntryRefused) as e:
            await enter(db, region, city.a, city.a1, year, "E01", "80")
        assert e.value.field == "year"


async def test_only_the_bureau_enters(db, city):
    for scope in (
        scope_for(Role.hospital_user, (city.a,), city.a1),
        scope_for(Role.region_viewer, (city.a,)),
        scope_for(Role.integrator, (city.a,)),
        scope_for(Role.expert, (city.a,), None),
    ):
        with pytest.raises(PermissionError, match="the bureau enters them"):
            await enter(db, scope, city.a, city.a1, 2025, "E01", "80")
    with pytest.raises(PermissionError, match="outside your scope"):
        await enter(db, scope_for(Role.region_admin, (city.b,)), city.a, city.a1, 2025, "E01", "80")


async def test_row_level_security_shows_each_scope_its_own_entries(db, city):
    region_a = scope_for(Role.region_admin, (city.a,))
    await enter(db, region_a, city.a, city.a1, 2022, "E04", "90")
    await enter(db, region_a, city.a, city.a2, 2022, "E04", "80")

    async def visible(scope):
        async with scoped_session(db, scope) as s:
            return {(e.hospital_id, e.code) for e in (await s.execute(entries_query(2022))).scalars()}

    assert await visible(region_a) == {(city.a1, "E04"), (city.a2, "E04")}
    assert await visible(scope_for(Role.city_admin, city.tenants)) == {(city.a1, "E04"), (city.a2, "E04")}
    assert await visible(scope_for(Role.hospital_user, (city.a,), city.a1)) == {(city.a1, "E04")}
    assert await visible(scope_for(Role.hospital_user, (city.a,), city.a2)) == {(city.a2, "E04")}
    assert await visible(scope_for(Role.region_admin, (city.b,))) == set()
    assert await visible(scope_for(Role.hospital_user, (city.b,), city.b1)) == set()
    assert await visible(scope_for(Role.expert, (city.a,), None)) == set()
    async with scoped_session(db, scope_for(Role.hospital_user, (city.a,), city.a2)) as s:
        assert await entered_values(s, [city.a], 2022) == {(city.a2, "E04"): Decimal(80)}
