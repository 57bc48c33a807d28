"""The national monthly upload through the job, the API and the downloads: a re-export is byte
for byte the same and writes nothing; a correction and a recall after an export are pending for
the next upload and flagged in it; the file follows the field table; a hospital reads none of a
region file and only its own lists; another region nothing."""

from __future__ import annotations

import hashlib
import io
import json
import uuid

from sqlalchemy import func, inspect, select

from dianshu.audit.models import AuditEntry
from dianshu.db.session import scoped_session
from dianshu.national import service
from dianshu.national.models import NationalExport, NationalExportItem
from dianshu.scope import Role, Scope
from dianshu.settlement.runs.publish import recall_case
from tests.api import Api
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import send
from tests.conftest import scope_for
from tests.national.layout_check import check_file
from tests.settlement.world import run_job

EXPORT = service.NATIONAL_EXPORT


async def counts(db, tenant):
    async with scoped_session(db, Scope.system((tenant,))) as s:
        exports = (await s.execute(select(func.count()).select_from(NationalExport))).scalar()
        audits = (
            await s.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "national.exported")
            )
        ).scalar()
    return exports, audits


async def stored(db, tenant, export_id):
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return await service.export_by_id(s, tenant, export_id, with_content=True)


def flags(content: bytes) -> list[tuple[str, str, str]]:
    out = []
    for ln in content.decode("utf-8").splitlines():
        obj = json.loads(ln)
        out.append((obj["setlinfo"]["fixmedins_code"], obj["setlinfo"]["setl_id"], obj["upld_flag"]))
    return out


