"""Cases through the API: multipart upload, the streaming path, refused rows as CSV and XLSX,
queries scoped by role, recall."""

from __future__ import annotations

import io
import json

import pytest
from openpyxl import load_workbook

from dianshu.cases import refused
from dianshu.cases.layout import COLUMNS as LAYOUT
from dianshu.jobs import service as jobs
from dianshu.scope import Role
from tests.api import Api
from tests.cases.rows import csv_bytes, row

UPLOAD = """
mutation($input: UploadCasesInput!) {
  uploadCases(input: $input) {
    __typename
    ... on BatchPayload { created batch { id status jobId errorsCsvUrl errorsXlsxUrl } }
    ... on PermissionDenied { message }
    ... on ValidationError { message errors { field reason } }
    ... on IdempotencyConflict { message }
  }
}"""


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


async def upload(api: Api, token: str, tenant: str, data: bytes, key: str, filename="cases.csv") -> dict:
    operations = {"query": UPLOAD, "variables": {"input": {"tenant": tenant, "file": None, "idempotencyKey": key}}}
    r = await api.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": (filename, data, "text/csv")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert r.status_code == 200, r.text
    return r.json()["data"]["uploadCases"]


async def test_upload_run_and_query_by_role(api, db, city, dispatcher, monkeypatch):
    region = api.token(Role.region_admin, [city.a])
    data = csv_bytes([row("A1", city.a1), row("A2", city.a2), row("BAD", city.a1, gend="9")])
    res = await upload(api, region, city.a, data, "api-1")
    assert res["__typename"] == "BatchPayload" and res["created"] and res["batch"]["status"] == "pending"
    assert await jobs.execute(db, city.a, __import__("uuid").UUID(res["batch"]["jobId"])) == "succeeded"
    again = await upload(api, region, city.a, data, "api-1")
    assert again["__typename"] == "BatchPayload" and not again["created"] and again["batch"]["id"] == res["batch"]["id"]

    q = "{ cases(first: 100) { nodes { listId hospitalCode totalCost charges diagnoses status } } }"
    seen = {c["listId"] for c in (await api.gql(region, q))["cases"]["nodes"]}
    assert seen == {"A1", "A2"}
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    assert {c["listId"] for c in (await api.gql(a1, q))["cases"]["nodes"]} == {"A1"}
    assert (await api.gql(api.token(Role.region_admin, [city.b]), q))["cases"]["nodes"] == []
    assert (await api.gql(api.token(Role.expert, [city.a]), q))["cases"]["nodes"] == []
    node = (await api.gql(a1, q))["cases"]["nodes"][0]
    assert node["totalCost"] == "8000.00" and node["charges"][0] == "400.00"

    errs = await api.gql(
        region,
        "query($b: ID!) { ingestionErrors(batch: $b) { nodes { rowNo field reason } } }",
        {"b": res["batch"]["id"]},
    )
    assert errs["ingestionErrors"]["nodes"] == [{"rowNo": 3, "field": "gend", "reason": "must be one of 1, 2 (got 9)"}]
    auth = {"Authorization": f"Bearer {region}"}
    url = res["batch"]["errorsCsvUrl"]
    batch_id = url.split("/")[-2]
    csv_resp = await api.client.get(url, headers=auth)
    assert csv_resp.status_code == 200 and csv_resp.headers["content-type"] == "text/csv; charset=utf-8"
    # UTF-8 with a BOM, CRLF line ends, Chinese headers from the catalogue (the ids named as in the
    # input layout: 结算清单流水号 setl_id, 定点医药机构编号 fixmedins_code).
    assert csv_resp.content.startswith(b"\xef\xbb\xbf")
    assert csv_resp.content.decode("utf-8-sig").split("\r\n") == [
        "行号,结算清单流水号,定点医药机构编号,字段,原因",
        f"3,BAD,{city.a1},性别(gend),应为 1、2 之一（实际为 9）",  # the reason in the file's language
        "",
    ]
    assert f'filename="batch-{batch_id}-errors.csv"' in csv_resp.headers["content-disposition"]
    # English headers on request.
    en = await api.client.get(url + "?lang=en", headers=auth)
    assert en.content.decode("utf-8-sig").splitlines() == [
        "Row,Settlement list id,Hospital code,Field,Reason",
        f'3,BAD,{city.a1},gend,"must be one of 1, 2 (got 9)"',
    ]
    # The same table as XLSX: by its own URL, or by format= on the path without an extension;
    # the row number a number, the texts as text.
    for xlsx_url in (res["batch"]["errorsXlsxUrl"], url.removesuffix(".csv") + "?format=xlsx"):
        x = await api.client.get(xlsx_url, headers=auth)
        assert x.status_code == 200, x.text
        assert x.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        assert f'filename="batch-{batch_id}-errors.xlsx"' in x.headers["content-disposition"]
        sheet = load_workbook(io.BytesIO(x.content)).active
        assert sheet.title == f"批次 {batch_id[:8]} 拒收行"
        assert list(sheet.iter_rows(values_only=True)) == [
            ("行号", "结算清单流水号", "定点医药机构编号", "字段", "原因"),
            (3, "BAD", city.a1, "性别(gend)", "应为 1、2 之一（实际为 9）"),
        ]
    # errors.csv is CSV: a format= that disagrees is refused, naming the field.
    clash = await api.client.get(url + "?format=xlsx", headers=auth)
    assert clash.status_code == 400 and clash.json()["errors"][0]["field"] == "format"
    # An XLSX is built in memory: a batch of more refused rows than refused.XLSX_MAX_ROWS (here 0;
    # this batch has 1) is refused by field format, the CSV (which streams) offered instead.
    monkeypatch.setattr(refused, "XLSX_MAX_ROWS", 0)
    big = await api.client.get(res["batch"]["errorsXlsxUrl"], headers={**auth, "Accept-Language": "zh-CN"})
    (error,) = big.json()["errors"]
    assert big.status_code == 400 and error["field"] == "format" and "download format=csv" in error["reason"]
    # The refusal keeps its English reason and adds its code and the message in the asked language.
    assert error["code"] == "xlsx_at_most_refused_rows"
    assert error["message"] == "XLSX 最多容纳 0 条拒收行，本批次更多：请下载 format=csv"
    en_big = await api.client.get(res["batch"]["errorsXlsxUrl"], headers={**auth, "Accept-Language": "en-US,en;q=0.9"})
    assert en_big.json()["errors"][0]["message"] == error["reason"]
    assert (await api.client.get(url, headers=auth)).status_code == 200
    # Another region cannot download it.
    other = await api.client.get(
        res["batch"]["errorsCsvUrl"], headers={"Authorization": f"Bearer {api.token(Role.region_admin, [city.b])}"}
    )
    assert other.status_code == 404


