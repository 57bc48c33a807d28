"""The fast paths of parsing and validation agree with the exact per-value paths: for any line or
value, the same values are accepted (exactly: same types, same Decimal places) and the same
FieldErrors (field and reason) are given. The exact path is the csv module reading the line and
the validator frozen before the fast paths (reference_validation). Pure, no database."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import tempfile
import uuid
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dianshu.cases import ingest, parsing
from dianshu.cases.layout import MULTI, NAMES
from dianshu.cases.parsing import RowParser
from dianshu.cases.validation import MONEY_COLUMNS, RowValidator, ShapedRow
from dianshu.codes.codebook import load_codebook
from tests.cases import reference_validation
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


@pytest.fixture(scope="module")
def reference() -> reference_validation.RowValidator:
    return reference_validation.RowValidator(load_codebook(), now=NOW)


def outcome(validator: RowValidator | reference_validation.RowValidator, raw: dict) -> tuple[str, list]:
    """What validation gives, exactly: repr shows every type and every Decimal's places."""
    values, errors = validator.validate(raw)
    return repr(values), [(e.field, e.reason) for e in errors]


def cents_text(c: int, form: str) -> str:
    """An amount of `c` fen written one of several ways: canonical; others the validator reads
    as the same value (a leading zero, three places, fewer places where they are zeros); others
    it refuses or reads as another value (a float's repr, a decimal comma)."""
    canonical = f"{c // 100}.{c % 100:02d}"
    same = [canonical, "0" + canonical, canonical + "0"]
    if c % 10 == 0:
        same.append(canonical[:-1])
    if c % 100 == 0:
        same.append(str(c // 100))
    if form == "canonical":
        return canonical
    if form.startswith("same"):
        return same[int(form[4:]) % len(same)]
    return form.format(c=c, f=c / 100, t=canonical)


@st.composite
def amounts(draw: st.DrawFn) -> dict[str, str]:
    """The 18 amounts of a row, summing as they must (charges to the total; fund + self-pay +
    own-pay to the total), each written one way or another; some near NUMERIC(12, 2)'s edge."""
    cents = draw(st.lists(st.one_of(st.integers(0, 10**7), st.just(0)), min_size=14, max_size=14))
    if draw(st.integers(0, 5)) == 0:
        cents[draw(st.integers(0, 13))] = draw(st.sampled_from([10**12 - 1, 10**12, 10**11, 10**12 - 10**7 * 14]))
    total = sum(cents)
    own = draw(st.integers(0, total))
    fund = draw(st.integers(0, total - own))
    values = [*cents, total, fund, total - own - fund, own]
    mode = draw(st.sampled_from(["canonical", "same", "any"]))
    forms = st.sampled_from(["canonical", "same1", "same2", "same3", "{f}", "{c},00", "{t} ", "+{t}", "{t}e0", "-{t}"])
    out = {}
    for name, c in zip(MONEY_COLUMNS, values, strict=True):
        form = "canonical" if mode == "canonical" else draw(st.sampled_from(["same0", "same1", "same2", "same3"]))
        if mode == "any" and draw(st.integers(0, 5)) == 0:
            form = draw(forms)
        empty = c == 0 and name.startswith("med_chrgitm") and draw(st.booleans())
        out[name] = "" if empty else cents_text(c, form)
    if draw(st.integers(0, 3)) == 0:  # one amount replaced: the sums no longer hold
        out[draw(st.sampled_from(MONEY_COLUMNS))] = draw(
            st.sampled_from(
                ["10000000000.00", "9999999999.99", "99999999999", "00000000001.00", "0.001", "1.", ".5", "", "0"]
            )
        )
    return out


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
    if draw(st.booleans()):
        values.update({c: x for c, x in draw(amounts()).items() if c in values})
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
def test_a_csv_line_reads_and_validates_as_the_exact_path_would(validator, reference, case):
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
    expected = outcome(reference, ref)
    assert outcome(validator, item) == expected
    assert outcome(validator, dict(item)) == expected  # the validator's own per-value path
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
def test_a_shaped_row_validates_as_a_plain_dict_when_its_promise_holds(validator, reference, over):
    raw = {**BASE, **over}
    if not all(parsing._shaped(x) and "," not in x for x in raw.values() if x):
        return  # not a row the CSV reader would shape
    expected = outcome(reference, raw)
    assert outcome(validator, ShapedRow(raw)) == expected
    assert outcome(validator, dict(raw)) == expected


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(amounts(), st.booleans(), st.sampled_from(["", "12.5", "48", "012.50", "1.005", "999999.99", "1000000"]))
def test_amounts_in_any_form_read_as_the_exact_path_reads_them(validator, reference, money, shaped, icu):
    raw = {**BASE, **money, "scs_cutd_sum_dura": icu, "adm_time": "2024-03-01", "dscg_time": "2024-12-31"}
    raw["act_ipt_days"] = "305"
    expected = outcome(reference, raw)
    assert outcome(validator, dict(raw)) == expected
    if shaped and all(parsing._shaped(x) and "," not in x for x in raw.values() if x):
        assert outcome(validator, ShapedRow(raw)) == expected


JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**15), 10**15),
        st.decimals(allow_nan=False, allow_infinity=False, places=3),
        st.floats(allow_nan=False),
        st.text(ALPHABET, max_size=12),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=3), inner, max_size=2)),
    max_leaves=4,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    amounts(),
    st.dictionaries(st.sampled_from(NAMES), st.one_of(JSON_VALUES, st.sampled_from(list(BASE.values()))), max_size=6),
    st.booleans(),
)
def test_any_json_values_validate_as_the_exact_path_would(validator, reference, money, over, lists):
    """JSON Lines rows: values of any JSON type (numbers as int or Decimal, arrays for the
    multi-valued fields or anywhere), as the exact path checks them."""
    raw: dict = {**BASE, **money}
    if lists:
        raw.update({m: raw[m].split("|") if raw[m] else [] for m in MULTI})
    raw.update(over)
    assert outcome(validator, raw) == outcome(reference, raw)