async def test_monthly_upload_re_export_corrections_and_isolation(settings, db, city, dispatcher):
    region = scope_for(Role.region_admin, (city.a,))
    a1_rows = [row("L1", city.a1, chfpdr_code="D01"), row("L2", city.a1)]
    await send(db, region, city.a, csv_bytes([*a1_rows, row("L3", city.a2)]), "nat-1")

    # The first upload of 2024-03: three lists, all flagged 0, lines by hospital then list id.
    first = await run_job(db, region, city.a, EXPORT, {"month": "2024-03"})
    assert (first["seq"], first["lists"], first["first_upload"], first["unchanged"]) == (1, 3, 3, False)
    e1 = await stored(db, city.a, uuid.UUID(first["export_id"]))
    assert e1.sha256 == hashlib.sha256(e1.content).hexdigest() == first["sha256"]
    assert e1.file_name == f"4101A_{city.a}_202403_01.jsonl" and e1.created_by == "test-region_admin"
    assert flags(e1.content) == [(city.a1, "L1", "0"), (city.a1, "L2", "0"), (city.a2, "L3", "0")]
    assert check_file(e1.content) == []
    assert '"chfpdr_code":"D01"' in e1.content.decode().splitlines()[0]
    assert await counts(db, city.a) == (1, 1)

    # A re-export of the same data: the same bytes, and nothing written (no log row, no audit).
    again = await run_job(db, region, city.a, EXPORT, {"month": "2024-03"})
    assert again["unchanged"] is True and again["export_id"] == first["export_id"]
    assert again["sha256"] == first["sha256"]
    async with scoped_session(db, Scope.system((city.a,))) as s:
        rebuilt, _ = await service.build_month(s, city.a, e1.month)
    assert rebuilt.content == e1.content
    assert await counts(db, city.a) == (1, 1)

    # A correction of L1 and a recall of L3 after the export: pending for the next upload.
    await send(db, region, city.a, csv_bytes([row("L1", city.a1, dscg_caty="心内科", correction="1")]), "nat-2")
    async with scoped_session(db, region) as s:
        await recall_case(s, region, city.a, city.a2, "L3", "duplicate")
    async with scoped_session(db, region) as s:
        pending = await service.pending(s, city.a, 2024)
    assert [(f"{p.month:%Y-%m}", p.corrected, p.withdrawn, p.added) for p in pending] == [("2024-03", 1, 1, 0)]

    # The next upload of the month flags them: L1 1 (its new version), L2 0, L3 2 (as it was sent).
    second = await run_job(db, region, city.a, EXPORT, {"month": "2024-03"})
    assert (second["seq"], second["lists"], second["first_upload"], second["corrected"], second["withdrawn"]) == (
        2,
        3,
        1,
        1,
        1,
    )
    e2 = await stored(db, city.a, uuid.UUID(second["export_id"]))
    assert e2.file_name.endswith("_202403_02.jsonl") and e2.sha256 != e1.sha256
    assert flags(e2.content) == [(city.a1, "L1", "1"), (city.a1, "L2", "0"), (city.a2, "L3", "2")]
    assert '"dscg_caty":"心内科"' in e2.content.decode().splitlines()[0]
    assert check_file(e2.content) == []
    async with scoped_session(db, region) as s:
        assert await service.pending(s, city.a, 2024) == []
    # ... and exporting it again is the same bytes once more (flags are against the first upload).
    third = await run_job(db, region, city.a, EXPORT, {"month": "2024-03"})
    assert third["unchanged"] is True and third["export_id"] == second["export_id"]
    assert await counts(db, city.a) == (2, 2)

    # Row-level security: hospital A2 sees no region file and only its own lists; region B nothing.
    a2 = scope_for(Role.hospital_user, (city.a,), city.a2)
    async with scoped_session(db, a2) as s:
        assert (await s.execute(select(func.count()).select_from(NationalExport))).scalar() == 0
        own = (await s.execute(select(NationalExportItem.hospital_id, NationalExportItem.list_id))).all()
        assert sorted(set(own)) == [(city.a2, "L3")]
    async with scoped_session(db, scope_for(Role.region_admin, (city.b,))) as s:
        assert (await s.execute(select(func.count()).select_from(NationalExportItem))).scalar() == 0

    # Through the API: the log, the items, the pending list and the downloads.
    api = Api(settings, db)
    region_t = api.token(Role.region_admin, [city.a])
    q = """query($t: String!) { nationalExports(tenant: $t) { nodes { id month seq lists corrected withdrawn
      sha256 createdBy downloadUrl } } nationalUploadPending(tenant: $t, year: 2024) { month } }"""
    data = await api.gql(region_t, q, {"t": city.a})
    log = data["nationalExports"]["nodes"]
    assert [(x["seq"], x["lists"], x["corrected"], x["withdrawn"]) for x in log] == [(2, 3, 1, 1), (1, 3, 0, 0)]
    assert data["nationalUploadPending"] == []
    headers = {"Authorization": f"Bearer {region_t}"}
    f = await api.client.get(log[0]["downloadUrl"], headers=headers)
    assert f.status_code == 200 and f.content == e2.content
    assert f.headers["x-checksum-sha256"] == e2.sha256
    assert "4101A_" in f.headers["content-disposition"]
    csv_log = await api.client.get(f"/downloads/national-exports/{city.a}/log", headers=headers)
    assert csv_log.status_code == 200 and csv_log.content.startswith(b"\xef\xbb\xbf")
    head, *lines = csv_log.content.decode("utf-8-sig").splitlines()
    assert head.startswith("结算月份,批次,文件名,清单数,首次上传,更正,撤回") and len(lines) == 2
    assert lines[0].startswith(f"2024-03,2,4101A_{city.a}_202403_02.jsonl,3,1,1,1,")
    en = await api.client.get(f"/downloads/national-exports/{city.a}/log?lang=en&format=xlsx", headers=headers)
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(en.content)).active
    assert [c.value for c in ws[1]][:3] == ["Month", "Seq", "File name"] and ws.max_row == 3
    bad = await api.client.get(f"/downloads/national-exports/{city.a}/log?month=2024-13", headers=headers)
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "month"

    hosp = api.token(Role.hospital_user, [city.a], city.a2)
    hh = {"Authorization": f"Bearer {hosp}"}
    assert (await api.client.get(log[0]["downloadUrl"], headers=hh)).status_code == 403
    assert (await api.client.get(f"/downloads/national-exports/{city.a}/log", headers=hh)).status_code == 403
    items = await api.client.get(f"/downloads/national-exports/{city.a}/items?month=2024-03", headers=hh)
    assert items.status_code == 200
    assert [ln.split(",")[2:] for ln in items.content.decode("utf-8-sig").splitlines()[1:]] == [
        [city.a2, "L3", "0 首次上传"],
        [city.a2, "L3", "2 撤回"],
    ]
    mine = await api.gql(
        hosp,
        'query($t: String!) { nationalUploadItems(tenant: $t, month: "2024-03") { nodes { hospitalCode listId '
        "seq flag } } }",
        {"t": city.a},
    )
    assert [(n["hospitalCode"], n["seq"], n["flag"]) for n in mine["nationalUploadItems"]["nodes"]] == [
        (city.a2, 1, "first_upload"),
        (city.a2, 2, "withdrawn"),
    ]
    none = await api.gql(
        hosp,
        "query($t: String!) { nationalExports(tenant: $t) { nodes { id } } nationalUploadPending(tenant: $t, "
        "year: 2024) { month } }",
        {"t": city.a},
    )
    assert none == {"nationalExports": {"nodes": []}, "nationalUploadPending": []}
    assert (await api.gql(hosp, "query($i: ID!) { node(id: $i) { id } }", {"i": log[0]["id"]}))["node"] is None
    other = api.token(Role.region_admin, [city.b])
    assert (
        await api.client.get(log[0]["downloadUrl"], headers={"Authorization": f"Bearer {other}"})
    ).status_code == 403
    # A hospital may not run the export; a bad month is refused by field.
    m = """mutation($t: String!, $m: String!) { exportNationalUpload(tenant: $t, month: $m) {
      __typename ... on ValidationError { errors { field reason } } } }"""
    assert (await api.gql(hosp, m, {"t": city.a, "m": "2024-03"}))["exportNationalUpload"]["__typename"] == (
        "PermissionDenied"
    )
    refused = (await api.gql(region_t, m, {"t": city.a, "m": "2024-3"}))["exportNationalUpload"]
    assert refused["__typename"] == "ValidationError" and refused["errors"][0]["field"] == "month"
    ok = (await api.gql(region_t, m, {"t": city.a, "m": "2024-03"}))["exportNationalUpload"]
    assert ok["__typename"] == "NationalExportJobPayload"


