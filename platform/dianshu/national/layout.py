"""The national upload layout (pure: plain values in, bytes out).

The field table (data/fields_4101a.csv: section, field, 中文名, type, length, required, our
source, code values) is the one home of the layout: the writer below follows it field by field,
and a test reads the written file back against it. One settlement list per line (JSON Lines,
UTF-8 without a BOM, LF), its sections in the table's order: the platform's upload flag, setlinfo
(an object), then payinfo, diseinfo, oprninfo, iteminfo and icuinfo (arrays of objects); in every
object the fields in the table's order, an optional field without a value as null. Deterministic:
no timestamp, lines ordered by hospital code and list id (code point order), amounts with their
fixed places, times as yyyy-MM-dd HH:mm:ss. The same data gives the same bytes."""

from __future__ import annotations

import csv
import datetime
import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

FIELDS_CSV = Path(__file__).resolve().parent / "data" / "fields_4101a.csv"
TYPES = ("char", "num", "date", "datetime")
RECORD = "record"  # the line's own fields (top level)
OBJECT_SECTIONS = ("setlinfo",)  # one object; every other section is an array of objects

# 上传标志 (upld_flag), against the month's first upload.
FIRST_UPLOAD, CORRECTED, WITHDRAWN = 0, 1, 2
# A national duration field: 天数/小时数/分钟数 (37.4 hours: "1/13/24").
DURATION = "天数/小时数/分钟数"
_DURATION = re.compile(r"^\d+/(?:[01]?\d|2[0-3])/[0-5]?\d$", re.ASCII)
# Our fund types as the national 医保类型 (hi_type) and 基金支付类型 (fund_pay_type).
HI_TYPE = {"employee": "310", "resident": "390"}
FUND_PAY_TYPE = {"employee": "310100", "resident": "390100"}


@dataclass(frozen=True)
class Field:
    section: str
    name: str
    name_zh: str
    type: str
    length: str  # char: characters; num: "precision" or "precision,scale"; date 10; datetime 19
    required: bool
    source: str
    values: str
    omitted: str  # why we leave a national field out ("" when we write it)

    @property
    def codes(self) -> frozenset[str] | None:
        """The codes the values column lists ("1 男; 2 女" -> {"1", "2"}), or None (no code list)."""
        found = [p.strip().split(" ", 1)[0] for p in self.values.split(";") if p.strip()]
        return frozenset(found) if found and all(x.isdigit() for x in found) else None

    @property
    def precision(self) -> int:
        return int(self.length.split(",")[0])

    @property
    def scale(self) -> int:
        parts = self.length.split(",")
        return int(parts[1]) if len(parts) > 1 else 0


class LayoutViolation(ValueError):
    """A value does not fit the field table (names the list, section and field)."""


@lru_cache(maxsize=1)
def field_table() -> tuple[Field, ...]:
    with FIELDS_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    fields = []
    for r in rows:
        if r["type"] not in TYPES or r["required"] not in ("0", "1"):
            raise ValueError(f"{FIELDS_CSV.name}: bad type or required in {r['section']}.{r['field']}")
        fields.append(
            Field(
                r["section"],
                r["field"],
                r["name_zh"],
                r["type"],
                r["length"],
                r["required"] == "1",
                r["source"],
                r["values"],
                r["omitted"],
            )
        )
    return tuple(fields)


@lru_cache(maxsize=1)
def sections() -> tuple[tuple[str, tuple[Field, ...]], ...]:
    """The sections in the table's order, each with the fields we write in order (an omitted
    national field is listed in the table with its reason and not written)."""
    out: dict[str, list[Field]] = {}
    for f in field_table():
        out.setdefault(f.section, [])
        if not f.omitted:
            out[f.section].append(f)
    return tuple((name, tuple(fs)) for name, fs in out.items())


def _encode(field: Field, value: Any, where: str) -> str:
    """One value as JSON text, checked against its field."""
    if value is None or value == "":
        if field.required:
            raise LayoutViolation(f"{where}: {field.section}.{field.name} ({field.name_zh}) is required")
        return "null"
    if field.type == "char":
        text = str(value)
        if len(text) > int(field.length):
            raise LayoutViolation(f"{where}: {field.section}.{field.name} longer than {field.length} characters")
        if (codes := field.codes) is not None and text not in codes:
            raise LayoutViolation(
                f"{where}: {field.section}.{field.name} ({field.name_zh}) {text!r} is not one of {sorted(codes)}"
            )
        if field.values == DURATION and not _DURATION.match(text):
            raise LayoutViolation(f"{where}: {field.section}.{field.name} is not {DURATION}")
        return json.dumps(text, ensure_ascii=False)
    if field.type == "date":
        return f'"{value:%Y-%m-%d}"'
    if field.type == "datetime":
        return f'"{value:%Y-%m-%d %H:%M:%S}"'
    # num: an exact number with the field's places.
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise LayoutViolation(f"{where}: {field.section}.{field.name} must be a number")
    number = Decimal(value).quantize(Decimal(1).scaleb(-field.scale))
    if number != value:
        raise LayoutViolation(f"{where}: {field.section}.{field.name} has more than {field.scale} places")
    if len(number.as_tuple().digits) > field.precision:
        raise LayoutViolation(f"{where}: {field.section}.{field.name} has more than {field.precision} digits")
    return format(number, "f")


