"""Encodings in (issue 14, item 4): UTF-8 with or without a BOM, and GB18030/GBK (what Excel's
"Save as CSV" writes on Chinese Windows), declared or detected, by one rule
(dianshu.tabular.encoding) on every upload path: the ingestion job, the streaming REST path and
sheet imports. Nothing is replaced: a byte that decodes in neither is refused by offset and line."""

from __future__ import annotations

import gzip
import uuid

import pytest

from dianshu.cases.ingest import BatchRequest, IngestRefused
from dianshu.cases.service import submit_batch
from dianshu.jobs import service as jobs
from dianshu.scope import Role
from dianshu.tabular import encoding as enc
from dianshu.tabular.read import SheetRefused, read_sheet
from tests.api import Api
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import cases, send
from tests.conftest import scope_for

# '呼' is BA F4 in GBK, E5 91 BC in UTF-8.
GBK_LINES = b"a,b\n\xba\xf4,x\n\x80\n"


def test_the_rule_utf8_bom_or_not_then_gb18030():
    text = "科室,医院\n呼吸内科,金华市中心医院\n"
    assert enc.decode(text.encode("utf-8")) == (text, "utf-8")
    assert enc.decode(enc.BOM + text.encode("utf-8")) == (text, "utf-8")  # the BOM is dropped
    assert enc.decode(text.encode("gbk")) == (text, "gb18030")
    # Declared: gbk is a name for gb18030; a declared encoding is used even where UTF-8 would read.
    assert enc.decode(text.encode("gbk"), "GBK") == (text, "gb18030")
    assert enc.decode(b"plain ascii\n", "gb18030") == ("plain ascii\n", "gb18030")
    # A character outside GBK (𠀀, U+20000) is GB18030's four bytes: still read.
    assert enc.decode("𠀀,1\n".encode("gb18030")) == ("𠀀,1\n", "gb18030")


def test_refusals_name_the_field_and_where():
    # Declared UTF-8, GBK bytes: UTF-8 fails at the first byte of 呼 (BA), offset 4 on line 2
    # ("a,b\n" is bytes 0-3).
    with pytest.raises(enc.EncodingRefused) as e:
        enc.decode(GBK_LINES[:9], "utf-8")
    assert e.value.field == "encoding"
    assert "declared utf-8, but the file is not UTF-8 from byte(s) 0xBA at offset 4 (line 2)" in e.value.reason
    # Detected: not UTF-8 (from offset 4), so read as GB18030, which fails at 0x80: offset 4 + 5
    # ("\xba\xf4,x\n" is 5 bytes) = 9, line 3. Never replaced.
    with pytest.raises(enc.EncodingRefused) as e:
        enc.decode(GBK_LINES)
    assert e.value.field == "file"
    assert e.value.reason == "neither UTF-8 nor GB18030 text: not GB18030 from byte(s) 0x80 at offset 9 (line 3)"
    # The same bytes declared gbk: the field is `encoding`.
    with pytest.raises(enc.EncodingRefused) as e:
        enc.decode(GBK_LINES, "gbk")
    assert (e.value.field, e.value.position.offset, e.value.position.line) == ("encoding", 9, 3)
    # A UTF-8 BOM, then GBK: broken UTF-8, not Chinese ANSI (offset 3 + 4 = 7, line 2).
    with pytest.raises(enc.EncodingRefused, match=r"byte-order mark but is not UTF-8 from byte\(s\) 0xBA at offset 7 "):
        enc.decode(enc.BOM + GBK_LINES[:9])
    with pytest.raises(enc.EncodingRefused, match="UTF-16"):
        enc.decode("a,b\n".encode("utf-16"))
    with pytest.raises(enc.EncodingRefused, match="'latin-1' is not accepted") as e:
        enc.canonical("latin-1")
    assert e.value.field == "encoding"


