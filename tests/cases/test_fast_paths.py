"""The fast paths of parsing and validation agree with the exact per-value paths: for any line or
value, the same values are accepted (exactly: same types, same Decimal places) and the same
FieldErrors (field and reason) are given. Pure, no database."""

from __future__ import annotations

import csv
import gzip
import io
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dianshu.cases import parsing
from dianshu.cases.layout import NAMES
from dianshu.cases.parsing import RowParser
from dianshu.cases.validation import RowValidator, ShapedRow
from dianshu.codes.codebook import load_codebook
from tests.cases.rows import row

NOW = datetime(2026, 1, 1)
# A valid row with every column (optional ones too), the base that values are changed from.
BASE = {
    **{c: "" for c in NAMES},
    **row(),
    "oprn_oprt_codes": "47.0100",
    "oprn_oprt_dates": "2024-03-02",
    "oprn_oprt_lvs": "2",
    "scs_cutd_sum_dura": "12.5",
    "correction": "0",
}
HOSTILE_CHARS = [
    "\x00",  # NUL
    "\x01",
    "\t",
    "\r",  # bare CR
    "\x0b",
    "\x0c",
    "\x1b",
    "\x1f",
    "\x7f",
    "\x85",  # NEL (C1, and whitespace)
    "\x9f",
    "\xa0",  # no-break space: whitespace, not printable
    "\xad",  # soft hyphen: not printable, not a control character
    "\u2028",  # line separator
    "\u3000",  # ideographic space
    "\u200b",
    "\ufeff",
    "\ud800",  # lone surrogates
    "\udfff",
    "\U0001f600",  # non-BMP
    "\U00010000",
    "中",
    "é",
    "²",  # a digit to isdigit(), not to the regexes
    "١",
]
ALPHABET = st.sampled_from(list('0123456789.-|, "AJTaxz:') + HOSTILE_CHARS)


@pytest.fixture(scope="module")
def validator() -> RowValidator:
    return RowValidator(load_codebook(), now=NOW)


def outcome(validator: RowValidator, raw: dict) -> tuple[str, list[tuple[str, str]]]:
    """What validation gives, exactly: repr shows every type and every Decimal's places."""
    values, errors = validator.validate(raw)
    return repr(values), [(e.field, e.reason) for e in errors]


def reference_csv(header: list[str], line: str) -> dict[str, str] | str:
    """The exact path: the csv module reads the line (as RowParser does for a line that is not
    shaped), values left for the validator's per-value checks."""
    try:
        fields = next(csv.reader([line], strict=True))
    except csv.Error as e:
        reason = "a carriage return (CR) inside the line" if "new-line" in str(e) else str(e)
        return f"cannot be read as CSV: {reason}"
    if len(fields) != len(header):
        return f"{len(fields)} fields, the header has {len(header)}"
    return dict(zip(header, fields, strict=True))


def parsed(header: list[str], line: str) -> list[tuple[int, dict | str]]:
    p = RowParser("csv", False)
    p.header = list(header)
    return list(p._line(line))


def changed_value(name: str) -> st.SearchStrategy[str]:
    v = BASE[name]
    return st.one_of(
        st.just(v),
        st.text(ALPHABET, max_size=12),
        st.tuples(st.sampled_from(["", " ", "  ", *HOSTILE_CHARS]), st.sampled_from(["", " ", *HOSTILE_CHARS])).map(
            lambda ends: ends[0] + v + ends[1]
        ),
        st.sampled_from(["| ", " |", " | ", "||", "|", ",", '"', "\r", "\x00", " "]).map(
            lambda sep: v.replace("|", sep) if "|" in v else v + sep + v
        ),
        st.tuples(st.integers(0, max(len(v), 0)), st.sampled_from(HOSTILE_CHARS)).map(
            lambda at: v[: at[0]] + at[1] + v[at[0] :]
        ),
    )


def csv_field(value: str, quote: bool) -> str:
    return '"' + value.replace('"', '""') + '"' if quote else value


@st.composite
def csv_lines(draw: st.DrawFn) -> tuple[list[str], str]:
    """A header (all columns, or the required ones and some others) and one data line: most
    values valid, a few changed, some fields quoted, sometimes a field too many or too few."""
    header = list(NAMES)
    if draw(st.booleans()):
        header = [c for c in NAMES if c in parsing.REQUIRED or draw(st.booleans())]
    values = {c: BASE[c] for c in header}
    for name in draw(st.lists(st.sampled_from(header), max_size=4)):
        values[name] = draw(changed_value(name))
    quoting = draw(st.sampled_from(["none", "none", "none", "some"]))
    fields = [csv_field(values[c], quoting == "some" and draw(st.booleans())) for c in header]
    extra = draw(st.sampled_from([""] * 8 + ["drop", "add"]))
    if extra == "drop":
        fields.pop()
    elif extra == "add":
        fields.append(draw(st.text(ALPHABET, max_size=4)))
    return header, ",".join(fields)