def test_generated_city_rows_take_the_fast_path_and_agree(validator, reference):
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
        assert outcome(validator, item) == outcome(reference, ref)


# COPY text: the staging line and its content hash (compared with accepted versions' hashes, so
# never to change) as the original copy_text wrote them.
_REF_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_REF_QUOTE = re.compile(r'[{}",\\\s]|^$|^[Nn][Uu][Ll][Ll]$')
_REF_PLAIN = (int, Decimal, date, datetime, uuid.UUID)


def reference_copy_text(value: object) -> str:
    def item(x: object) -> str:
        if x is None:
            return "NULL"
        t = str(x)
        if type(x) is str and _REF_QUOTE.search(t):
            return '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return t

    t = type(value)
    if t in _REF_PLAIN:
        return str(value)
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if t is list:
        if all(type(x) in _REF_PLAIN for x in value):  # type: ignore[attr-defined]
            return "{" + ",".join(map(str, value)) + "}"  # type: ignore[call-overload]
        return ("{" + ",".join([item(x) for x in value]) + "}").translate(_REF_ESCAPE)  # type: ignore[attr-defined]
    return str(value).translate(_REF_ESCAPE)


def reference_copy_line(row_no: int, values: dict) -> str:
    """As it always was, with the optional content (the doctor's code) after the content columns:
    in the hash only when given, so a row without it hashes as before migration 0016."""
    content = "\t".join([reference_copy_text(values[n]) for n in ingest.CONTENT])
    doctor = values.get("doctor_code")
    hashed = content if doctor is None else content + "\t" + reference_copy_text(doctor)
    digest = hashlib.md5(hashed.encode("utf-8"), usedforsecurity=False).hexdigest()
    tail = reference_copy_text(doctor)
    return f"{row_no}\t{content}\t{tail}\t{'t' if values['correction'] else 'f'}\t{digest}\n"


