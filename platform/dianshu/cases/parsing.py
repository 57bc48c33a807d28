"""Stream-parse an upload (CSV or JSON Lines, optionally gzipped) into row dicts, chunk by chunk,
never holding the file in memory."""

from __future__ import annotations

import codecs
import csv
import json
import zlib
from collections.abc import Iterator
from typing import Any

from dianshu.cases.layout import NAMES

GZIP_MAGIC = b"\x1f\x8b"
REQUIRED = tuple(
    c
    for c in NAMES
    if c
    in {
        "setl_id",
        "fixmedins_code",
        "medcasno",
        "psn_no",
        "gend",
        "age",
        "insutype",
        "insu_place",
        "adm_time",
        "dscg_time",
        "act_ipt_days",
        "dscg_way",
        "diag_codes",
        "medfee_sumamt",
        "fund_pay_sumamt",
        "psn_selfpay",
        "psn_ownpay",
    }
)


class LayoutError(ValueError):
    """The file as a whole cannot be read (header, encoding, format): the batch is refused."""


def sniff_format(filename: str, head: bytes) -> tuple[str, bool]:
    name = filename.lower()
    compressed = head.startswith(GZIP_MAGIC)
    base = name[:-3] if name.endswith(".gz") else name
    if base.endswith(".csv"):
        return "csv", compressed
    if base.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl", compressed
    raise LayoutError(f"file {filename!r}: name it .csv or .jsonl (optionally .gz)")


class RowParser:
    """feed(bytes) -> parsed rows; each row is (row_no, dict) or (row_no, error text)."""

    def __init__(self, fmt: str, compressed: bool) -> None:
        self.fmt = fmt
        self.inflate = zlib.decompressobj(wbits=31) if compressed else None
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.pending = ""
        self.header: list[str] | None = None
        self.row_no = 0
        self.bytes_in = 0

    def feed(self, data: bytes, final: bool = False) -> Iterator[tuple[int, dict[str, Any] | str]]:
        self.bytes_in += len(data)
        if self.inflate is not None:
            try:
                data = self.inflate.decompress(data) + (self.inflate.flush() if final else b"")
            except zlib.error as e:
                raise LayoutError(f"not a valid gzip file: {e}") from e
        try:
            text = self.pending + self.decoder.decode(data, final)
        except UnicodeDecodeError as e:
            raise LayoutError(f"not UTF-8 text near row {self.row_no + 1}: {e.reason}") from e
        lines = text.split("\n")
        self.pending = "" if final else lines.pop()
        if self.fmt == "csv":
            yield from self._csv(lines)
        else:
            yield from self._jsonl(lines)

    def _csv(self, lines: list[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
        # Quoted fields never hold newlines in this layout, so each line is one record.
        for fields in csv.reader(line.rstrip("\r") for line in lines if line.strip()):
            if self.header is None:
                self.header = [h.strip() for h in fields]
                unknown = [h for h in self.header if h not in NAMES]
                missing = [c for c in REQUIRED if c not in self.header]
                if unknown:
                    raise LayoutError(f"header: unknown column(s) {', '.join(unknown)}")
                if missing:
                    raise LayoutError(f"header: missing required column(s) {', '.join(missing)}")
                if len(set(self.header)) != len(self.header):
                    raise LayoutError("header: a column appears twice")
                continue
            self.row_no += 1
            if len(fields) != len(self.header):
                yield self.row_no, f"{len(fields)} fields, the header has {len(self.header)}"
            else:
                yield self.row_no, dict(zip(self.header, fields, strict=True))

    def _jsonl(self, lines: list[str]) -> Iterator[tuple[int, dict[str, Any] | str]]:
        for line in lines:
            if not line.strip():
                continue
            self.row_no += 1
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                yield self.row_no, f"not valid JSON: {e.msg} at column {e.colno}"
                continue
            if not isinstance(obj, dict):
                yield self.row_no, "not a JSON object"
                continue
            unknown = [k for k in obj if k not in NAMES]
            if unknown:
                yield self.row_no, f"unknown field(s) {', '.join(unknown[:5])}"
                continue
            yield self.row_no, obj