def line_of(**over: str) -> tuple[list[str], str]:
    values = {**BASE, **over}
    return list(NAMES), ",".join(values[c] for c in NAMES)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_lines())
@example(line_of())
@example(line_of(medcasno="MR\x00B1"))
@example(line_of(medcasno="MR\x01B1"))
@example(line_of(dscg_caty="呼吸\r内科"))
@example(line_of(psn_no=" P1"))
@example(line_of(psn_no="P1 "))
@example(line_of(psn_no=" "))
@example(line_of(adm_caty="\u3000呼吸内科"))
@example(line_of(adm_caty="呼吸内科\xa0"))
@example(line_of(diag_codes="J18.900| I10.x00x002"))
@example(line_of(diag_codes="J18.900 |I10.x00x002"))
@example(line_of(adm_cond_types="1| 1"))
@example(line_of(oprn_oprt_lvs="2 "))
@example(line_of(correction=" 0"))
@example(line_of(adm_caty="科室😀"))
@example(line_of(adm_caty="科室\ud800"))
@example(line_of(adm_caty="a\u2028b"))
@example(line_of(medfee_sumamt="８000.00"))
@example(line_of(medfee_sumamt="8000.00 "))
@example(line_of(age="6４"))
def test_a_csv_line_reads_and_validates_as_the_exact_path_would(validator, case):
    header, line = case
    got = parsed(header, line)
    ref = reference_csv(header, line)
    if not line.strip():
        assert got == []
        return
    [(_, item)] = got
    if isinstance(ref, str):
        assert item == ref
        return
    assert isinstance(item, dict) and dict(item) == ref
    assert outcome(validator, item) == outcome(validator, ref)
    if type(item) is ShapedRow:
        # The promise the validator relies on: the per-value checks find nothing to refuse.
        errors: list = []
        validator._shape(ref, errors)
        assert errors == []


@settings(max_examples=600, deadline=None)
@given(st.text(ALPHABET, max_size=40))
def test_a_shaped_line_is_split_as_the_csv_module_splits_it(line):
    if line.strip() and parsing._shaped(line):  # the reader skips blank lines
        assert line.split(",") == next(csv.reader([line], strict=True))
        for value in line.split(","):
            assert value == value.strip() and value.isprintable()
            assert all(item == item.strip() for item in value.split("|"))


def test_the_only_printable_whitespace_is_the_space():
    """_shaped checks the line is printable and then looks for U+0020 only: no other character
    that str.isspace() counts (and _text_refusal refuses at either end) is printable."""
    both = [c for c in range(0x110000) if chr(c).isspace() and chr(c).isprintable()]
    assert both == [0x20]


@settings(max_examples=800, deadline=None)
@given(st.dictionaries(st.sampled_from(NAMES), st.text(ALPHABET, max_size=10), max_size=12))
def test_a_shaped_row_validates_as_a_plain_dict_when_its_promise_holds(validator, over):
    raw = {**BASE, **over}
    if not all(parsing._shaped(x) and "," not in x for x in raw.values()):
        return  # not a row the CSV reader would shape
    assert outcome(validator, ShapedRow(raw)) == outcome(validator, dict(raw))


def test_generated_city_rows_take_the_fast_path_and_agree(validator):
    """Real-shaped rows (the city generator's): every line is shaped, and each validates as the
    exact path validates it."""
    from dianshu.synthetic.city import GenerateOptions, generate_city

    with tempfile.TemporaryDirectory() as out:
        infos = generate_city(Path(out), GenerateOptions(years=(2024,), stays_per_year=800, processes=1))
        blob = (Path(out) / infos[0].path).read_bytes()
    text = gzip.decompress(blob).decode("utf-8")
    header = next(csv.reader(io.StringIO(text)))
    p = RowParser("csv", True)
    items = [item for _, item in p.feed(blob, final=True)]
    lines = text.split("\n")[1:-1]
    assert len(items) == len(lines) > 0
    assert all(type(item) is ShapedRow for item in items)
    for item, line in zip(items, lines, strict=True):
        ref = reference_csv(header, line)
        assert dict(item) == ref
        assert outcome(validator, item) == outcome(validator, ref)