COPY_TEXT = st.text(st.one_of(ALPHABET, st.sampled_from(list('{}\\"nNuUlL \n'))), max_size=8)
COPY_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(),
    st.uuids(),
    COPY_TEXT,
    st.sampled_from(["NULL", "null", "nUlL", "NULLS", "", " ", "J18.900", "I10.x00x002"]),
)
COPY_VALUES = st.one_of(COPY_SCALARS, st.lists(COPY_SCALARS, max_size=4), st.lists(COPY_TEXT, max_size=4))


@settings(max_examples=2000, deadline=None)
@given(COPY_VALUES)
def test_copy_text_writes_every_value_as_it_always_has(value):
    assert ingest.copy_text(value) == reference_copy_text(value)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({n: COPY_VALUES for n in (*ingest.CONTENT, "correction")}), st.integers(1, 10**6))
def test_copy_line_and_its_hash_are_as_they_always_were(values, row_no):
    def result(f):  # a lone surrogate cannot be hashed (validated text never holds one): both raise
        try:
            return f(row_no, values)
        except UnicodeEncodeError as e:
            return repr(e)

    assert result(ingest.copy_line) == result(reference_copy_line)


def test_generated_rows_copy_as_they_always_did(validator):
    from dianshu.synthetic.city import GenerateOptions, generate_city

    with tempfile.TemporaryDirectory() as out:
        infos = generate_city(Path(out), GenerateOptions(years=(2024,), stays_per_year=800, processes=1))
        blob = (Path(out) / infos[0].path).read_bytes()
    rows = [validator.validate(item)[0] for _, item in RowParser("csv", True).feed(blob, final=True)]
    assert rows and all(rows)
    for i, values in enumerate(rows, start=1):
        assert ingest.copy_line(i, values) == reference_copy_line(i, values)  # type: ignore[arg-type]


def reference_jsonl(line: str) -> dict | str:
    """The exact path for a JSON line: the object as json.loads reads it (RowParser's hooks),
    values left for the validator's per-value checks."""
    try:
        obj = json.loads(
            line, parse_float=Decimal, parse_constant=parsing._no_constant, object_pairs_hook=parsing._unique_keys
        )
    except json.JSONDecodeError as e:
        return f"not valid JSON: {e.msg} at column {e.colno}"
    except parsing._RowError as e:
        return str(e)
    except ValueError as e:
        return f"not valid JSON: {e}"
    if not isinstance(obj, dict):
        return "not a JSON object"
    unknown = [k for k in obj if k not in NAMES]
    if unknown:
        return f"unknown field(s) {', '.join(unknown[:5])}"
    return obj


def as_taken(item: dict) -> tuple:
    """What the ingestion job reads from a row besides validating it: the control total's
    amount and the list id and hospital it records with a refusal."""
    try:
        amount: object = Decimal(str(item.get("medfee_sumamt") or "0").strip())
    except ArithmeticError:
        amount = "not a number"
    lid, hid = item.get("setl_id"), item.get("fixmedins_code")
    return amount, None if lid is None else ingest._printable(str(lid)), None if hid is None else str(hid)


JSON_NUMBERS = st.one_of(st.integers(-(10**15), 10**15), st.decimals(allow_nan=False, allow_infinity=False, places=2))