async def test_late_list_correction_and_recall(settings, db, city, dispatcher):
    """A list first sent in the month's second file is compared with that file, not with seq 1:
    seq 1 [L1 0]; seq 2 adds L2 [L1 0, L2 0]; L2 corrected -> seq 3 [L1 0, L2 1]; L2 recalled
    -> pending (0 corrected, 1 withdrawn, 0 added), seq 4 [L1 0, L2 2]; pending empty; L1
    corrected -> seq 5 [L1 1, L2 2] (the withdrawn line stays in every later file of the month, so
    a re-export of seq 5 is the same bytes)."""
    region = scope_for(Role.region_admin, (city.a,))
    await send(db, region, city.a, csv_bytes([row("L1", city.a1)]), "late-1")
    r1 = await run_job(db, region, city.a, EXPORT, {"month": "2024-03"})
    assert flags((await stored(db, city.a, uuid.UUID(r1["export_id"]))).content) == [(city.a1, "L1", "0")]
    await send(db, region, city.a, csv_bytes([row("L2", city.a1)]), "late-2")
    r2 = await run_job(db, region, city.a, EXPORT, {"month": "2024-03"})
    assert flags((await stored(db, city.a, uuid.UUID(r2["export_id"]))).content) == [
        (city.a1, "L1", "0"),
        (city.a1, "L2", "0"),
    ]

    await send(db, region, city.a, csv_bytes([row("L2", city.a1, dscg_caty="心内科", correction="1")]), "late-3")
    r3 = await run_job(db, region, city.a, EXPORT, {"month": "2024-03"})
    e3 = await stored(db, city.a, uuid.UUID(r3["export_id"]))
    assert (r3["seq"], r3["first_upload"], r3["corrected"], r3["withdrawn"]) == (3, 1, 1, 0)
    assert flags(e3.content) == [(city.a1, "L1", "0"), (city.a1, "L2", "1")]

    async with scoped_session(db, region) as s:
        await recall_case(s, region, city.a, city.a1, "L2", "duplicate")
    async with scoped_session(db, region) as s:
        pending = await service.pending(s, city.a, 2024)
    assert [(f"{p.month:%Y-%m}", p.corrected, p.withdrawn, p.added) for p in pending] == [("2024-03", 0, 1, 0)]
    r4 = await run_job(db, region, city.a, EXPORT, {"month": "2024-03"})
    e4 = await stored(db, city.a, uuid.UUID(r4["export_id"]))
    assert (r4["seq"], r4["lists"], r4["withdrawn"]) == (4, 2, 1)
    assert flags(e4.content) == [(city.a1, "L1", "0"), (city.a1, "L2", "2")]
    # The withdrawn line repeats the version last sent (seq 3's corrected L2).
    assert (
        e4.content.decode().splitlines()[1].replace('"upld_flag":"2"', '"upld_flag":"1"')
        == (e3.content.decode().splitlines()[1])
    )
    assert check_file(e4.content) == []
    async with scoped_session(db, region) as s:
        assert await service.pending(s, city.a, 2024) == []
    assert (await run_job(db, region, city.a, EXPORT, {"month": "2024-03"}))["unchanged"] is True

    await send(db, region, city.a, csv_bytes([row("L1", city.a1, dscg_caty="心内科", correction="1")]), "late-4")
    r5 = await run_job(db, region, city.a, EXPORT, {"month": "2024-03"})
    e5 = await stored(db, city.a, uuid.UUID(r5["export_id"]))
    assert flags(e5.content) == [(city.a1, "L1", "1"), (city.a1, "L2", "2")]
    again = await run_job(db, region, city.a, EXPORT, {"month": "2024-03"})
    assert again["unchanged"] is True and again["export_id"] == r5["export_id"]
    async with scoped_session(db, Scope.system((city.a,))) as s:
        rebuilt, _ = await service.build_month(s, city.a, e5.month)
    assert rebuilt.content == e5.content


