"""Reading an export file back against the national field table (data/fields_4101a.csv), written
independently of the writer: every line's sections and fields in the table's order, nothing else,
each value of its type and length, every required field given, and every coded value one of the
codes the table lists."""

from __future__ import annotations

import csv
import json
import re
from decimal import Decimal

from dianshu.national.layout import FIELDS_CSV

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DURATION = re.compile(r"^\d+/(?:1?\d|2[0-3])/[0-5]?\d$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def table() -> list[dict[str, str]]:
    with FIELDS_CSV.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def written() -> list[dict[str, str]]:
    """The table's fields an export carries (an omitted national field is not written)."""
    return [f for f in table() if not f["omitted"]]


def codes(values: str) -> set[str] | None:
    """The codes a field's values column lists ("1 男; 2 女" -> {"1", "2"}), or None (a format)."""
    parts = [p.strip() for p in values.split(";") if p.strip()]
    found = [p.split(" ", 1)[0] for p in parts]
    if not found or not all(x.isdigit() for x in found):
        return None
    return set(found)


def check_value(f: dict[str, str], value, where: str) -> list[str]:
    name = f"{where} {f['section']}.{f['field']}"
    if value is None:
        return [f"{name}: required"] if f["required"] == "1" else []
    t, length = f["type"], f["length"]
    if t == "char":
        if type(value) is not str:
            return [f"{name}: not a string"]
        if len(value) > int(length):
            return [f"{name}: longer than {length}"]
        allowed = codes(f["values"])
        if allowed is not None and value not in allowed:
            return [f"{name}: {value!r} is not one of {sorted(allowed)}"]
        if f["values"] == "天数/小时数/分钟数" and not DURATION.match(value):
            return [f"{name}: {value!r} is not days/hours/minutes"]
        return []
    if t == "date":
        return [] if type(value) is str and DATE.match(value) else [f"{name}: not yyyy-MM-dd"]
    if t == "datetime":
        return [] if type(value) is str and DATETIME.match(value) else [f"{name}: not yyyy-MM-dd HH:mm:ss"]
    assert t == "num", t
    if not isinstance(value, int | Decimal) or isinstance(value, bool):
        return [f"{name}: not a number"]
    precision, _, scale = length.partition(",")
    d = Decimal(value)
    places = -d.as_tuple().exponent if d.as_tuple().exponent < 0 else 0
    if places != int(scale or 0):
        return [f"{name}: {places} places, the table says {scale or 0}"]
    if len(d.as_tuple().digits) > int(precision):
        return [f"{name}: more than {precision} digits"]
    return []


def check_file(content: bytes) -> list[str]:
    """Every deviation of the file from the table (an empty list: the file follows it)."""
    fields = table()
    sections: dict[str, list[dict[str, str]]] = {f["section"]: [] for f in fields}
    fields = written()
    for f in fields:
        sections.setdefault(f["section"], []).append(f)
    problems = []
    assert not content.startswith(b"\xef\xbb\xbf"), "no BOM"
    text = content.decode("utf-8")
    assert text == "" or (text.endswith("\n") and "\r" not in text)
    for n, raw in enumerate(text.splitlines(), start=1):
        obj = json.loads(raw, parse_float=Decimal)
        where = f"line {n}"
        expected = [f["field"] for f in sections["record"]] + [s for s in sections if s != "record"]
        if list(obj) != expected:
            problems.append(f"{where}: keys {list(obj)}, the table's {expected}")
            continue
        for f in sections["record"]:
            problems += check_value(f, obj[f["field"]], where)
        for s, fs in sections.items():
            if s == "record":
                continue
            items = [obj[s]] if s == "setlinfo" else obj[s]
            if s != "setlinfo" and type(items) is not list:
                problems.append(f"{where}: {s} is not an array")
                continue
            for item in items:
                if list(item) != [f["field"] for f in fs]:
                    problems.append(f"{where}: {s} fields {list(item)}")
                    continue
                for f in fs:
                    problems += check_value(f, item[f["field"]], where)
    return problems
