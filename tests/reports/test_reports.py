"""Golden tests of the printed reports on the hand-worked statement of tests/reports/data.py: the PDF's
text holds the Chinese labels and the figures to the fen, the XLSX cells are numbers with their
formats, each CSV is one table with a BOM, the page's heading has no run id or microseconds, lang=en
is English, and the charts have ticks, units and a second axis that does not start at zero."""

from __future__ import annotations

import csv
import datetime
import io
import re
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from dianshu.reports.charts import bar_line_svg
from dianshu.reports.labels import MESSAGES
from dianshu.settlement.reports.overview import overview_html, overview_table
from dianshu.settlement.reports.statements import tables, to_html, to_pdf, to_xlsx
from dianshu.tabular.write import BOM, Lang, csv_bytes, xlsx_bytes
from tests.reports.data import RUN_ID, overview, statement

# 2025-06-01 01:02:03.000999 UTC = 09:02:03 in Shanghai.
NOW = datetime.datetime(2025, 6, 1, 1, 2, 3, 999, tzinfo=datetime.UTC)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
SVG = "{http://www.w3.org/2000/svg}"


def _flat(s: str) -> str:
    return re.sub(r"\s+", " ", s)


@pytest.fixture(scope="module")
def pdf_text() -> str:
    from pypdf import PdfReader

    data = to_pdf(statement(), now=NOW)
    assert data.startswith(b"%PDF")
    return _flat(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages))


def test_the_statement_pdf_holds_the_labels_and_the_figures_to_the_fen(pdf_text):
    for label in (
        "金华市中心医院 2025年4月 月度预结算单",
        "金华市医疗保障局",  # the page header (a margin box)
        "第 1 页，共",  # the page numbers
        "统筹区 婺城区",
        "险种账户 职工医保",
        "本院结算",
        "应付金额",
        "质量保证金",
        "此前已拨付",
        "按月点数与拨付",
        "统筹区账户",
        "预结算点值",
        "经办人",
        "复核人",
        "医院确认",
    ):
        assert label in pdf_text, label
    # The hand-worked figures of data.py, in 元 with thousands separators, to the fen.
    for figure in (
        "参保人自付 23,456.78 元",
        "应付金额 109,979.42 元",
        "104,480.45 元",
        "质量保证金 1,498.97 元",
        "此前已拨付 80,000.00 元",
        "本期拨付 24,480.45 元",
        "点数 1,234.5678",
        "预结算点值 108.083333 元/点",  # 6 places, as settlement shows PV
        "2025年5月6日 10:03:04",  # published 02:03:04.123456 UTC, in Shanghai, to the second
    ):
        assert figure in pdf_text, figure
    assert "108.0833333" not in pdf_text and "PV_exact" not in pdf_text and "self_pay" not in pdf_text
    assert "123456" not in pdf_text


def test_the_page_heading_has_no_run_id_nor_microseconds_and_the_footer_keeps_the_run():
    page = to_html(statement(), now=NOW)
    h1 = re.search(r"<h1>(.*?)</h1>", page).group(1)
    assert h1 == "金华市中心医院 2025年4月 月度预结算单"
    assert not UUID.search(page[: page.index('<div class="trace">')])
    assert "123456" not in page and ".000999" not in page
    assert f"批次 {RUN_ID} · 第 2 版 · 生成于 2025年6月1日 09:02:03" in page
    # Print setup: A4 portrait, the bureau in the header, page numbers, the CJK font stack.
    assert "size: A4 portrait" in page and '@top-center { content: "金华市医疗保障局"' in page
    assert 'content: "第 " counter(page) " 页，共 " counter(pages) " 页"' in page
    assert '"Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", "Microsoft YaHei", "SimSun"' in page
    # No single-letter codes or keys as labels.
    assert not re.search(r"<th>(B|E|F|P|R|S|T|PV|self_pay|PV_exact)</th>", page)


def test_lang_en_gives_english_labels():
    page = to_html(statement(), Lang.en, now=NOW)
    assert "<h1>金华市中心医院: monthly pre-settlement statement, Apr 2025</h1>" in page
    for label in ("Due", "Quality holdback", "Prepared by", "Reviewed by", "counter(page)", "Healthcare Security"):
        assert label in page, label
    assert "109,979.42 yuan" in page and "108.083333 yuan/point" in page
    assert "应付金额" not in page and "经办人" not in page
    wb = load_workbook(io.BytesIO(to_xlsx(statement(), Lang.en)))
    assert wb.sheetnames == ["Statement summary", "Monthly lines", "Region ledger"]


def test_every_label_has_both_languages():
    assert all(zh and en for zh, en in MESSAGES.values())


def test_the_statement_workbook_has_numbers_not_text():
    wb = load_workbook(io.BytesIO(to_xlsx(statement())))
    assert wb.sheetnames == ["结算汇总", "按月明细", "统筹区账户"]
    summary = wb["结算汇总"]
    head = [c.value for c in summary[1]]
    due = summary.cell(row=2, column=head.index("应付金额") + 1)
    assert (due.value, due.data_type, due.number_format) == (109979.42, "n", "#,##0.00")
    points = summary.cell(row=2, column=head.index("点数") + 1)
    assert (points.value, points.data_type, points.number_format) == (1234.5678, "n", "#,##0.0000")
    assert summary.cell(row=2, column=head.index("医院名称") + 1).value == "金华市中心医院"
    months = wb["按月明细"]
    head = [c.value for c in months[1]]
    pay = [r[head.index("本期拨付")] for r in months.iter_rows(min_row=2)]
    assert [c.value for c in pay] == [30000, 25000, 25000, 24480.45] and {c.data_type for c in pay} == {"n"}
    assert sum(Decimal(str(c.value)) for c in pay[:3]) == Decimal("80000")  # = paid before
    month = months.cell(row=2, column=head.index("月份") + 1)
    assert month.value == datetime.datetime(2025, 1, 1) and month.number_format == "yyyy-mm"
    ledger = wb["统筹区账户"]
    head = [c.value for c in ledger[1]]
    pv = ledger.cell(row=2, column=head.index("预结算点值") + 1)
    assert (pv.value, pv.number_format) == (108.083333, "#,##0.000000")
    assert "PV_exact" not in head