def test_the_refused_rows_name_the_ids_as_the_input_layout_does():
    # The list id and hospital columns carry the input's setl_id and fixmedins_code: the same
    # Chinese names as the layout's (cases.layout), in the file's order.
    names = {column: zh for column, zh, _, _ in LAYOUT}
    assert [c.zh for c in refused.COLUMNS[1:3]] == [names["setl_id"], names["fixmedins_code"]]
    assert [c.key for c in refused.COLUMNS] == ["row_no", "list_id", "row_hospital", "field", "reason"]


async def test_upload_permissions(api, city, dispatcher):
    data = csv_bytes([row("P1", city.a1)])
    for token in (
        api.token(Role.region_viewer, [city.a]),
        api.token(Role.expert, [city.a]),
        api.token(Role.region_admin, [city.b]),
    ):
        res = await upload(api, token, city.a, data, "perm")
        assert res["__typename"] == "PermissionDenied", res
    res = await upload(api, api.token(Role.region_admin, [city.a]), city.a, data, "perm", filename="cases.txt")
    assert res["__typename"] == "ValidationError" and "name it .csv or .jsonl" in res["message"]


async def test_streaming_path_for_integrators(api, db, owner_db, city, dispatcher):
    from dianshu_tenants.provisioning import ensure_service_account

    await ensure_service_account(owner_db, f"svc-s-{city.a}", "team", [city.a])
    token = api.token(Role.integrator, [city.a], sa=f"svc-s-{city.a}")
    data = csv_bytes([row("S1", city.a1), row("S2", city.a2)])

    async def body():
        for i in range(0, len(data), 100):
            yield data[i : i + 100]

    r = await api.client.post(
        f"/ingest/{city.a}?filename=cases.csv&control_rows=2",
        content=body(),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "stream-1"},
    )
    assert r.status_code == 202, r.text
    import uuid

    assert await jobs.execute(db, city.a, uuid.UUID(r.json()["job"])) == "succeeded"
    r2 = await api.client.post(
        f"/ingest/{city.a}?filename=cases.csv&control_rows=2",
        content=data,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "stream-1"},
    )
    assert r2.status_code == 200 and r2.json()["batch"] == r.json()["batch"] and not r2.json()["created"]
    r3 = await api.client.post(
        f"/ingest/{city.a}?filename=cases.csv",
        content=csv_bytes([row("S3", city.a1)]),
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "stream-1"},
    )
    assert r3.status_code == 409
    r4 = await api.client.post(
        f"/ingest/{city.b}?filename=cases.csv",
        content=data,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "x"},
    )
    assert r4.status_code in (401, 403)
    assert (await api.client.post(f"/ingest/{city.a}", content=data)).status_code == 401


async def test_recall_through_the_api(api, db, city, dispatcher):
    a1 = api.token(Role.hospital_user, [city.a], city.a1)
    res = await upload(api, a1, city.a, csv_bytes([row("R1", city.a1)]), "rc")
    import uuid

    await jobs.execute(db, city.a, uuid.UUID(res["batch"]["jobId"]))
    m = """mutation($t: String!, $h: String!) { recallCase(tenant: $t, hospital: $h, listId: "R1", reason: "wrong code")
           { __typename ... on RecallPayload { case { status recallReason } } ... on ValidationError { message } } }"""
    out = await api.gql(a1, m, {"t": city.a, "h": city.a1})
    assert out["recallCase"] == {
        "__typename": "RecallPayload",
        "case": {"status": "recalled", "recallReason": "wrong code"},
    }
    a2 = api.token(Role.hospital_user, [city.a], city.a2)
    out = await api.gql(a2, m, {"t": city.a, "h": city.a1})
    assert out["recallCase"]["__typename"] == "NotFound"  # another hospital's case: not there for it
    versions = await api.gql(
        a1,
        'query($t: String!, $h: String!) { caseVersions(tenant: $t, hospital: $h, listId: "R1") '
        "{ nodes { version status } } }",
        {"t": city.a, "h": city.a1},
    )
    assert versions["caseVersions"]["nodes"] == [{"version": 1, "status": "recalled"}]
