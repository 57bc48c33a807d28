"""The calibration job: a city calibrates on its regions' history; the draft can be published."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select, text

from dianshu.db.session import scoped_session
from dianshu.jobs import service as jobs
from dianshu.jobs.models import Job
from dianshu.scope import Role, Scope
from dianshu.standards.jobs import CALIBRATE
from dianshu.standards.models import PaymentStandard, PaymentStandardDrg
from dianshu.standards.service import StandardsError, publish_payment_standard
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import send
from tests.conftest import scope_for
from tests.test_standards_db import builtin_versions  # noqa: F401


def stay(list_id, hospital, total: int, year: int):
    """A pneumonia stay (ZJ-DRG ES23: J18.900 with the CC I10.x00x002) costing `total` yuan."""
    return row(
        list_id,
        hospital,
        med_chrgitm_09=f"{total - 4200}.00",
        medfee_sumamt=f"{total}.00",
        fund_pay_sumamt=f"{total - 2000}.00",
        adm_time=f"{year}-03-01 09:00",
        dscg_time=f"{year}-03-06 10:00",
    )


async def test_calibrate_a_city_on_two_years_by_hand(db, city, dispatcher, builtin_versions):  # noqa: F811
    await send(
        db,
        scope_for(Role.region_admin, (city.a,)),
        city.a,
        csv_bytes([stay("A1", city.a1, 8000, 2024), stay("A2", city.a2, 9000, 2024), stay("A3", city.a1, 6000, 2023)]),
        "hist-a",
    )
    await send(
        db,
        scope_for(Role.region_admin, (city.b,)),
        city.b,
        csv_bytes([stay("B1", city.b1, 10000, 2024), stay("B2", city.b1, 99999, 2022)]),
        "hist-b",
    )
    admin = scope_for(Role.city_admin, city.tenants)
    zj = str(builtin_versions["zhejiang_2022"])
    async with scoped_session(db, admin) as s:
        job, _ = await jobs.submit(
            s, db, admin, city.city, CALIBRATE, {"version": zj, "years": [2023, 2024], "label": "2025 calibration"}
        )
    assert await jobs.execute(db, city.city, job.id) == "succeeded"
    async with scoped_session(db, Scope.system(city.tenants)) as s:
        result = (await s.execute(select(Job.result).where(Job.id == job.id))).scalar_one()
        ps = (await s.execute(select(PaymentStandard).where(PaymentStandard.city_code == city.city))).scalar_one()
        params = (
            (await s.execute(select(PaymentStandardDrg).where(PaymentStandardDrg.standard_id == ps.id))).scalars().all()
        )
    # ES23 in 2024: 8000, 9000 (region A), 10000 (region B): mean 9000; 2023: 6000. The 2022 stay is
    # outside the years. Weights 2:7 -> (2 × 6000 + 7 × 9000) / 9 = 75000 / 9 = 8333.333… -> 8333.33.
    # It is the only DRG, so avg_cost_all is the same and the base points are 100.0000; 4 stays: unstable.
    assert [(p.drg, p.cases, p.avg_cost, p.base_points, p.stable) for p in params] == [
        ("ES23", 4, D("8333.33"), D("100.0000"), False)
    ]
    assert ps.avg_cost_all == D("8333.33") and ps.status == "draft" and ps.source == "calibration"
    assert result["stays"] == 4 and result["drgs"] == 1
    # Publish it; then it is immutable.
    async with scoped_session(db, admin) as s:
        await publish_payment_standard(s, ps.id, date(2025, 1, 1))
        await publish_payment_standard(s, ps.id, date(2025, 1, 1))  # retried: no-op
    with pytest.raises(Exception, match=r"immutable|only retiring"):
        async with scoped_session(db, admin) as s:
            await s.execute(
                text("update payment_standard_drg set base_points = 1 where standard_id = :i"), {"i": ps.id}
            )
    with pytest.raises(StandardsError, match="only a draft"):
        async with scoped_session(db, admin) as s:
            await publish_payment_standard(s, ps.id, date(2026, 1, 1))


async def test_a_region_cannot_calibrate(db, city, dispatcher, builtin_versions):  # noqa: F811
    region = scope_for(Role.city_admin, (city.a,))  # even a city role, on a region tenant
    async with scoped_session(db, region) as s:
        job, _ = await jobs.submit(
            s, db, region, city.a, CALIBRATE, {"version": str(builtin_versions["zhejiang_2022"]), "years": [2024]}
        )
    assert await jobs.execute(db, city.a, job.id) == "failed"


async def test_calibrate_and_publish_through_the_api(settings, db, city, dispatcher, builtin_versions):  # noqa: F811
    import uuid

    from tests.api import Api

    await send(
        db, scope_for(Role.region_admin, (city.a,)), city.a, csv_bytes([stay("X1", city.a1, 8000, 2024)]), "api-hist"
    )
    api = Api(settings, db)
    try:
        admin = api.token(Role.city_admin, [city.city])
        out = await api.gql(
            admin,
            "mutation($v: ID!, $c: String!) { calibrateStandard(input: {tenant: $c, version: $v, years: [2024]}) "
            "{ __typename ... on JobPayload { job { databaseId } } } }",
            {"v": str(builtin_versions["zhejiang_2022"]), "c": city.city},
        )
        assert (
            await jobs.execute(db, city.city, uuid.UUID(out["calibrateStandard"]["job"]["databaseId"])) == "succeeded"
        )
        stds = await api.gql(admin, "{ paymentStandards { nodes { id status avgCostAll } } }")
        sid = stds["paymentStandards"]["nodes"][0]["id"]
        assert stds["paymentStandards"]["nodes"][0]["avgCostAll"] == "8000.00"
        publish = """mutation($i: ID!, $f: Date!, $t: Date) {
          publishPaymentStandard(id: $i, effectiveFrom: $f, effectiveTo: $t) { __typename
            ... on PaymentStandardPayload { standard { status effectiveFrom } }
            ... on StateConflict { record field reason } ... on ValidationError { errors { field reason } } } }"""
        # A period that ends on or before it starts: refused by field, and the draft stays a draft.
        bad = await api.gql(admin, publish, {"i": sid, "f": "2025-01-01", "t": "2025-01-01"})
        assert bad["publishPaymentStandard"] == {
            "__typename": "ValidationError",
            "errors": [
                {
                    "field": "effectiveTo",
                    "reason": "the period ends (2025-01-01) on or before it starts (2025-01-01): "
                    "effective_to is the first day no longer in force",
                }
            ],
        }
        pub = await api.gql(admin, publish, {"i": sid, "f": "2025-01-01"})
        assert pub["publishPaymentStandard"]["standard"] == {"status": "published", "effectiveFrom": "2025-01-01"}
        # The same publication again is a no-op; another period for a published standard is a state conflict.
        again = await api.gql(admin, publish, {"i": sid, "f": "2025-01-01"})
        assert again["publishPaymentStandard"]["__typename"] == "PaymentStandardPayload"
        other = (await api.gql(admin, publish, {"i": sid, "f": "2025-02-01"}))["publishPaymentStandard"]
        assert other["__typename"] == "StateConflict" and other["field"] == "id", other
        assert other["reason"].endswith("is published: only a draft can be published"), other
        bp = await api.gql(
            api.token(Role.hospital_user, [city.a], city.a1),
            "query($s: ID!) { basePoints(standard: $s) { nodes { drg basePoints avgCost } } }",
            {"s": sid},
        )
        assert bp["basePoints"]["nodes"] == [{"drg": "ES23", "basePoints": "100.0000", "avgCost": "8000.00"}]
        # A region admin cannot calibrate or publish.
        region = api.token(Role.region_admin, [city.a])
        r = await api.gql(
            region,
            'mutation($i: ID!) { publishPaymentStandard(id: $i, effectiveFrom: "2025-01-01") '
            "{ __typename ... on PermissionDenied { message } } }",
            {"i": sid},
        )
        assert r["publishPaymentStandard"]["__typename"] == "PermissionDenied"
        assert "may not do this" in r["publishPaymentStandard"]["message"]
    finally:
        await api.client.aclose()