def test_each_statement_csv_is_one_table_with_a_bom_naming_the_hospital():
    for name, table in tables(statement()).items():
        raw = csv_bytes(table)
        assert raw.startswith(BOM.encode("utf-8")), name
        rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
        assert len({len(r) for r in rows}) == 1 and all(rows), name  # one table: no blank line, one width
        assert all(r[1] == "金华市中心医院" for r in rows[1:]), name
        assert table.name.startswith("statement-2025-monthly-H33070200001-")
    months = list(csv.reader(io.StringIO(csv_bytes(tables(statement())["months"]).decode("utf-8-sig"))))
    assert months[0] == ["医院编码", "医院名称", "月份", "病例数", "点数", "参保人自付", "本期拨付", "预结算点值"]
    assert months[4] == [
        "H33070200001",
        "金华市中心医院",
        "2025-04",
        "3",
        "300.0000",
        "6456.78",
        "24480.45",
        "219.900000",
    ]


def _axes_ticks(svg: str) -> dict[str, list[float]]:
    """The y tick labels of each axes of a matplotlib SVG, as numbers."""
    root = ET.fromstring(svg)
    out = {}
    for axes in root.iter(f"{SVG}g"):
        if re.fullmatch(r"axes_\d+", axes.get("id", "")):
            ticks = [
                float("".join(t.itertext()).replace(",", ""))
                for g in axes.iter(f"{SVG}g")
                if g.get("id", "").startswith("ytick_")
                for t in g.iter(f"{SVG}text")
            ]
            out[axes.get("id")] = ticks
    return out


def test_the_chart_has_ticks_units_and_a_second_axis_not_from_zero():
    svg = bar_line_svg(
        ["婺城区", "金东区", "兰溪市"],
        [Decimal("56850.00"), Decimal("61695.00"), Decimal("58000.50")],
        "基金支付总额（元）",
        [Decimal("207.5"), Decimal("225.1"), Decimal("215")],
        "点值（元/点）",
    )
    ticks = _axes_ticks(svg)
    assert set(ticks) == {"axes_1", "axes_2"}  # the bars' axis and the line's own (twinx)
    bars, line = ticks["axes_1"], ticks["axes_2"]
    assert bars[0] == 0 and len(bars) >= 4  # bars from zero
    # 207.5–225.1 with 15% padding: the axis spans about 204.9–227.7, its ticks 205…225.
    assert len(line) >= 3 and 200 <= min(line) < 207.5 and 225.1 <= max(line) + 5 and max(line) < 235
    for text in ("婺城区", "金东区", "兰溪市", "基金支付总额（元）", "点值（元/点）", "60,000"):
        assert f">{text}</text>" in svg, text
    assert "http://" not in svg.replace("http://www.w3.org/", "").replace("http://purl.org/", "").replace(
        "http://creativecommons.org/", ""
    ).replace("http://matplotlib.org/", "")


def test_the_statement_page_embeds_its_charts():
    page = to_html(statement(), now=NOW)
    charts = re.findall(r'<div class="chart">(<svg.*?</svg>)', page, re.S)
    assert len(charts) == 2
    points, pv = (_axes_ticks(c) for c in charts)
    assert set(points) == {"axes_1", "axes_2"}  # points (bars) and payment (line)
    assert ">点数（点）</text>" in charts[0] and ">本期拨付（元）</text>" in charts[0]
    assert 200 <= min(pv["axes_1"]) < 207.1  # the monthly PV 207.1–225.0, not from zero
    assert ">1月</text>" in charts[0] and ">4月</text>" in charts[0]


def test_the_city_report_names_regions_and_prints_landscape():
    page = overview_html("330700", 2025, overview(), city_name="金华市", now=NOW)
    assert "<h1>金华市 2025年度 DRG点数法年终清算（分统筹区）</h1>" in page
    assert "size: A4 landscape" in page and '"金华市医疗保障局"' in page
    chart = re.search(r'<div class="chart">(<svg.*?</svg>)', page, re.S).group(1)
    assert ">婺城区</text>" in chart and ">330702</text>" not in chart
    assert 200 <= min(_axes_ticks(chart)["axes_2"]) < 207.5
    assert '<td class="n">56,850.00</td>' in page and '<td class="n">225.100000</td>' in page
    assert "草稿（非最终结果）" in page and not UUID.search(page[: page.index('<div class="trace">')])
    table = overview_table("330700", 2025, overview(), city_name="金华市")
    raw = csv_bytes(table)
    assert raw.startswith(BOM.encode("utf-8")) and raw.decode("utf-8-sig").splitlines()[1].startswith("330702,婺城区,")
    ws = load_workbook(io.BytesIO(xlsx_bytes(table))).active
    head = [c.value for c in ws[1]]
    f = ws.cell(row=3, column=head.index("基金支付总额") + 1)
    assert (f.value, f.data_type, f.number_format) == (61695, "n", "#,##0.00")
    en = overview_html("330700", 2025, overview(), Lang.en, city_name="Jinhua", now=NOW)
    assert "Fund total (F)" in en and "Point value (PV)" in en and "基金支付总额" not in en