async def test_the_export_log_reads_no_file_bytes(settings, db, city, dispatcher):
    """The log's reads leave each file's bytes unloaded (content is deferred); the download asks."""
    region = scope_for(Role.region_admin, (city.a,))
    await send(db, region, city.a, csv_bytes([row("L1", city.a1)]), "log-1")
    r = await run_job(db, region, city.a, EXPORT, {"month": "2024-03"})
    async with scoped_session(db, region) as s:
        (e,) = await service.exports(s, city.a)
        assert "content" in inspect(e).unloaded and e.sha256 == r["sha256"]
        one = await service.export_by_id(s, city.a, e.id)
        assert "content" in inspect(one).unloaded
    full = await stored(db, city.a, e.id)
    assert hashlib.sha256(full.content).hexdigest() == r["sha256"]


async def test_concurrent_exports_of_a_month_write_one_file(settings, db, city, dispatcher):
    """Two exports of the same region and month at once: the advisory lock makes the second wait
    for the first and then find the same bytes (unchanged), so one file (seq 1) and one audit."""
    import asyncio

    from dianshu.jobs import service as jobs

    region = scope_for(Role.region_admin, (city.a,))
    await send(db, region, city.a, csv_bytes([row("L1", city.a1), row("L2", city.a2)]), "conc-1")
    ids = []
    for _ in range(2):
        async with scoped_session(db, region) as s:
            job, _ = await jobs.submit(s, db, region, city.a, EXPORT, {"month": "2024-03"})
        ids.append(job.id)
    assert ids[0] != ids[1]
    outcomes = await asyncio.gather(*(jobs.execute(db, city.a, i) for i in ids))
    assert outcomes == ["succeeded", "succeeded"]
    assert await counts(db, city.a) == (1, 1)
