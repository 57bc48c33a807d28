"""Ingestion end to end through the job (execute() as a worker would run it)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from dianshu.audit.models import AuditEntry
from dianshu.cases.ingest import BatchRequest
from dianshu.cases.models import CaseRecord, IngestionBatch, IngestionError
from dianshu.cases.service import submit_batch
from dianshu.db.session import scoped_session
from dianshu.jobs import service as jobs
from dianshu.jobs.errors import IdempotencyConflict
from dianshu.jobs.models import Job
from dianshu.scope import Role, Scope
from dianshu.settlement.runs.publish import recall_case
from tests.cases.rows import csv_bytes, jsonl_bytes, row
from tests.conftest import scope_for


async def send(db, scope, tenant, data: bytes, key: str, filename="cases.csv", **opts):
    sub = await submit_batch(
        db, scope, BatchRequest(tenant, filename, key, **opts), [data[i : i + 7000] for i in range(0, len(data), 7000)]
    )
    outcome = await jobs.execute(db, tenant, sub.job.id)
    async with scoped_session(db, Scope.system((tenant,))) as s:
        job = (await s.execute(select(Job).where(Job.id == sub.job.id))).scalar_one()
        batch = (await s.execute(select(IngestionBatch).where(IngestionBatch.id == sub.batch.id))).scalar_one()
    return sub, outcome, job.result, batch


async def cases(db, tenant, **where):
    async with scoped_session(db, Scope.system((tenant,))) as s:
        q = select(CaseRecord).where(CaseRecord.tenant_id == tenant).order_by(CaseRecord.list_id, CaseRecord.version)
        for k, val in where.items():
            q = q.where(getattr(CaseRecord, k) == val)
        return list((await s.execute(q)).scalars())


async def errors(db, tenant, batch_id):
    async with scoped_session(db, Scope.system((tenant,))) as s:
        rows = (
            await s.execute(
                select(IngestionError)
                .where(IngestionError.batch_id == batch_id)
                .order_by(IngestionError.row_no, IngestionError.seq)
            )
        ).scalars()
        return [(e.row_no, e.field, e.reason) for e in rows]


async def test_a_batch_sent_twice_changes_nothing(db, city, dispatcher):
    region = scope_for(Role.region_admin, (city.a,))
    data = csv_bytes([row("L1", city.a1), row("L2", city.a2, gend="2")])
    sub, outcome, result, batch = await send(db, region, city.a, data, "k1")
    assert outcome == "succeeded" and result["accepted"] == 2 and batch.status == "done"
    again = await submit_batch(db, region, BatchRequest(city.a, "cases.csv", "k1"), [data])
    assert not again.created and again.batch.id == sub.batch.id and again.job.id == sub.job.id
    assert await jobs.execute(db, city.a, sub.job.id) == "already-final"
    # The same file under a new key: every row unchanged.
    _, _, result2, _ = await send(db, region, city.a, data, "k2")
    assert (result2["accepted"], result2["unchanged"], result2["refused"]) == (0, 2, 0)
    assert len(await cases(db, city.a)) == 2
    # A stored case keeps every value exactly.
    c = (await cases(db, city.a, list_id="L1"))[0]
    assert (c.total_cost, c.fund_pay, c.self_pay, c.own_pay) == (
        Decimal("8000.00"),
        Decimal("6000.00"),
        Decimal("1500.00"),
        Decimal("500.00"),
    )
    assert c.diagnoses == ["J18.900", "I10.x00x002"] and c.version == 1 and c.is_current and c.status == "active"


async def test_same_key_other_content_is_refused(db, city, dispatcher):
    region = scope_for(Role.region_admin, (city.a,))
    await send(db, region, city.a, csv_bytes([row("L1", city.a1)]), "k")
    with pytest.raises(IdempotencyConflict, match="'k'"):
        await submit_batch(db, region, BatchRequest(city.a, "cases.csv", "k"), [csv_bytes([row("L9", city.a1)])])


async def test_a_correction_keeps_the_earlier_version(db, city, dispatcher):
    region = scope_for(Role.region_admin, (city.a,))
    await send(db, region, city.a, csv_bytes([row("L1", city.a1)]), "first")
    changed = row("L1", city.a1, diag_codes="J18.900|I50.900", adm_cond_types="1|3")
    # Without the correction flag, other content for an accepted list id is refused.
    _, _, result, batch = await send(db, region, city.a, csv_bytes([changed]), "second")
    assert result["refused"] == 1
    assert await errors(db, city.a, batch.id) == [
        (
            1,
            "correction",
            "list id L1 was already accepted with other content (version 1); send it with correction=1 to replace it",
        )
    ]
    _, _, result, _ = await send(db, region, city.a, csv_bytes([{**changed, "correction": "1"}]), "third")
    assert (result["accepted"], result["corrected"]) == (0, 1)
    versions = await cases(db, city.a, list_id="L1")
    assert [(c.version, c.is_current, c.status) for c in versions] == [(1, False, "superseded"), (2, True, "active")]
    assert versions[0].diagnoses == ["J18.900", "I10.x00x002"], "the earlier version is kept unchanged"
    assert versions[1].diagnoses == ["J18.900", "I50.900"]
    # A correction of something never accepted is refused.
    _, _, result, batch = await send(db, region, city.a, csv_bytes([row("L404", city.a1, correction="1")]), "fourth")
    assert await errors(db, city.a, batch.id) == [
        (1, "correction", "correction of list id L404, which was never accepted")
    ]


async def test_a_recall_removes_the_case_from_later_results_and_keeps_it(db, city, dispatcher):
    hospital = scope_for(Role.hospital_user, (city.a,), city.a1)
    await send(db, hospital, city.a, csv_bytes([row("L1", city.a1), row("L2", city.a1)]), "b")
    async with scoped_session(db, hospital) as s:
        await recall_case(s, hospital, city.a, city.a1, "L1", "coded wrongly, will resend")
    async with scoped_session(db, hospital) as s:
        again = await recall_case(s, hospital, city.a, city.a1, "L1", "retry")  # safe to retry
    assert again.status == "recalled"
    active = await cases(db, city.a, status="active", is_current=True)
    assert [c.list_id for c in active] == ["L2"]
    assert [c.status for c in await cases(db, city.a, list_id="L1")] == ["recalled"]
    from dianshu.cases.service import RecallRefused

    with pytest.raises(RecallRefused, match="not yours"):
        async with scoped_session(db, scope_for(Role.hospital_user, (city.a,), city.a2)) as s:
            await recall_case(s, scope_for(Role.hospital_user, (city.a,), city.a2), city.a, city.a1, "L2", "x")


async def test_bad_rows_are_refused_by_number_while_good_rows_are_kept(db, city, dispatcher):
    region = scope_for(Role.region_admin, (city.a,))
    rows = [
        row("G1", city.a1),
        row("B1", city.a1, gend="9"),
        row("G2", city.a2),
        row("B2", city.a1, med_chrgitm_03="901.00"),
        row("G1", city.a1),
    ]
    _, _, result, batch = await send(db, region, city.a, csv_bytes(rows), "mixed")
    assert (result["rows"], result["accepted"], result["refused"]) == (5, 2, 3)
    assert await errors(db, city.a, batch.id) == [
        (2, "gend", "must be one of 1, 2 (got 9)"),
        (4, "medfee_sumamt", "the 14 charge categories sum to 8001.00, not 8000.00"),
        (5, "setl_id", f"list id G1 of {city.a1} appears again in this batch (first at row 1)"),
    ]
    assert [c.list_id for c in await cases(db, city.a)] == ["G1", "G2"]
    # The same rows sent all-or-nothing: nothing is accepted.
    rows2 = [row("N1", city.a1), row("N2", city.a1, gend="9")]
    _, _, result, batch = await send(db, region, city.a, csv_bytes(rows2), "whole", mode="all_or_nothing")
    assert batch.status == "refused" and result["accepted"] == 0 and "all-or-nothing" in batch.reason
    assert await errors(db, city.a, batch.id) == [(2, "gend", "must be one of 1, 2 (got 9)")]
    assert [c.list_id for c in await cases(db, city.a)] == ["G1", "G2"]


async def test_a_hospital_cannot_ingest_into_another_hospital(db, city, dispatcher):
    a1 = scope_for(Role.hospital_user, (city.a,), city.a1)
    _, _, result, batch = await send(
        db, a1, city.a, csv_bytes([row("X1", city.a1), row("X2", city.a2), row("X3", city.b1)]), "cross"
    )
    assert (result["accepted"], result["refused"]) == (1, 2)
    errs = await errors(db, city.a, batch.id)
    assert [(n, f) for n, f, _ in errs] == [(2, "fixmedins_code"), (3, "fixmedins_code")]
    assert errs[0][2] == f"hospital {city.a2} is not a hospital of {city.a} within your scope"
    assert [(c.list_id, c.hospital_id) for c in await cases(db, city.a)] == [("X1", city.a1)]
    async with scoped_session(db, Scope.system((city.a,))) as s:
        entry = (
            await s.execute(
                select(AuditEntry).where(
                    AuditEntry.action == "cases.ingest.refused_hospital", AuditEntry.target == f"batch:{batch.id}"
                )
            )
        ).scalar_one()
    assert entry.details["hospitals"] == {city.a2: 1, city.b1: 1} and entry.hospital_id == city.a1


async def test_control_totals_are_checked(db, city, dispatcher):
    region = scope_for(Role.region_admin, (city.a,))
    data = csv_bytes([row("C1", city.a1), row("C2", city.a1)])
    _, _, result, batch = await send(db, region, city.a, data, "ctl1", control_rows=3)
    assert batch.status == "refused" and batch.reason == "control row count 3 but the file has 2 rows"
    _, _, result, batch = await send(
        db, region, city.a, data, "ctl2", control_rows=2, control_total=Decimal("16000.01")
    )
    assert batch.reason == "control total cost 16000.01 but the rows sum to 16000.00"
    _, _, result, batch = await send(
        db, region, city.a, data, "ctl3", control_rows=2, control_total=Decimal("16000.00")
    )
    assert batch.status == "done" and result["accepted"] == 2


@pytest.mark.parametrize(("fmt", "gz"), [("csv", True), ("jsonl", False), ("jsonl", True)])
async def test_formats(db, city, dispatcher, fmt, gz):
    region = scope_for(Role.region_admin, (city.a,))
    rows = [row("F1", city.a1), row("F2", city.a1)]
    if fmt == "jsonl":
        rows[1] = {**rows[1], "diag_codes": ["J18.900", "I10.x00x002"], "adm_cond_types": ["1", "1"]}
        data, name = jsonl_bytes(rows, gz), "cases.jsonl" + (".gz" if gz else "")
    else:
        data, name = csv_bytes(rows, gz), "cases.csv.gz"
    _, _, result, _ = await send(db, region, city.a, data, f"fmt-{fmt}-{gz}", filename=name)
    assert result["accepted"] == 2, result
    # The same content through another format is unchanged (content hashed by value, not bytes).
    _, _, result, _ = await send(db, region, city.a, csv_bytes(rows[:1]), f"fmt2-{fmt}-{gz}")
    assert result["unchanged"] == 1


async def test_a_file_that_cannot_be_read_refuses_the_batch(db, city, dispatcher):
    region = scope_for(Role.region_admin, (city.a,))
    bad_header = b"setl_id,fixmedins_code,bogus\nL1,H,x\n"
    _, _, _, batch = await send(db, region, city.a, bad_header, "hdr")
    assert batch.status == "refused" and "header: unknown column(s) bogus" in batch.reason
    _, _, _, batch = await send(db, region, city.a, b"\x1f\x8bnot gzip at all", "gz", filename="x.csv.gz")
    assert batch.status == "refused" and "not a valid gzip file" in batch.reason
    async with scoped_session(db, Scope.system((city.a,))) as s:
        assert (await s.execute(select(func.count()).select_from(CaseRecord))).scalar() == 0


async def test_awkward_text_survives_exactly(db, city, dispatcher):
    """Values go to staging in COPY text format: backslashes, quotes, braces and NULL must survive
    (tabs and other control characters are refused in validation)."""
    region = scope_for(Role.region_admin, (city.a,))
    dept = 'ICU "东院"\\{1},2 NULL'
    _, _, result, _ = await send(
        db,
        region,
        city.a,
        jsonl_bytes([{**row("Q1", city.a1), "dscg_caty": dept, "medcasno": "MR\\N"}]),
        "awk",
        filename="x.jsonl",
    )
    assert result["accepted"] == 1
    c = (await cases(db, city.a, list_id="Q1"))[0]
    assert c.discharge_dept == dept and c.mrn == "MR\\N"
    # Sent again: recognised as the same content.
    _, _, again, _ = await send(
        db,
        region,
        city.a,
        jsonl_bytes([{**row("Q1", city.a1), "dscg_caty": dept, "medcasno": "MR\\N"}]),
        "awk2",
        filename="x.jsonl",
    )
    assert again["unchanged"] == 1
