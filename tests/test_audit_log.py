"""auditLog (platform/dianshu/audit/query.py, graphql domains/audit.py): the bureau reads the audit
log of its tenants. Five entries in January 2025 (the fixtures' own entries are of today, outside
`until`); the city sees all five, region A its three, a hospital user and an expert are refused;
each filter, keyset paging, the details as typed pairs, and hostile arguments refused by name."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert

from dianshu.audit.models import AuditEntry
from dianshu.audit.query import Detail, details
from dianshu.db.session import scoped_session
from dianshu.scope import Role, Scope
from tests.api import Api

CST = timezone(timedelta(hours=8))
UNTIL = "2025-02-01T00:00:00+08:00"

QUERY = """
query($tenant: String, $since: DateTime, $until: DateTime, $actor: String, $action: String,
      $entityType: String, $entityId: String, $hospital: String, $first: Int, $after: String) {
  auditLog(tenant: $tenant, since: $since, until: $until, actor: $actor, action: $action,
           entityType: $entityType, entityId: $entityId, hospital: $hospital, first: $first, after: $after) {
    nodes { tenantCode tenant { code } at actor role hospital action target entityType entityId
            details { key kind value } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


@pytest.fixture
async def entries(db, city):
    def at(day: int) -> datetime:
        return datetime(2025, 1, day, 9, 0, tzinfo=CST)

    rows = [
        # (name, tenant, day, actor, action, target, hospital, details)
        ("e1", city.city, 1, "auditor-x", "budget.set", "budget:2025", None, {"growth_rate": "0.02", "n": 3}),
        (
            "e2",
            city.a,
            2,
            "auditor-x",
            "cases.batch.submitted",
            "batch:B1",
            city.a1,
            {"hospitals": {city.a1: 3}, "ok": True, "none": None, "ids": ["x", "y"]},
        ),
        ("e3", city.a, 3, "auditor-x", "cases.recalled", "case:L7", city.a2, {}),
        ("e4", city.b, 4, "auditor-y", "cases.batch.submitted", "batch:B2", None, {}),
        ("e5", city.a, 5, "auditor-x", "settlement.published", "run:R1", None, {"amount": "15200.00"}),
    ]
    async with scoped_session(db, Scope.system(city.tenants)) as s:
        for _, tenant, day, actor, action, target, hospital, payload in rows:
            await s.execute(
                insert(AuditEntry).values(
                    tenant_id=tenant,
                    at=at(day),
                    actor=actor,
                    role="region_admin",
                    hospital_id=hospital,
                    action=action,
                    target=target,
                    details=payload,
                )
            )
    return {name: target for name, _, _, _, _, target, _, _ in rows}


async def _targets(api, token, **variables) -> list[str]:
    data = await api.gql(token, QUERY, {"until": UNTIL, **variables})
    return [n["target"] for n in data["auditLog"]["nodes"]]


async def _refused(api, token, **variables) -> tuple[str, str | None, str]:
    r = await api.post(token, QUERY, {"until": UNTIL, **variables})
    body = r.json()
    assert r.status_code == 200 and (body.get("data") or {}).get("auditLog") is None, body
    err = body["errors"][0]
    return err["extensions"]["code"], err["extensions"].get("field"), err["message"]


async def test_who_sees_what(api, city, entries):
    t = entries
    city_admin = api.token(Role.city_admin, [city.city])
    # Newest first, across the city and both regions.
    assert await _targets(api, city_admin) == [t["e5"], t["e4"], t["e3"], t["e2"], t["e1"]]
    viewer = api.token(Role.city_viewer, [city.city])
    assert await _targets(api, viewer) == [t["e5"], t["e4"], t["e3"], t["e2"], t["e1"]]
    region_a = api.token(Role.region_admin, [city.a])
    assert await _targets(api, region_a) == [t["e5"], t["e3"], t["e2"]]
    region_b = api.token(Role.region_viewer, [city.b])
    assert await _targets(api, region_b) == [t["e4"]]
    # Region B naming region A: outside its scope, refused (not an empty page).
    assert (await _refused(api, region_b, tenant=city.a))[0] == "FORBIDDEN"
    # A hospital (and an expert) may not read the audit log at all.
    for token in (
        api.token(Role.hospital_user, [city.a], city.a1),
        api.token(Role.expert, [city.a]),
    ):
        code, _, message = await _refused(api, token)
        assert code == "FORBIDDEN", message


async def test_filters(api, city, entries):
    t = entries
    token = api.token(Role.city_admin, [city.city])
    assert await _targets(api, token, tenant=city.a) == [t["e5"], t["e3"], t["e2"]]
    assert await _targets(api, token, action="cases.") == [t["e4"], t["e3"], t["e2"]]
    assert await _targets(api, token, action="cases.batch.submitted") == [t["e4"], t["e2"]]
    assert await _targets(api, token, action="cases.batch") == []  # exact unless it ends in '.'
    assert await _targets(api, token, action="no.such.action") == []
    assert await _targets(api, token, entityType="batch") == [t["e4"], t["e2"]]
    assert await _targets(api, token, entityType="batch", entityId="B1") == [t["e2"]]
    assert await _targets(api, token, actor="auditor-y") == [t["e4"]]
    assert await _targets(api, token, hospital=city.a1) == [t["e2"]]
    # [since, until): the 2nd at 09:00 is in, the 4th at 09:00 is out.
    window = {"since": "2025-01-02T09:00:00+08:00", "until": "2025-01-04T09:00:00+08:00"}
    assert await _targets(api, token, **window) == [t["e3"], t["e2"]]
    # The same instant in UTC selects the same entries.
    utc = {"since": "2025-01-02T01:00:00+00:00", "until": "2025-01-04T01:00:00+00:00"}
    assert await _targets(api, token, **utc) == [t["e3"], t["e2"]]

    data = await api.gql(token, QUERY, {"until": UNTIL, "entityId": "B1", "entityType": "batch"})
    (e2,) = data["auditLog"]["nodes"]
    assert (e2["tenantCode"], e2["actor"], e2["hospital"], e2["entityType"], e2["entityId"]) == (
        city.a,
        "auditor-x",
        city.a1,
        "batch",
        "B1",
    )
    assert e2["tenant"] == {"code": city.a}
    assert e2["at"].startswith("2025-01-02T01:00:00")  # 09:00 Beijing time, in UTC
    assert e2["details"] == [
        {"key": f"hospitals.{city.a1}", "kind": "number", "value": "3"},
        {"key": "ids[0]", "kind": "text", "value": "x"},
        {"key": "ids[1]", "kind": "text", "value": "y"},
        {"key": "none", "kind": "json_null", "value": None},
        {"key": "ok", "kind": "boolean", "value": "true"},
    ]


async def test_keyset_paging(api, city, entries):
    t = entries
    token = api.token(Role.city_admin, [city.city])
    seen, after, pages = [], None, 0
    while True:
        data = (await api.gql(token, QUERY, {"until": UNTIL, "first": 2, "after": after}))["auditLog"]
        pages += 1
        seen += [n["target"] for n in data["nodes"]]
        assert data["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert (pages, seen) == (3, [t["e5"], t["e4"], t["e3"], t["e2"], t["e1"]])


@pytest.mark.parametrize(
    ("variables", "field", "reason"),
    [
        ({"after": "not-a-cursor"}, "after", "is not a cursor from this API"),
        ({"after": "WyJ4Il0="}, "after", "is not a cursor from this API"),  # ["x"]: the wrong shape
        ({"first": 0}, "first", "between 1 and 100"),
        ({"first": 101}, "first", "between 1 and 100"),
        ({"since": "2025-01-05T00:00:00+08:00", "until": "2025-01-02T00:00:00+08:00"}, "until", "is not after since"),
        ({"since": "2025-01-02T00:00:00+08:00", "until": "2025-01-02T00:00:00+08:00"}, "until", "is not after since"),
        ({"since": "2025-01-02T00:00:00"}, "since", "has no time zone"),
        ({"action": "DROP TABLE audit_log"}, "action", "is not an action"),
        ({"action": "cases.%"}, "action", "is not an action"),
        ({"action": "x" * 81}, "action", "is not an action"),
        ({"entityType": "batch:B1"}, "entityType", "is not an entity type"),
        ({"entityId": "B1"}, "entityId", "needs entityType"),
        ({"actor": ""}, "actor", "printable characters"),
        ({"actor": "a\u0000b"}, "actor", "control characters"),  # the API's own guard, first
    ],
)
async def test_hostile_arguments_are_refused_by_name(api, city, variables, field, reason):
    token = api.token(Role.city_admin, [city.city])
    code, named, message = await _refused(api, token, **variables)
    assert (code, named) == ("BAD_USER_INPUT", field) and reason in message, message


def test_details_are_typed_pairs():
    assert details({"b": [1, {"c": False}], "a": "x", "e": {}, "f": [], "d": 2.5}) == [
        Detail("a", "text", "x"),
        Detail("b[0]", "number", "1"),
        Detail("b[1].c", "boolean", "false"),
        Detail("d", "number", "2.5"),
        Detail("e", "text", "{}"),
        Detail("f", "text", "[]"),
    ]
    many = details({f"k{i:03d}": i for i in range(250)})
    assert len(many) == 201 and many[-1].key == "…" and many[199] == Detail("k199", "number", "199")


# --- the download (/downloads/audit-log) ------------------------------------------------------


async def _download(api, token, params: dict | None = None):
    return await api.client.get(
        "/downloads/audit-log", params={"until": UNTIL, **(params or {})}, headers={"Authorization": f"Bearer {token}"}
    )


def _csv_rows(r) -> list[list[str]]:
    import csv
    import io

    assert r.content.startswith(b"\xef\xbb\xbf"), r.content[:10]  # the BOM: Excel on Chinese Windows reads UTF-8
    return list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))


async def test_the_download_holds_what_the_query_shows_in_chinese_and_english(api, city, entries):
    token = api.token(Role.city_admin, [city.city])
    r = await _download(api, token, {"action": "cases."})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert 'filename="audit-log.csv"' in r.headers["content-disposition"]
    header, *rows = _csv_rows(r)
    assert header == [
        "统筹区",
        "序号",
        "时间(北京时间)",
        "操作人",
        "角色",
        "定点医药机构编号",
        "操作",
        "对象类型",
        "对象编号",
        "详情",
    ]
    # Newest first, as auditLog (e4, e3, e2); times in Beijing time; details as key=value pairs.
    assert [(row[0], row[2], row[6], row[7], row[8]) for row in rows] == [
        (city.b, "2025-01-04 09:00:00", "cases.batch.submitted", "batch", "B2"),
        (city.a, "2025-01-03 09:00:00", "cases.recalled", "case", "L7"),
        (city.a, "2025-01-02 09:00:00", "cases.batch.submitted", "batch", "B1"),
    ]
    assert rows[2][5] == city.a1
    assert rows[2][9] == f"hospitals.{city.a1}=3; ids[0]=x; ids[1]=y; none=null; ok=true"

    en = await _download(api, token, {"action": "cases.", "lang": "en", "format": "xlsx"})
    assert en.status_code == 200, en.text
    import io

    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(en.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    head = next(i for i, v in enumerate(values) if v and v[0] == "Tenant")
    assert values[head][:3] == ["Tenant", "No.", "Time (Beijing time)"]
    assert [v[6] for v in values[head + 1 : head + 4]] == [
        "cases.batch.submitted",
        "cases.recalled",
        "cases.batch.submitted",
    ]


async def test_the_download_is_the_bureaus_own_and_refuses_by_name(api, city, entries):
    region_a = api.token(Role.region_admin, [city.a])
    _, *rows = _csv_rows(await _download(api, region_a))
    assert {row[0] for row in rows} == {city.a} and len(rows) == 3  # row-level security: its own entries
    assert (await _download(api, region_a, {"tenant": city.b})).status_code == 403
    for token in (api.token(Role.hospital_user, [city.a], city.a1), api.token(Role.expert, [city.a])):
        r = await _download(api, token)
        assert r.status_code == 403, r.text
    assert (await api.client.get("/downloads/audit-log")).status_code == 401

    def field_of(r) -> str:
        assert r.status_code == 400, r.text
        return r.json()["errors"][0]["field"]

    token = api.token(Role.city_admin, [city.city])
    assert field_of(await _download(api, token, {"since": "2025-01-01T00:00:00"})) == "since"  # no zone
    assert field_of(await _download(api, token, {"since": "yesterday"})) == "since"
    zh = (await _download(api, token, {"since": "yesterday", "lang": "zh"})).json()["errors"][0]
    assert (zh["code"], zh["message"]) == ("is_not_a_time", "'yesterday' 不是时间（例如 2025-01-01T00:00:00+08:00）")
    assert field_of(await _download(api, token, {"since": "2025-03-01T00:00:00+08:00"})) == "until"  # reversed
    assert field_of(await _download(api, token, {"entityId": "B1"})) == "entityId"
    assert field_of(await _download(api, token, {"action": "DROP TABLE"})) == "action"
    assert field_of(await _download(api, token, {"first": "10"})) == "first"  # not a filter here
    assert field_of(await _download(api, token, {"format": "pdf"})) == "format"


async def test_a_selection_over_the_file_limit_is_refused_not_cut(api, city, entries, monkeypatch):
    from dianshu_graphql import audit_downloads

    monkeypatch.setattr(audit_downloads, "MAX_ROWS", 2)
    token = api.token(Role.city_admin, [city.city])
    r = await _download(api, token, {"action": "cases."})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "since", r.text
    assert "more than 2 entries" in r.text
    monkeypatch.setattr(audit_downloads, "MAX_ROWS", 3)
    assert len(_csv_rows(await _download(api, token, {"action": "cases."}))) == 4  # header and all three