def test_a_file_cut_inside_a_character_is_cut_short_not_another_encoding():
    # "呼吸\n" in UTF-8 is E5 91 BC E5 90 B8 0A; cut after E5 90, at offset 4 + 3 = 7 on line 2.
    with pytest.raises(
        enc.EncodingRefused, match=r"is UTF-8 but ends inside a character \(byte\(s\) 0xE5 0x90 at offset 7 "
    ):
        enc.decode("a,b\n呼吸\n".encode()[:-2])
    # In GBK BA F4 CE FC 0A; cut after CE (a lead byte), at offset 4 + 2 = 6.
    with pytest.raises(
        enc.EncodingRefused, match=r"is GB18030 but ends inside a character \(byte\(s\) 0xCE at offset 6 "
    ):
        enc.decode("a,b\n呼吸\n".encode("gbk")[:-2])
    # 0xFF begins no character in either: not "cut short".
    with pytest.raises(enc.EncodingRefused, match="neither UTF-8 nor GB18030"):
        enc.decode(b"a\n\xff")


def test_streamed_byte_by_byte_the_position_is_the_same():
    """Pieces split characters anywhere: the incremental decoder reports the offset and line of
    the whole file (9 and 3, as above), and the text before is exact."""
    d, text = enc.StrictDecoder("gb18030"), ""
    with pytest.raises(enc.EncodingRefused) as e:
        for i in range(len(GBK_LINES)):
            text += d.decode(GBK_LINES[i : i + 1], final=i == len(GBK_LINES) - 1)
    assert (e.value.position.offset, e.value.position.line, text) == (9, 3, "a,b\n呼,x\n")
    check = enc.Utf8Check()
    for i in range(len(GBK_LINES)):
        check.feed(GBK_LINES[i : i + 1])
    assert (check.failed.offset, check.failed.line) == (4, 2)


def gbk_rows(city, list_ids=("G1", "G2")) -> tuple[list[dict], bytes]:
    rows = [row(i, city.a1, adm_caty="呼吸内科", dscg_caty="心血管内科（东院）") for i in list_ids]
    return rows, csv_bytes(rows).decode("utf-8").encode("gbk")


async def test_a_gbk_csv_ingests_with_its_chinese_intact(db, city, dispatcher):
    """Excel's Chinese "Save as CSV": GBK bytes, sent in 7,000-byte pieces that split characters,
    through the real job; the cases hold the same Chinese text, and the encoding is reported."""
    region = scope_for(Role.region_admin, (city.a,))
    _, data = gbk_rows(city)
    assert b"\xba\xf4\xce\xfc\xc4\xda\xbf\xc6" in data  # 呼吸内科 in GBK
    sub, outcome, result, batch = await send(db, region, city.a, data, "gbk-1")
    assert sub.encoding == "gb18030" and outcome == "succeeded"
    assert (result["encoding"], result["accepted"], batch.status) == ("gb18030", 2, "done")
    got = await cases(db, city.a)
    assert [(c.list_id, c.admit_dept, c.discharge_dept) for c in got] == [
        ("G1", "呼吸内科", "心血管内科（东院）"),
        ("G2", "呼吸内科", "心血管内科（东院）"),
    ]
    # Gzipped GBK, declared gbk: the same content, recognised as unchanged.
    _, _, result, _ = await send(db, region, city.a, gzip.compress(data), "gbk-2", filename="c.csv.gz", encoding="gbk")
    assert (result["encoding"], result["unchanged"]) == ("gb18030", 2)


async def test_a_utf8_bom_csv_ingests_as_utf8(db, city, dispatcher):
    region = scope_for(Role.region_admin, (city.a,))
    data = enc.BOM + csv_bytes([row("B1", city.a1)])
    sub, _, result, _ = await send(db, region, city.a, data, "bom-1")
    assert (sub.encoding, result["encoding"], result["accepted"]) == ("utf-8", "utf-8", 1)
    assert (await cases(db, city.a))[0].admit_dept == "呼吸内科"


