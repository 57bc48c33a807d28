"""Downloads (CSV with a BOM, XLSX) and spreadsheet imports (platform/dianshu/tabular)."""

from __future__ import annotations

import datetime
import io
import zipfile
from decimal import Decimal as D

import pytest
from openpyxl import Workbook, load_workbook

from dianshu.tabular.read import SheetRefused, read_sheet
from dianshu.tabular.write import Column, Kind, Lang, Table, csv_bytes, csv_chunks, xlsx_bytes

TABLE = Table(
    "drg-losses",
    "病组盈亏",
    "DRG profit and loss",
    (
        Column("drg", "病组", "DRG"),
        Column("cases", "病例数", "Cases", Kind.count),
        Column("payment", "预计支付(元)", "Expected payment (yuan)", Kind.money),
        Column("share", "药占比", "Drug share", Kind.ratio),
        Column("month", "月份", "Month", Kind.month),
        Column("note", "备注", "Note"),
    ),
    [
        {
            "drg": "ES23",
            "cases": 1200,
            "payment": D("1234567.80"),
            "share": D("0.3125"),
            "month": datetime.date(2025, 3, 1),
            "note": '=HYPERLINK("x")',
        },
        ("GB19", 3, D("-12.50"), None, datetime.date(2025, 4, 1), "肺炎, 伴并发症"),
    ],
)


def test_csv_has_a_bom_crlf_chinese_headers_and_guarded_cells():
    data = csv_bytes(TABLE)
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    lines = text.split("\r\n")
    assert lines[0] == "病组,病例数,预计支付(元),药占比,月份,备注"
    # Numbers plain (Excel parses them), the month as YYYY-MM, the formula quoted as text.
    assert lines[1] == 'ES23,1200,1234567.80,0.3125,2025-03,"\'=HYPERLINK(""x"")"'
    assert lines[2] == 'GB19,3,-12.50,,2025-04,"肺炎, 伴并发症"'
    assert csv_bytes(TABLE, Lang.en).decode("utf-8-sig").startswith("DRG,Cases,Expected payment (yuan),Drug share")


def test_xlsx_keeps_numbers_as_numbers_and_text_as_text():
    wb = load_workbook(io.BytesIO(xlsx_bytes(TABLE)))
    ws = wb.active
    assert ws.title == "病组盈亏"
    assert [c.value for c in ws[1]] == ["病组", "病例数", "预计支付(元)", "药占比", "月份", "备注"]
    row = ws[2]
    assert row[1].value == 1200 and row[1].number_format == "#,##0"
    assert row[2].value == pytest.approx(1234567.80) and row[2].number_format == "#,##0.00"
    assert row[3].value == pytest.approx(0.3125) and row[3].number_format == "0.00%"
    assert row[4].value == datetime.datetime(2025, 3, 1) and row[4].number_format == "yyyy-mm"
    assert row[5].data_type == "s" and row[5].value == '=HYPERLINK("x")'
    assert ws.freeze_panes == "A2"
    assert load_workbook(io.BytesIO(xlsx_bytes(TABLE, Lang.en))).active["A1"].value == "DRG"


def test_moments_are_written_as_beijing_time_whatever_the_servers_zone(monkeypatch):
    import time

    # 16:30 UTC on 6 March is 00:30 on 7 March in Beijing (UTC+8, no summer time); the server's own
    # zone (New York here: 11:30 on the 6th) plays no part. A naive value is written as it is.
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        when = Table(
            "t",
            "时间",
            "Times",
            (Column("at", "时间", "At"),),
            [(datetime.datetime(2025, 3, 6, 16, 30, tzinfo=datetime.UTC),), (datetime.datetime(2025, 3, 6, 9, 5),)],
        )
        assert csv_bytes(when).decode("utf-8-sig").split("\r\n")[1:3] == ["2025-03-07 00:30:00", "2025-03-06 09:05:00"]
        ws = load_workbook(io.BytesIO(xlsx_bytes(when))).active
        assert [ws["A2"].value, ws["A3"].value] == [
            datetime.datetime(2025, 3, 7, 0, 30),
            datetime.datetime(2025, 3, 6, 9, 5),
        ]
    finally:
        monkeypatch.undo()  # the zone as it was, then re-read
        time.tzset()


def test_csv_streams_in_pieces_with_the_bom_first():
    # 500 rows of about 60 bytes in pieces of about 1 kB: many pieces, the first starting with the
    # BOM and the header, together the same bytes as csv_bytes.
    rows = [(f"ES{i:04d}", i, D("1234.50"), D("0.25"), datetime.date(2025, 3, 1), "备注") for i in range(500)]
    big = Table(TABLE.name, TABLE.title_zh, TABLE.title_en, TABLE.columns, rows)
    pieces = list(csv_chunks(big, chunk=1024))
    assert len(pieces) > 10
    assert pieces[0].startswith("\ufeff病组,病例数".encode())
    assert b"\xef\xbb\xbf" not in b"".join(pieces[1:])
    assert b"".join(pieces) == csv_bytes(big)


def test_a_row_of_the_wrong_width_is_an_error():
    bad = Table("t", "t", "t", (Column("a", "甲", "A"),), [("x", "y")])
    with pytest.raises(ValueError, match="2 cells for 1 columns"):
        csv_bytes(bad)


NAMES = {
    "人员编号": "person",
    "person": "person",
    "课程": "course",
    "course": "course",
    "成绩": "score",
    "score": "score",
}


def test_csv_import_rows_keep_their_numbers_utf8_and_gb18030():
    text = "人员编号,课程,成绩\r\nP1,C1,90\r\n,,\r\nP2,C1,\r\n"
    for data in (text.encode("utf-8-sig"), text.encode("gb18030")):
        rows = read_sheet(data, NAMES, ["person", "course"])
        assert [(r.number, r.cells) for r in rows] == [
            (2, {"person": "P1", "course": "C1", "score": "90"}),
            (4, {"person": "P2", "course": "C1", "score": None}),
        ]


def test_xlsx_import_reads_numbers_and_dates_as_text():
    wb = Workbook()
    ws = wb.active
    ws.append(["person", "course", "score"])
    ws.append(["P1", "C1", 90])
    ws.append(["P2", datetime.datetime(2025, 3, 6), 87.5])
    out = io.BytesIO()
    wb.save(out)
    rows = read_sheet(out.getvalue(), NAMES, ["person"])
    assert [r.cells for r in rows] == [
        {"person": "P1", "course": "C1", "score": "90"},
        {"person": "P2", "course": "2025-03-06", "score": "87.5"},
    ]


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (b"", "file", "empty"),
        ("人员编号,课程,年龄\r\n".encode(), "header.3", "unknown column '年龄'"),
        ("人员编号,person\r\n".encode(), "header.2", "appears twice"),
        ("课程\r\nC1\r\n".encode(), "header", "missing column(s): person"),
        (b"PK\x03\x04 not a zip", "file", "not an XLSX workbook"),
    ],
)
def test_whole_file_refusals_name_the_field(data, field, reason):
    with pytest.raises(SheetRefused) as e:
        read_sheet(data, NAMES, ["person"])
    assert e.value.field == field and reason in e.value.reason


def test_a_cell_outside_the_columns_is_flagged_on_its_row():
    rows = read_sheet(b"person,course\r\nP1,C1,surprise\r\n", NAMES, ["person"])
    assert rows[0].number == 2 and rows[0].cells["__extra__"]


def test_a_zip_that_unpacks_huge_is_refused_before_parsing():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (210 * 2**20))
    with pytest.raises(SheetRefused, match="unpacks too large"):
        read_sheet(out.getvalue(), NAMES, ["person"])
