"""Hostile but legitimate input through the real ingestion (submit, then the job as a worker runs
it): each refusal is exact (status, row, field, reason), a bad row never takes the good row of
the same batch down with it, and the good row lands with its values unchanged. A file that cannot
be trusted to be complete is refused whole, with nothing merged."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from dianshu.cases.ingest import BatchRequest
from dianshu.cases.models import IngestionBatch
from dianshu.cases.pseudonym import pseudonym
from dianshu.cases.service import submit_batch
from dianshu.db.session import scoped_session
from dianshu.jobs import service as jobs
from dianshu.jobs.errors import IdempotencyConflict
from dianshu.jobs.models import Job
from dianshu.scope import Role, Scope
from tests.api import Api
from tests.cases.rows import csv_bytes, jsonl_bytes, row
from tests.cases.test_ingestion import cases, errors, send
from tests.conftest import PSN_KEY, scope_for

KIB = 1024


def good(h: str) -> dict[str, str]:
    return row("G1", h)


def bad(h: str, **over) -> dict[str, str]:
    return row("B1", h, **over)


def as_csv(**over) -> Callable[[str], tuple[bytes, str]]:
    return lambda h: (csv_bytes([good(h), bad(h, **over)]), "cases.csv")


def as_jsonl(**over) -> Callable[[str], tuple[bytes, str]]:
    # JSON values as given (objects, arrays, numbers), not stringified.
    return lambda h: (jsonl_bytes([good(h), {**bad(h), **over}]), "cases.jsonl")


def raw_jsonl(bad_line: str) -> Callable[[str], tuple[bytes, str]]:
    return lambda h: (jsonl_bytes([good(h)]) + bad_line.replace("HOSP", h).encode() + b"\n", "cases.jsonl")


def many(h: str, n: int = 2000) -> list[dict[str, str]]:
    return [row(f"T{i:04d}", h) for i in range(n)]


@dataclass(frozen=True)
class Row:
    """A batch of the good row G1 and one bad row (row 2), refused for `reason` in `field`."""

    name: str
    build: Callable[[str], tuple[bytes, str]]
    field: str
    reason: str
    row_no: int = 2


@dataclass(frozen=True)
class File:
    """A file refused as a whole: the batch `status` with `reason` in it, nothing merged."""

    name: str
    build: Callable[[str], tuple[bytes, str]]
    reason: str
    status: str = "refused"
    extra: dict = field(default_factory=dict)


ROW_CASES = [
    Row("NUL byte in medcasno", as_csv(medcasno="MR\x00B1"), "medcasno", "control character (U+0000) at position 3"),
    Row("NUL byte in a department", as_csv(dscg_caty="呼吸\x00内科"), "dscg_caty", "control character (U+0000)"),
    Row("ESC in medcasno", as_csv(medcasno="MR\x1b[31mB1"), "medcasno", "control character (U+001B) at position 3"),
    Row("tab in medcasno", as_jsonl(medcasno="MR\tB1"), "medcasno", "control character (U+0009)"),
    Row(
        "lone surrogate (JSON escape)",
        raw_jsonl(json.dumps({**bad("HOSP"), "medcasno": "MRXX"}).replace("MRXX", "MR\\ud800")),
        "medcasno",
        "control character (U+D800)",
    ),
    Row(
        "amount of 10^12 yuan",
        as_csv(medfee_sumamt="1000000000000.00"),
        "medfee_sumamt",
        "must be less than 10,000,000,000 yuan (got 1000000000000.00)",
    ),
    Row(
        "amount of exactly 10^10 yuan (NUMERIC(12,2) holds less)",
        as_csv(psn_ownpay="10000000000"),
        "psn_ownpay",
        "must be less than 10,000,000,000 yuan (got 10000000000)",
    ),
    Row(
        "amount with 3 decimals is not rounded",
        as_csv(psn_ownpay="500.005"),
        "psn_ownpay",
        "has more than 2 decimal places (got 500.005)",
    ),
    Row(
        "amount in exponent form",
        raw_jsonl(json.dumps(bad("HOSP")).replace('"psn_ownpay": "500.00"', '"psn_ownpay": 5E+2')),
        "psn_ownpay",
        "must be an amount in yuan (got '5E+2')",
    ),
    Row("JSON NaN", raw_jsonl('{"setl_id": "B1", "medfee_sumamt": NaN}'), "row", "not valid JSON: NaN is not a number"),
    Row(
        "field over 128 KiB",
        as_csv(dscg_caty="科" * (128 * KIB + 1)),
        "dscg_caty",
        "longer than 50 characters (131,073)",
    ),
    Row(
        "line over 1 MiB",
        as_csv(dscg_caty="x" * (1 << 20)),
        "row",
        "the line is longer than 1,048,576 characters",
    ),
    Row(
        "bare CR inside a CRLF file's row",
        lambda h: (
            csv_bytes([good(h)]).replace(b"\n", b"\r\n")
            + csv_bytes([bad(h)]).split(b"\n", 1)[1].replace(b"B1,", b"B1\rX,", 1).replace(b"\n", b"\r\n"),
            "cases.csv",
        ),
        "row",
        "cannot be read as CSV: a carriage return (CR) inside the line",
    ),
    Row(
        "stray quote refuses only its own row",
        lambda h: (csv_bytes([good(h), bad(h)]).replace(b"MRB1", b'"MR"B1', 1), "cases.csv"),
        "row",
        "cannot be read as CSV: ',' expected after '\"'",
    ),
    Row("discharge in 2099", as_csv(dscg_time="2099-03-06 10:00"), "dscg_time", "2099-03-06 10:00 is in the future"),
    Row(
        "discharge 9999-12-31",
        as_csv(dscg_time="9999-12-31 23:59:59"),
        "dscg_time",
        "9999-12-31 23:59:59 is in the future",
    ),
    Row("admission in 2099", as_csv(adm_time="2099-03-01 09:00"), "adm_time", "2099-03-01 09:00 is in the future"),
    Row("birth before 1900", as_csv(brdy="1899-12-31"), "brdy", "1899-12-31 is before 1900-01-01"),
    Row(
        "procedure date with trailing text",
        as_csv(oprn_oprt_codes="47.0100", oprn_oprt_dates="2024-03-02garbage", oprn_oprt_lvs="2"),
        "oprn_oprt_dates",
        "procedure 1: not a date '2024-03-02garbage'",
    ),
    Row(
        "nwb_age on a 65-year-old",
        as_csv(age="65", nwb_age="30"),
        "nwb_age",
        "given for a patient aged 65 years: only for patients under one year (age 0)",
    ),
    Row(
        "birth weight on a 65-year-old",
        as_csv(age="65", nwb_bir_wt="3100"),
        "nwb_bir_wt",
        "given for a patient aged 65 years",
    ),
    Row("age 151", as_csv(age="151"), "age", "must be between 0 and 150 (got 151)"),
    Row("nwb_age 366", as_csv(age="0", nwb_age="366"), "nwb_age", "must be between 0 and 365 (got 366)"),
    Row("birth weight 50 g", as_csv(age="0", nwb_bir_wt="50"), "nwb_bir_wt", "must be between 100 and 10000 (got 50)"),
    Row("fullwidth digits in age", as_csv(age="６４"), "age", "must be a whole number (got '６４')"),
    Row("age with underscore", as_csv(age="6_4"), "age", "must be a whole number (got '6_4')"),
    Row(
        "object in a scalar JSONL field",
        as_jsonl(medcasno={"a": 1}),
        "medcasno",
        "must be a single value, not an object",
    ),
    Row(
        "array in a scalar JSONL field", as_jsonl(psn_no=["P1", "P2"]), "psn_no", "must be a single value, not an array"
    ),
    Row(
        "object inside a multi-valued field",
        as_jsonl(diag_codes=["J18.900", {"x": 1}]),
        "diag_codes",
        "each item must be a single value, not an object",
    ),
    Row("JSON boolean", as_jsonl(correction=True), "correction", "must be a string or a number, not true/false"),
    Row(
        "duplicate JSON key",
        raw_jsonl('{"setl_id": "B1", "age": "64", "age": "1"}'),
        "row",
        "field age appears twice",
    ),
    Row("padded medcasno is not trimmed", as_csv(medcasno=" MRB1"), "medcasno", "has leading or trailing spaces"),
    Row(
        "padded code is not trimmed",
        as_csv(diag_codes="J18.900 |I10.x00x002"),
        "diag_codes",
        "has leading or trailing spaces",
    ),
    Row("medcasno of 41 characters", as_csv(medcasno="M" * 41), "medcasno", "longer than 40 characters (41)"),
    Row("setl_id of 31 characters", as_csv(setl_id="B" * 31), "setl_id", "longer than 30 characters (31)"),
    Row("psn_no of 41 characters", as_csv(psn_no="P" * 41), "psn_no", "longer than 40 characters (41)"),
    Row("department of 51 characters", as_csv(adm_caty="科" * 51), "adm_caty", "longer than 50 characters (51)"),
    Row(
        "code of 31 characters",
        as_csv(diag_codes="J18.900|" + "I" * 31),
        "diag_codes",
        "an item is longer than 30 characters (31)",
    ),
    Row(
        "51 diagnoses",
        as_csv(diag_codes="|".join(["J18.900"] * 51), adm_cond_types=""),
        "diag_codes",
        "51 items: at most 50",
    ),
    Row(
        "ICU hours longer than the stay",
        as_csv(scs_cutd_sum_dura="122"),  # 2024-03-01 09:00 to 03-06 10:00 is 121 hours
        "scs_cutd_sum_dura",
        "122.00 hours, longer than the stay (121.00 hours)",
    ),
    Row(
        "ventilation hours with 3 decimals are not rounded",
        as_csv(vent_used_dura="10.125"),
        "vent_used_dura",
        "has more than 2 decimal places (got 10.125)",
    ),
]


def _cut(data: bytes) -> bytes:
    return data[: len(data) // 2]


def _last_column(rows: list[dict[str, str]], last: str) -> bytes:
    """CSV of `rows` with the column `last` moved to the end (header order is free)."""
    header, *lines = csv_bytes(rows).decode().split("\n")[:-1]
    names = header.split(",")
    at = names.index(last)
    moved = [",".join([*f[:at], *f[at + 1 :], f[at]]) for f in (line.split(",") for line in [header, *lines])]
    return ("\n".join(moved) + "\n").encode()


# Row 2 is the last line in every such case.
NO_LINE_END = "file: the last line (row 2) has no line end (LF or CRLF): the file may be cut short"


FILE_CASES = [
    File(
        "CR-only line endings",
        lambda h: (csv_bytes([good(h), bad(h)]).replace(b"\n", b"\r"), "cases.csv"),
        "file: the header line holds a carriage return: the file has CR-only (old Mac) line endings",
    ),
    File(
        "truncated .csv.gz (2,000 rows cut in half)",
        lambda h: (_cut(csv_bytes(many(h), gz=True)), "cases.csv.gz"),
        "file: the compressed file is truncated: the gzip stream ends before its end marker",
    ),
    File(
        "truncated .jsonl.gz (2,000 rows cut in half)",
        lambda h: (_cut(jsonl_bytes(many(h), gz=True)), "cases.jsonl.gz"),
        "file: the compressed file is truncated: the gzip stream ends before its end marker",
    ),
    File(
        "corrupt gzip (checksum)",
        lambda h: (
            (lambda z: z[:-8] + bytes(b ^ 0xFF for b in z[-8:-4]) + z[-4:])(csv_bytes([good(h)], gz=True)),
            "cases.csv.gz",
        ),
        "file: not a valid gzip file: Error -3 while decompressing data: incorrect data check",
    ),
    File(
        "garbage after the gzip stream",
        lambda h: (csv_bytes([good(h)], gz=True) + b"garbage", "cases.csv.gz"),
        "file: not a valid gzip file: Error -3 while decompressing data: incorrect header check",
    ),
    File(
        "last line cut in plain csv (too few fields)",
        lambda h: (csv_bytes([good(h), bad(h)])[:-20], "cases.csv"),
        NO_LINE_END,
    ),
    File(
        "last line cut in plain csv (inside a quoted field)",
        lambda h: (
            csv_bytes([good(h), bad(h, adm_caty="东院,西院")]).split("东院,".encode())[0] + "东院".encode(),
            "cases.csv",
        ),
        NO_LINE_END,
    ),
    File(
        # The cut line still parses: medcasno last, `MRL2` cut to `MR`, 40 fields as the header.
        "last line cut in plain csv to a row that still parses (medcasno last, MRL2 cut to MR)",
        lambda h: (_last_column([good(h), row("L2", h)], "medcasno")[: -len(b"L2\n")], "cases.csv"),
        NO_LINE_END,
    ),
    File(
        "last line cut in jsonl",
        lambda h: (jsonl_bytes([good(h), bad(h)])[:-20], "cases.jsonl"),
        NO_LINE_END,
    ),
    File(
        "a whole last csv row without a line end",
        lambda h: (csv_bytes([good(h), bad(h)])[:-1], "cases.csv"),
        NO_LINE_END,
    ),
    File(
        "a whole last jsonl object without a line end",
        lambda h: (jsonl_bytes([good(h), bad(h)])[:-1], "cases.jsonl"),
        NO_LINE_END,
    ),
    File(
        "CRLF file whose last line ends with CR only",
        lambda h: (csv_bytes([good(h), bad(h)]).replace(b"\n", b"\r\n")[:-1], "cases.csv"),
        NO_LINE_END,
    ),
    File(
        # A complete gzip stream (end marker, CRC) of text without a final line end: the text may
        # have been cut before it was compressed, so the same rule holds (parsing.py).
        "complete .csv.gz whose text has no final line end",
        lambda h: (gzip.compress(csv_bytes([good(h), bad(h)])[:-1]), "cases.csv.gz"),
        NO_LINE_END,
    ),
    File(
        "complete .jsonl.gz whose text has no final line end",
        lambda h: (gzip.compress(jsonl_bytes([good(h), bad(h)])[:-1]), "cases.jsonl.gz"),
        NO_LINE_END,
    ),
    File(
        "header only, without a line end",
        lambda h: (csv_bytes([good(h)]).split(b"\n")[0], "cases.csv"),
        "file: the last line (the header) has no line end (LF or CRLF): the file may be cut short",
    ),
    File(
        "an over-long last line without a line end",
        lambda h: (jsonl_bytes([good(h)]) + b"x" * (2 << 20), "cases.jsonl"),
        NO_LINE_END,
    ),
]


async def _batch_of(db, tenant, batch_id):
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return (await s.execute(select(IngestionBatch).where(IngestionBatch.id == batch_id))).scalar_one()


def _good_values(c) -> dict:
    return {
        "mrn": c.mrn,
        "patient_id": c.patient_id,
        "age_years": c.age_years,
        "age_days": c.age_days,
        "admit_time": c.admit_time,
        "discharge_time": c.discharge_time,
        "discharge_dept": c.discharge_dept,
        "los_days": c.los_days,
        "diagnoses": c.diagnoses,
        "total_cost": c.total_cost,
        "fund_pay": c.fund_pay,
        "self_pay": c.self_pay,
        "own_pay": c.own_pay,
        "charges_sum": sum(c.charges),
        "charge_03": c.charges[2],
    }


GOOD_VALUES = {
    "mrn": "MRG1",
    # stored as its keyed hash under the suite's key (cases/pseudonym.py), never as sent
    "patient_id": pseudonym("PG1", PSN_KEY.encode()),
    "age_years": 64,
    "age_days": None,
    "admit_time": datetime(2024, 3, 1, 9, 0),
    "discharge_time": datetime(2024, 3, 6, 10, 0),
    "discharge_dept": "呼吸内科",
    "los_days": 5,
    "diagnoses": ["J18.900", "I10.x00x002"],
    "total_cost": Decimal("8000.00"),
    "fund_pay": Decimal("6000.00"),
    "self_pay": Decimal("1500.00"),
    "own_pay": Decimal("500.00"),
    "charges_sum": Decimal("8000.00"),
    "charge_03": Decimal("900.00"),
}


@pytest.mark.parametrize("case", ROW_CASES, ids=[c.name for c in ROW_CASES])
async def test_a_bad_row_is_refused_by_field_and_the_good_row_lands(db, city, dispatcher, case: Row):
    region = scope_for(Role.region_admin, (city.a,))
    data, filename = case.build(city.a1)
    _, outcome, result, batch = await send(db, region, city.a, data, "hostile", filename=filename)
    assert outcome == "succeeded" and batch.status == "done", (batch.status, batch.reason)
    assert (result["rows"], result["accepted"], result["refused"]) == (2, 1, 1), result
    refused = await errors(db, city.a, batch.id)
    assert {n for n, _, _ in refused} == {case.row_no}, refused
    assert any(f == case.field and case.reason in r for _, f, r in refused), refused
    landed = await cases(db, city.a)
    assert [c.list_id for c in landed] == ["G1"]
    assert _good_values(landed[0]) == GOOD_VALUES


@pytest.mark.parametrize("case", FILE_CASES, ids=[c.name for c in FILE_CASES])
async def test_a_file_that_cannot_be_trusted_is_refused_whole(db, city, dispatcher, case: File):
    region = scope_for(Role.region_admin, (city.a,))
    data, filename = case.build(city.a1)
    _, outcome, result, batch = await send(db, region, city.a, data, "hostile", filename=filename)
    assert outcome == "succeeded"  # the job did its work: the file's verdict is the batch's
    assert batch.status == case.status and batch.reason.startswith(case.reason), batch.reason
    assert (batch.rows_accepted, result["accepted"]) == (0, 0)
    assert await cases(db, city.a) == []


async def test_every_line_ends_with_a_line_end_and_then_the_file_is_read(db, city, dispatcher):
    """The counterpart of the no-line-end cases: LF or CRLF after every line, the last one too,
    plain or gzipped, and a header-only file is a batch of no rows."""
    region = scope_for(Role.region_admin, (city.a,))
    whole = [good(city.a1), bad(city.a1)]
    for name, data, filename, n in (
        ("lf", csv_bytes(whole), "x.csv", 2),
        ("crlf", csv_bytes(whole).replace(b"\n", b"\r\n"), "x.csv", 2),
        ("jsonl", jsonl_bytes(whole), "x.jsonl", 2),
        ("gz", csv_bytes(whole, gz=True), "x.csv.gz", 2),
        ("last-column", _last_column([good(city.a1), row("L2", city.a1)], "medcasno"), "x.csv", 2),
        ("header-only", csv_bytes(whole).split(b"\n")[0] + b"\n", "x.csv", 0),
    ):
        assert gzip.decompress(data).endswith(b"\n") if name == "gz" else data.endswith(b"\n")
        _, _, result, batch = await send(db, region, city.a, data, f"nl-{name}", filename=filename)
        assert batch.status == "done", (name, batch.reason)
        assert result["rows"] == n and result["accepted"] + result["unchanged"] == n, (name, result)
    assert {c.mrn for c in await cases(db, city.a, list_id="L2")} == {"MRL2"}


async def test_concatenated_gzip_members_are_one_file(db, city, dispatcher):
    """RFC 1952 allows a .gz of several members (cat a.gz b.gz, pigz): every row is read."""
    region = scope_for(Role.region_admin, (city.a,))
    whole = csv_bytes([good(city.a1), bad(city.a1)])
    head, tail = whole.split(b"\n", 2)[:2], whole.split(b"\n", 2)[2]
    data = gzip.compress(b"\n".join(head) + b"\n") + gzip.compress(tail)
    _, _, result, batch = await send(db, region, city.a, data, "members", filename="x.csv.gz")
    assert batch.status == "done" and result["accepted"] == 2, (batch.reason, result)


async def test_json_numbers_are_read_exactly(db, city, dispatcher):
    """JSON numbers are Decimal, never float: 0.1 + 0.2 style rounding cannot touch an amount."""
    region = scope_for(Role.region_admin, (city.a,))
    r = row("N1", city.a1)
    line = json.dumps(r)
    for k in ("medfee_sumamt", "fund_pay_sumamt", "psn_selfpay", "psn_ownpay", "age"):
        line = line.replace(f'"{k}": "{r[k]}"', f'"{k}": {r[k]}')
    assert '"medfee_sumamt": 8000.00' in line
    _, _, result, _ = await send(db, region, city.a, line.encode() + b"\n", "num", filename="x.jsonl")
    assert result["accepted"] == 1, result
    c = (await cases(db, city.a))[0]
    assert (c.total_cost, c.fund_pay, c.age_years) == (Decimal("8000.00"), Decimal("6000.00"), 64)


# ---- errors.csv: formula cells ------------------------------------------------------------------


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


async def test_errors_csv_neutralises_formula_cells(api, db, city, dispatcher):
    region = scope_for(Role.region_admin, (city.a,))
    rows = [
        good(city.a1),
        row("@SUM(A1)", "+cmd|x"),
        row("-5", city.a1, gend="9"),
        row("=1+2", "-H"),
        row("R5", "-H"),
        row("R6", "\tH"),
    ]
    _, _, result, batch = await send(db, region, city.a, csv_bytes(rows), "formula")
    assert (result["accepted"], result["refused"]) == (1, 5)
    token = api.token(Role.region_admin, [city.a])
    r = await api.client.get(
        f"/ingest/{city.a}/batches/{batch.id}/errors.csv", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200
    # The reasons in the file's language (Chinese by default; the stored reason is the English).
    assert r.content.decode("utf-8-sig").splitlines() == [
        "行号,结算清单流水号,定点医药机构编号,字段,原因",
        "2,'@SUM(A1),'+cmd|x,结算清单流水号(setl_id),格式错误的值 '@SUM(A1)'",
        "2,'@SUM(A1),'+cmd|x,定点医药机构编号(fixmedins_code),格式错误的值 '+cmd|x'",
        # "-5" is a number to a spreadsheet, not a formula: left as it is.
        f"3,-5,{city.a1},性别(gend),应为 1、2 之一（实际为 9）",
        "4,'=1+2,'-H,结算清单流水号(setl_id),格式错误的值 '=1+2'",
        f"5,R5,'-H,定点医药机构编号(fixmedins_code),医院 -H 不是您权限范围内 {city.a} 的医院",
        # Control characters are stored escaped, so a tab or CR never starts a cell.
        "6,R6,\\u0009H,定点医药机构编号(fixmedins_code),含控制字符（U+0009），位于第 1 位",
    ]
    en = await api.client.get(
        f"/ingest/{city.a}/batches/{batch.id}/errors.csv?lang=en", headers={"Authorization": f"Bearer {token}"}
    )
    assert en.content.decode("utf-8-sig").splitlines()[5:7] == [
        f"5,R5,'-H,fixmedins_code,hospital -H is not a hospital of {city.a} within your scope",
        "6,R6,\\u0009H,fixmedins_code,contains a control character (U+0009) at position 1",
    ]


# ---- a system failure -----------------------------------------------------------------------------


async def test_a_system_failure_ends_the_batch_failed_and_the_same_file_retries_it(db, city, dispatcher, monkeypatch):
    import dianshu.cases.ingest as ingest

    async def broken(ctx, batch):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest, "_merge", broken)
    region = scope_for(Role.region_admin, (city.a,))
    data = csv_bytes([good(city.a1), bad(city.a1, gend="9")])
    req = BatchRequest(city.a, "cases.csv", "sys")
    sub = await submit_batch(db, region, req, [data])
    outcomes = []
    for _ in range(jobs.MAX_ATTEMPTS):
        try:
            outcomes.append(await jobs.execute(db, city.a, sub.job.id))
        except RuntimeError as e:
            outcomes.append(str(e))
    assert outcomes == ["disk full"] * (jobs.MAX_ATTEMPTS - 1) + ["failed"]
    batch = await _batch_of(db, city.a, sub.batch.id)
    assert batch.status == "failed" and batch.finished_at is not None
    assert batch.reason == (
        "the ingestion job failed (a system error, not the file): RuntimeError: disk full; "
        "send the same file again to retry"
    )
    assert await cases(db, city.a) == [] and await errors(db, city.a, batch.id) == []

    # Fixed; the same key and file again: a new job for the same batch, which now succeeds.
    monkeypatch.undo()
    again = await submit_batch(db, region, req, [data])
    assert again.created and again.batch.id == sub.batch.id and again.job.id != sub.job.id
    assert again.batch.status == "pending" and again.batch.reason is None
    assert await jobs.execute(db, city.a, again.job.id) == "succeeded"
    batch = await _batch_of(db, city.a, sub.batch.id)
    assert (batch.status, batch.rows_accepted, batch.rows_refused, batch.job_id) == ("done", 1, 1, again.job.id)
    assert [c.list_id for c in await cases(db, city.a)] == ["G1"]
    assert await errors(db, city.a, batch.id) == [(2, "gend", "must be one of 1, 2 (got 9)")]
    async with scoped_session(db, Scope.system((city.a,))) as s:
        old = (await s.execute(select(Job).where(Job.id == sub.job.id))).scalar_one()
    assert old.status == "failed"
    # Once done, the same key and file are the same batch again; another file is still a conflict.
    third = await submit_batch(db, region, req, [data])
    assert not third.created and third.job.id == again.job.id
    with pytest.raises(IdempotencyConflict):
        await submit_batch(db, region, req, [csv_bytes([good(city.a1)])])
    assert uuid.UUID(str(third.batch.id)) == sub.batch.id


async def test_the_streaming_path_refuses_the_row_and_bad_options_by_name(api, db, owner_db, city, dispatcher):
    """POST /ingest/{tenant}: a NUL byte refuses its row, the good row lands; a control total the
    column cannot hold is a 400 naming the option, not a 500."""
    from dianshu_tenants.provisioning import ensure_service_account

    await ensure_service_account(owner_db, f"svc-h-{city.a}", "team", [city.a])
    headers = {"Authorization": f"Bearer {api.token(Role.integrator, [city.a], sa=f'svc-h-{city.a}')}"}
    data = csv_bytes([good(city.a1), bad(city.a1, medcasno="MR\x00B1")])
    r = await api.client.post(
        f"/ingest/{city.a}?filename=cases.csv", content=data, headers={**headers, "Idempotency-Key": "nul"}
    )
    assert r.status_code == 202, r.text
    assert await jobs.execute(db, city.a, uuid.UUID(r.json()["job"])) == "succeeded"
    batch = await _batch_of(db, city.a, uuid.UUID(r.json()["batch"]))
    assert (batch.status, batch.rows_accepted, batch.rows_refused) == ("done", 1, 1)
    assert await errors(db, city.a, batch.id) == [
        (2, "medcasno", "contains a control character (U+0000) at position 3")
    ]
    assert _good_values((await cases(db, city.a))[0]) == GOOD_VALUES
    for total in ("NaN", "100000000000000", "1.001"):
        r = await api.client.post(
            f"/ingest/{city.a}?filename=cases.csv&control_total={total}",
            content=data,
            headers={**headers, "Idempotency-Key": f"ct-{total}"},
        )
        assert r.status_code == 400 and r.json()["errors"][0]["field"] == "controlTotal", r.text