async def test_an_encoding_the_bytes_contradict_is_refused(db, city, dispatcher):
    region = scope_for(Role.region_admin, (city.a,))
    _, data = gbk_rows(city)
    # Declared UTF-8, GBK bytes: refused when sent, naming `encoding`, before any batch exists.
    with pytest.raises(IngestRefused) as e:
        await submit_batch(db, region, BatchRequest(city.a, "c.csv", "contra-1", encoding="utf-8"), [data])
    assert e.value.field == "encoding" and "declared utf-8, but the file is not UTF-8 from byte(s) 0x" in e.value.reason
    with pytest.raises(IngestRefused) as e:
        await submit_batch(db, region, BatchRequest(city.a, "c.csv", "contra-2", encoding="big5"), [data])
    assert e.value.field == "encoding" and "'big5' is not accepted" in e.value.reason
    # Declared gb18030, a byte that is not: the job refuses the batch naming `encoding` and where.
    # The last row's line is line 3 (header, G1, then this one); 0x80 is its first byte.
    bad = data + b"\x80G3\n"
    _, _, result, batch = await send(db, region, city.a, bad, "contra-3", encoding="gb18030")
    assert batch.status == "refused" and result["encoding"] == "gb18030"
    assert (
        batch.reason
        == f"encoding: declared gb18030, but the file is not GB18030 from byte(s) 0x80 at offset {len(data):,} (line 4)"
    )
    assert await cases(db, city.a) == []


async def test_undecodable_bytes_are_refused_naming_the_line(db, city, dispatcher):
    region = scope_for(Role.region_admin, (city.a,))
    head = csv_bytes([row("U1", city.a1)])  # header and one row: 2 lines, UTF-8
    data = head + b"\xff\xfe\n"  # line 3: neither UTF-8 nor GB18030
    _, _, _, batch = await send(db, region, city.a, data, "undec-1")
    assert batch.status == "refused"
    assert batch.reason == (
        f"file: neither UTF-8 nor GB18030 text: not GB18030 from byte(s) 0xFF at offset {len(head):,} (line 3)"
    )
    # JSON Lines is UTF-8 only (RFC 8259): refused when sent.
    with pytest.raises(IngestRefused, match="JSON Lines must be UTF-8") as e:
        await submit_batch(
            db, region, BatchRequest(city.a, "c.jsonl", "undec-2"), ['{"setl_id": "呼"}\n'.encode("gbk")]
        )
    assert e.value.field == "file"


@pytest.fixture
async def api(settings, db):
    a = Api(settings, db)
    yield a
    await a.client.aclose()


