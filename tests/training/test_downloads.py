"""The training downloads: coverage and attendance as CSV (UTF-8 with a BOM, Chinese headers by
default) and XLSX, English on request; a hospital gets its own rows only, another region nothing."""

from __future__ import annotations

import io

import pytest

from dianshu.scope import Role
from tests.api import Api
from tests.training import world


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


async def get(api: Api, token: str, path: str):
    return await api.client.get(path, headers={"Authorization": f"Bearer {token}"})


async def test_coverage_csv_by_hand(api, db, city):
    """A1: 1 of 2 coders and 2 of 3 physicians: 3 ÷ 5 × 100 = 60.0000 (%); A2: 2 of 3 physicians:
    2 ÷ 3 × 100 = 66.6667 (%): the percent GraphQL and the evaluation give, "(%)" in the header."""
    await world.build(db, city)
    region = api.token(Role.region_admin, [city.a])
    r = await get(api, region, f"/downloads/training/{city.a}/coverage/2025")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.content.startswith(b"\xef\xbb\xbf")
    lines = r.content.decode("utf-8-sig").split("\r\n")
    assert (
        lines[0]
        == "统筹区,医疗机构编码,医疗机构名称,年度,在册编码员数,已培训编码员数,在册医师数,已培训医师数,培训覆盖率(%)"
    )
    assert lines[1] == f"{city.a},{city.a1},Hospital {city.a1},2025,2,1,3,2,60.0000"
    assert lines[2] == f"{city.a},{city.a2},Hospital {city.a2},2025,0,0,3,2,66.6667"
    en = await get(api, region, f"/downloads/training/{city.a}/coverage/2025?lang=en&format=xlsx")
    assert en.status_code == 200 and en.content[:2] == b"PK"
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(en.content)).active
    assert [c.value for c in ws[1]][:3] == ["Region", "Hospital code", "Hospital name"]
    assert ws.cell(row=1, column=9).value == "Training coverage (%)"
    assert ws.cell(row=3, column=9).value == pytest.approx(66.6667)


async def test_attendance_download_is_scoped(api, db, city):
    await world.build(db, city)
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    r = await get(api, a2, f"/downloads/training/{city.a}/attendance/2025")
    assert r.status_code == 200, r.text
    lines = r.content.decode("utf-8-sig").strip().split("\r\n")
    assert (
        lines[0]
        == "统筹区,培训场次编号,培训日期,课程编号,课程类别,培训级别,学时,授课人,人员编号,人员类别,医疗机构编码,考核成绩"
    )
    assert lines[1:] == [
        f"{city.a},S1,2025-03-06,C1,DRG政策,市级,3.0,市医保局,Q1-0001,医师,{city.a2},70.00",
        f"{city.a},S3,2025-11-20,C2,病案编码,院级,2.0,讲师乙,Q2-0001,医师,{city.a2},",
    ]
    region = api.token(Role.region_admin, [city.a])
    all_rows = (await get(api, region, f"/downloads/training/{city.a}/attendance/2025?lang=en")).content
    text = all_rows.decode("utf-8-sig")
    # 2025: S1 (P1 P3 P4 BS1 Q1) and S3 (P1 P5 Q2): 8 rows; S2 was held in 2024.
    assert len(text.strip().split("\r\n")) == 1 + 8 and ",policy,city," in text and "S2" not in text
    other = api.token(Role.region_admin, [city.b])
    denied = await get(api, other, f"/downloads/training/{city.a}/attendance/2025")
    assert denied.status_code == 403 and denied.json()["errors"][0]["field"] == "tenant"
    bad = await get(api, region, f"/downloads/training/{city.a}/attendance/2025?format=pdf")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "format"
    bad = await get(api, region, f"/downloads/training/{city.a}/attendance/2025?since=1")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "since"
    bad = await get(api, region, f"/downloads/training/{city.a}/attendance/20x5")
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "year"


async def test_the_hospital_and_tenant_parameters_are_checked(api, db, city):
    """hospital: one of the tenant's hospitals the caller may see (else 404 naming hospital); the
    tenant: a region (a city: 400 naming tenant)."""
    await world.build(db, city)
    region = api.token(Role.region_admin, [city.a])
    for what in ("coverage", "attendance"):
        ok = await get(api, region, f"/downloads/training/{city.a}/{what}/2025?hospital={city.a2}")
        assert ok.status_code == 200, ok.text
        for h in (city.b1, "NOSUCH"):
            r = await get(api, region, f"/downloads/training/{city.a}/{what}/2025?hospital={h}")
            assert r.status_code == 404 and r.json()["errors"][0]["field"] == "hospital", r.text
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    r = await get(api, a2, f"/downloads/training/{city.a}/coverage/2025?hospital={city.a1}")
    assert r.status_code == 404 and r.json()["errors"][0]["field"] == "hospital"
    admin = api.token(Role.city_admin, [city.city])
    r = await get(api, admin, f"/downloads/training/{city.city}/coverage/2025")
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "tenant", r.text