@st.composite
def json_lines(draw: st.DrawFn) -> str:
    """One JSON line: most values valid (strings, or arrays for the multi-valued fields), a few
    changed (any JSON value, hostile strings, numbers, arrays of anything), written compact or
    spaced, escaped or not, sometimes with the text edited around a quote."""
    obj: dict = {c: x for c, x in BASE.items() if x or draw(st.integers(0, 3)) == 0}
    if draw(st.booleans()):
        obj.update(draw(amounts()))
    if draw(st.booleans()):
        obj.update({m: obj[m].split("|") if obj.get(m) else [] for m in MULTI if m in obj})
    for name in draw(st.lists(st.sampled_from(NAMES), max_size=3)):
        obj[name] = draw(
            st.one_of(
                changed_value(name),
                JSON_VALUES,
                JSON_NUMBERS,
                st.lists(st.one_of(changed_value(name), st.sampled_from(["", "J18.900", "A|B", " x"])), max_size=3),
                st.none(),
            )
        )
    line = json.dumps(
        obj,
        ensure_ascii=draw(st.booleans()),
        separators=draw(st.sampled_from([(", ", ": "), (",", ":"), (" , ", " : ")])),
        default=str,
    )
    if draw(st.integers(0, 4)) == 0:  # a space or a character put next to a quote
        quotes = [i for i, ch in enumerate(line) if ch == '"']
        at = draw(st.sampled_from(quotes)) + draw(st.sampled_from([0, 1]))
        line = line[:at] + draw(st.sampled_from([" ", "  ", "\t", "\u3000", "|", "| ", "\\"])) + line[at:]
    return line


def json_line(obj: dict) -> str:
    return json.dumps(obj, ensure_ascii=False)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_lines())
@example(json_line({**BASE, "diag_codes": ["J18.900", ""], "adm_cond_types": ["1", "1"]}))
@example(json_line({**BASE, "oprn_oprt_codes": [""], "oprn_oprt_dates": [], "oprn_oprt_lvs": []}))
@example(json_line({**BASE, "oprn_oprt_codes": ["47.0100|47.0100"]}))
@example(json_line({**BASE, "diag_codes": ["J18.900 ", "I10.x00x002"]}))
@example(json_line({**BASE, "psn_no": " P1"}).replace('"psn_no": " P1"', '"psn_no":" P1"'))
@example(json_line({**BASE, "psn_no": "P1 "}).replace('"psn_no": "P1 "', '"psn_no":"P1 "'))
@example(json_line({**BASE, "diag_codes": "J18.900| I10.x00x002"}))
@example(json_line({**BASE, "diag_codes": "J18.900 |I10.x00x002"}))
@example(json_line({**BASE, "adm_caty": "a| b"}))
@example(json_line({**BASE, "correction": "0 "}))  # the line's last string
@example(json_line({**BASE, "correction": ["0 "]}))
@example(json_line({**BASE, "age": 64, "medfee_sumamt": None, "gend": True}))
@example(json_line({**BASE, "setl_id": 123, "age": 64}))
@example(json_line({**BASE, "medcasno": "MR\x00B1"}))
@example(json_line({**BASE, "medcasno": "MR\x85B1"}))
@example(json_line({**BASE, "medcasno": "MR\ud800"}))
@example(json_line({**BASE, "adm_caty": "科室😀"}))
@example(json_line({**BASE, "adm_caty": "呼吸内科\u3000"}))
def test_a_json_line_reads_and_validates_as_the_exact_path_would(validator, reference, line):
    p = RowParser("jsonl", False)
    got = list(p._line(line))
    ref = reference_jsonl(line)
    [(_, item)] = got
    if isinstance(ref, str):
        assert item == ref
        return
    assert isinstance(item, dict)
    expected = outcome(reference, ref)
    assert outcome(validator, item) == expected
    assert outcome(validator, ref) == expected  # the validator's own per-value path
    assert as_taken(item) == as_taken(ref)
    if type(item) is ShapedRow:
        errors: list = []
        validator._shape(ref, errors)
        assert errors == []


def test_a_plain_json_row_takes_the_fast_path():
    line = json.dumps({**BASE, "diag_codes": ["J18.900", "I10.x00x002"], "age": 64}, ensure_ascii=False)
    [(_, item)] = RowParser("jsonl", False)._line(line)
    assert type(item) is ShapedRow and item["diag_codes"] == "J18.900|I10.x00x002" and item["age"] == "64"