async def test_the_streaming_path_takes_and_reports_the_encoding(api, db, owner_db, city, dispatcher):
    from dianshu_tenants.provisioning import ensure_service_account

    await ensure_service_account(owner_db, f"svc-e-{city.a}", "team", [city.a])
    headers = {"Authorization": f"Bearer {api.token(Role.integrator, [city.a], sa=f'svc-e-{city.a}')}"}
    _, data = gbk_rows(city, ("R1",))
    r = await api.client.post(
        f"/ingest/{city.a}?filename=c.csv", content=data, headers={**headers, "Idempotency-Key": "e1"}
    )
    assert r.status_code == 202 and r.json()["encoding"] == "gb18030", r.text
    assert await jobs.execute(db, city.a, uuid.UUID(r.json()["job"])) == "succeeded"
    assert (await cases(db, city.a))[0].admit_dept == "呼吸内科"
    r = await api.client.post(
        f"/ingest/{city.a}?filename=c.csv&encoding=utf-8", content=data, headers={**headers, "Idempotency-Key": "e2"}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "encoding", r.text


def test_sheet_imports_read_by_the_same_rule_and_say_which():
    names = {"人员编号": "person", "姓名": "name"}
    text = "人员编号,姓名\r\nP1,张三\r\n"
    for data, used in ((text.encode("gbk"), "gb18030"), (enc.BOM + text.encode(), "utf-8")):
        rows = read_sheet(data, names, ["person"])
        assert rows.encoding == used and rows[0].cells == {"person": "P1", "name": "张三"}
    with pytest.raises(SheetRefused) as e:
        read_sheet(text.encode("gbk"), names, ["person"], encoding="utf-8")
    # 人 is C8 CB in GBK: the first byte of the file.
    assert e.value.field == "encoding" and "from byte(s) 0xC8 at offset 0 (line 1)" in e.value.reason


async def test_dianshu_ingest_reports_the_batch_its_encoding_and_the_refused_rows_file(
    db, city, dispatcher, tmp_path, monkeypatch
):
    """What `dianshu ingest` prints after its jobs (dianshu_cli.cases, the same functions): each
    batch's id, the encoding it was read in, and the CSV its refused rows were written to (the
    layout of the errors.csv download)."""
    import io

    from rich.console import Console

    from dianshu_cli.cases import batch_encodings, print_batches, refused_rows, write_refused

    region = scope_for(Role.region_admin, (city.a,))
    rows = [row("C1", city.a1, adm_caty="呼吸内科"), row("C2", city.a1, gend="9", adm_caty="呼吸内科")]
    data = csv_bytes(rows).decode("utf-8").encode("gbk")
    _, _, result, batch = await send(db, region, city.a, data, "cli-1")
    assert (result["accepted"], result["refused"]) == (1, 1)
    for var in ("DIANSHU_LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    files = write_refused(await refused_rows(db, [batch]), tmp_path / "refused")
    encodings = await batch_encodings(db, [batch])
    shown = io.StringIO()
    print_batches(Console(file=shown, width=300), [batch], encodings, files)
    path = tmp_path / "refused" / f"refused-{batch.id}.csv"
    assert f"批次 {batch.id}（{city.a}）：已完成，按 gb18030 读取；拒收行：{path}" in shown.getvalue()
    monkeypatch.setenv("DIANSHU_LANG", "en")  # English on request (tables and lines alike)
    english = io.StringIO()
    print_batches(Console(file=english, width=300), [batch], encodings, files)
    assert f"batch {batch.id} ({city.a}): done, read as gb18030; refused rows: {path}" in english.getvalue()
    monkeypatch.delenv("DIANSHU_LANG")
    # Row 2 (the second data row, as the download numbers it), its list id and hospital, the field;
    # the download's layout: a BOM, CRLF, the Chinese headers.
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert path.read_bytes().decode("utf-8-sig").split("\r\n") == [
        "行号,结算清单流水号,定点医药机构编号,字段,原因",
        f"2,C2,{city.a1},性别(gend),应为 1、2 之一（实际为 9）",  # the CLI's language: zh unless asked
        "",
    ]


UPLOAD = """
mutation($input: UploadCasesInput!) {
  uploadCases(input: $input) {
    __typename
    ... on BatchPayload { created encoding batch { databaseId jobId } }
    ... on ValidationError { errors { field reason } }
  }
}"""


async def test_upload_cases_takes_and_reports_the_encoding(api, db, city, dispatcher):
    import json

    token = api.token(Role.region_admin, [city.a])
    _, data = gbk_rows(city, ("Q1",))

    async def upload(key: str, encoding: str | None) -> dict:
        variables = {"input": {"tenant": city.a, "file": None, "idempotencyKey": key, "encoding": encoding}}
        r = await api.client.post(
            "/graphql",
            data={
                "operations": json.dumps({"query": UPLOAD, "variables": variables}),
                "map": json.dumps({"0": ["variables.input.file"]}),
            },
            files={"0": ("c.csv", data, "text/csv")},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert r.status_code == 200, r.text
        return r.json()["data"]["uploadCases"]

    ok = await upload("gq-1", None)
    assert (ok["__typename"], ok["encoding"]) == ("BatchPayload", "gb18030"), ok
    assert await jobs.execute(db, city.a, uuid.UUID(ok["batch"]["jobId"])) == "succeeded"
    assert (await cases(db, city.a))[0].discharge_dept == "心血管内科（东院）"
    refused = await upload("gq-2", "utf-8")
    assert refused["__typename"] == "ValidationError" and refused["errors"][0]["field"] == "encoding", refused