def _object(fields: tuple[Field, ...], values: Mapping[str, Any], where: str) -> str:
    if unknown := sorted(set(values) - {f.name for f in fields}):
        raise LayoutViolation(f"{where}: {unknown[0]} is not a field of the table")
    return "{" + ",".join(f'"{f.name}":{_encode(f, values.get(f.name), where)}' for f in fields) + "}"


def line(record: Mapping[str, Any]) -> str:
    """One settlement list as its line: `record` maps the section names to their values (the
    record section's fields at the top level, setlinfo a mapping, the others lists of mappings)."""
    setl = record.get("setlinfo") or {}
    where = f"{setl.get('fixmedins_code')}/{setl.get('setl_id')}"
    parts = []
    for name, fields in sections():
        if name == RECORD:
            parts.extend(f'"{f.name}":{_encode(f, record.get(f.name), where)}' for f in fields)
        elif name in OBJECT_SECTIONS:
            parts.append(f'"{name}":{_object(fields, record.get(name) or {}, where)}')
        else:
            items = record.get(name) or []
            parts.append(f'"{name}":[' + ",".join(_object(fields, item, where) for item in items) + "]")
    return "{" + ",".join(parts) + "}\n"


def duration(hours: Decimal | None) -> str | None:
    """Hours as the national 天数/小时数/分钟数, to the nearest minute (half up): 37.40 h is 2244
    minutes, 1 day 13 hours 24 minutes, "1/13/24"; 0.5 h "0/0/30"."""
    if hours is None:
        return None
    minutes = int((Decimal(hours) * 60).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    days, rest = divmod(minutes, 24 * 60)
    return f"{days}/{rest // 60}/{rest % 60}"


def national_record(case: Mapping[str, Any], hospital_name: str, flag: int) -> dict[str, Any]:
    """A stored case (case_record's columns by name) in the national sections, code values mapped."""
    diagnoses, conds = list(case["diagnoses"]), list(case["dx_admit_cond"] or [])
    procedures, dates = list(case["procedures"]), list(case["proc_dates"] or [])
    return {
        "upld_flag": str(flag),
        "setlinfo": {
            "setl_id": case["list_id"],
            "fixmedins_code": case["hospital_id"],
            "fixmedins_name": hospital_name,
            "medcasno": case["mrn"],
            "psn_no": case["patient_id"],
            "gend": str(case["sex"]),
            "brdy": case["birth_date"],
            "age": case["age_years"],
            "nwb_age": case["age_days"],
            "nwb_bir_wt": case["birth_weight_g"],
            "nwb_adm_wt": case["admit_weight_g"],
            "hi_type": HI_TYPE[case["fund_type"]],
            "adm_way": None if case["admission_route"] is None else str(case["admission_route"]),
            "adm_time": case["admit_time"],
            "adm_caty": case["admit_dept"],
            "dscg_time": case["discharge_time"],
            "dscg_caty": case["discharge_dept"],
            "act_ipt_days": case["los_days"],
            "dscg_way": str(case["discharge_way"]),
            # The national 出院31天内再住院计划: 1 无 (none), 2 有 (planned).
            "days_rinp_flag_31": "2" if case["readmit_planned"] else "1",
            "chfpdr_code": case["doctor_code"],
            "diag_code_cnt": len(diagnoses),
            "oprn_oprt_code_cnt": len(procedures),
            "vent_used_dura": duration(case["vent_hours"]),
            "psn_selfpay": case["self_pay"],
            "psn_ownpay": case["own_pay"],
        },
        "payinfo": [{"fund_pay_type": FUND_PAY_TYPE[case["fund_type"]], "fund_payamt": case["fund_pay"]}],
        "diseinfo": [
            {
                "diag_type": "1",
                "diag_code": code,
                "maindiag_flag": "1" if i == 0 else "0",
                "adm_cond_type": str(conds[i]) if i < len(conds) and conds[i] is not None else None,
            }
            for i, code in enumerate(diagnoses)
        ],
        "oprninfo": [
            {
                "oprn_oprt_type": "1" if i == 0 else "2",
                "oprn_oprt_code": code,
                "oprn_oprt_date": dates[i] if i < len(dates) else None,
            }
            for i, code in enumerate(procedures)
        ],
        "iteminfo": [{"med_chrgitm": f"{i:02d}", "amt": amt} for i, amt in enumerate(case["charges"], start=1)],
        "icuinfo": [] if case["icu_hours"] is None else [{"scs_cutd_sum_dura": duration(case["icu_hours"])}],
    }


@dataclass(frozen=True)
class Built:
    content: bytes
    sha256: str
    lists: int
    counts: dict[int, int]  # upld_flag -> lines


def build_file(entries: Iterable[tuple[Mapping[str, Any], str, int]]) -> Built:
    """The file of (case, hospital name, flag) entries: ordered by hospital code and list id."""
    ordered = sorted(entries, key=lambda e: (e[0]["hospital_id"], e[0]["list_id"]))
    counts = {FIRST_UPLOAD: 0, CORRECTED: 0, WITHDRAWN: 0}
    out = []
    for case, name, flag in ordered:
        out.append(line(national_record(case, name, flag)))
        counts[flag] += 1
    content = "".join(out).encode("utf-8")
    return Built(content, hashlib.sha256(content).hexdigest(), len(ordered), counts)


def file_name(tenant: str, month: datetime.date, seq: int) -> str:
    """4101A_<region>_<YYYYMM>_<seq>.jsonl (seq 01: the month's first upload)."""
    return f"4101A_{tenant}_{month:%Y%m}_{seq:02d}.jsonl"
