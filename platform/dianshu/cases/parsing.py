"""Stream-parse an upload (CSV or JSON Lines, optionally gzipped) into row dicts, chunk by chunk,
never holding the file in memory.

A row that cannot be read is refused by its row number; the file as a whole is refused
(LayoutError) when it cannot be trusted to be complete: a gzip stream without its end marker,
a last line without a line end, an unreadable header, bytes that do not decode in the file's
encoding (UTF-8 or GB18030, chosen when the file was stored: dianshu.tabular.encoding)."""

from __future__ import annotations

import csv
import json
import re
import zlib
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from dianshu.cases.layout import MULTI, NAMES
from dianshu.cases.validation import ShapedRow
from dianshu.tabular.encoding import UTF8, EncodingRefused, StrictDecoder, refusal

GZIP_MAGIC = b"\x1f\x8b"
# One line is one row; a longer one is refused as a row and skipped, never held whole.
MAX_LINE_CHARS = 1 << 20
# Inflate at most this much at a time: a small compressed chunk may expand a thousandfold.
INFLATE_PIECE = 4 << 20
# Field lengths are checked by name in validation; the csv module's own 128 KiB cap would raise
# an exception for the whole file instead. Process-wide, and only ever raised.
csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_CHARS))

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
_TOO_LONG = object()  # stands for a line over MAX_LINE_CHARS


def _shaped(line: str) -> bool:
    """Whether a CSV line (without its line end) can be read by splitting at its commas into
    values that need no shape check (validation.ShapedRow): no quote; printable, so no control
    character or surrogate, and U+0020 is the only whitespace left; no space at either end or next
    to a comma or a '|'. A line that fails is read by the csv module and checked value by value."""
    return (
        '"' not in line
        and line.isprintable()
        and line[:1] != " "
        and line[-1:] != " "
        and ", " not in line
        and " ," not in line
        and "| " not in line
        and " |" not in line
    )


_NAME_SET = frozenset(NAMES)
_SHAPEABLE_JSON = frozenset((str, type(None), list, int, Decimal))
_STR = frozenset((str,))
_SPACE_QUOTE_END = re.compile(r' "[,:\]}]')  # a space, then a quote that may close a string


def _json_shaped(line: str, obj: dict[str, Any]) -> ShapedRow | None:
    """A JSON row as a ShapedRow (validation.ShapedRow, None kept for null) when the whole line
    shows its strings need no shape check, else None (the validator checks value by value).

    Without a backslash every string is verbatim in the line, so a printable line holds no control
    character or surrogate in any string, and U+0020 is the only whitespace left. A string with a
    leading space puts '" ' in the line; one with a trailing space puts ' "' before what may
    follow a closing quote in an object (whitespace, so '" ' again, or one of , : ] }). Only when
    either is there are the strings looked at one by one (a ' "' before an opening quote, as in
    json.dumps's ': "', is no padding).

    Values may be strings, null, numbers (written as the validator writes them, str()) or, in a
    multi-valued field, an array of strings, each without '|' (joined by '|', to be split back
    the same; not [""], which would not be); a multi-valued field's text has no space next to a
    '|'. Anything else (true/false, objects, other arrays) is left to the per-value checks."""
    if "\\" in line or not line.isprintable():
        return None
    if ('" ' in line or _SPACE_QUOTE_END.search(line)) and _padded_string(line):
        return None
    kinds = list(map(type, obj.values()))
    types = set(kinds)
    if not _SHAPEABLE_JSON.issuperset(types):
        return None
    row = ShapedRow(obj)
    arrays = 0
    for m in MULTI:
        x = row.get(m)
        if type(x) is list:
            items = x
            if not _STR.issuperset(map(type, items)) or items == [""]:
                return None
            x = row[m] = "|".join(items)
            if items and x.count("|") != len(items) - 1:  # an item holds a '|'
                return None
            arrays += 1
        if type(x) is str and ("| " in x or " |" in x):
            return None
    if list in types and arrays != kinds.count(list):  # an array in a single-valued field
        return None
    if int in types or Decimal in types:
        for k, t in zip(obj, kinds, strict=True):
            if t is int or t is Decimal:
                row[k] = str(obj[k])
    return row


def _padded_string(line: str) -> bool:
    """Whether a JSON string in a line without backslashes starts or ends with a space: between
    its quotes (every other piece split at '"'), the strings joined by '"' show one as a quote
    next to a space, or a space at either end."""
    strings = '"'.join(line.split('"')[1::2])
    return strings[:1] == " " or strings[-1:] == " " or '" ' in strings or ' "' in strings


class LayoutError(ValueError):
    """The file as a whole cannot be read (header, encoding, format, truncation): the batch is refused."""


class _RowError(ValueError):
    """One line cannot be read as a row."""


def sniff_format(filename: str, head: bytes) -> tuple[str, bool]:
    name = filename.lower()
    compressed = head.startswith(GZIP_MAGIC)
    base = name[:-3] if name.endswith(".gz") else name
    if base.endswith(".csv"):
        return "csv", compressed
    if base.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl", compressed
    raise LayoutError(f"file {filename!r}: name it .csv or .jsonl (optionally .gz)")


def _no_constant(name: str) -> Any:
    raise _RowError(f"not valid JSON: {name} is not a number")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        twice = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _RowError(f"field {twice} appears twice")
    return obj


class Inflater:
    """A gzip stream inflated piece by piece, at most INFLATE_PIECE bytes at a time; concatenated
    gzip members are one stream (RFC 1952); a stream without its end marker is a truncated file."""

    def __init__(self) -> None:
        self.z = zlib.decompressobj(wbits=31)

    def pieces(self, data: bytes, final: bool) -> Iterator[bytes]:
        z = self.z
        try:
            while data:
                yield z.decompress(data, INFLATE_PIECE)
                data = z.unconsumed_tail
                if z.eof and not data and z.unused_data:
                    data = z.unused_data  # the next member starts here
                    z = self.z = zlib.decompressobj(wbits=31)
            if final:
                yield z.flush()
                if not z.eof:
                    raise LayoutError(
                        "the compressed file is truncated: the gzip stream ends before its end marker "
                        "(nothing was accepted; send the whole file again)"
                    )
        except zlib.error as e:
            raise LayoutError(f"not a valid gzip file: {e}") from e


class RowParser:
    """feed(bytes) -> parsed rows; each row is (row_no, dict) or (row_no, error text).

    The text is decoded strictly in `encoding` (EncodingRefused for a byte that does not decode,
    with the field `encoding` when the sender declared it). JSON numbers are read as Decimal
    (never float, which would round amounts)."""

    def __init__(self, fmt: str, compressed: bool, encoding: str = UTF8, declared: bool = False) -> None:
        self.fmt = fmt
        self.inflate = Inflater() if compressed else None
        self.decoder = StrictDecoder(encoding)
        self.declared = declared
        self.pending = ""
        self.skipping = False  # inside a line over MAX_LINE_CHARS: drop text until its newline
        self.header: list[str] | None = None
        self.row_no = 0
        self.bytes_in = 0

    def feed(self, data: bytes, final: bool = False) -> Iterator[tuple[int, dict[str, Any] | str]]:
        self.bytes_in += len(data)
        pieces = self.inflate.pieces(data, final) if self.inflate is not None else iter([data])
        last = b""
        for piece in pieces:
            if last:
                yield from self._text(last, False)
            last = piece
        yield from self._text(last, final)

    def _text(self, data: bytes, final: bool) -> Iterator[tuple[int, dict[str, Any] | str]]:
        try:
            text = self.decoder.decode(data, final)
        except EncodingRefused as e:
            raise refusal(e, self.declared) from None
        parts = text.split("\n")
        if self.skipping:
            if len(parts) == 1:
                if final:  # the over-long last line never ended
                    raise LayoutError(self._no_line_end())
                return
            parts, self.skipping = parts[1:], False
        parts[0] = self.pending + parts[0]
        self.pending = parts.pop()
        lines: list[Any] = [p if len(p) <= MAX_LINE_CHARS else _TOO_LONG for p in parts]
        if len(self.pending) > MAX_LINE_CHARS:
            lines.append(_TOO_LONG)
            self.pending, self.skipping = "", True
        for line in lines:
            yield from self._line(line)
        if final and (self.pending or self.skipping):
            no_line_end = self._no_line_end()
            if self.fmt == "csv" and self.header is None and "\r" in self.pending:
                yield from self._line(self.pending)  # CR-only line endings: that error says more
            raise LayoutError(no_line_end)

    def _no_line_end(self) -> str:
        """Every line, the last one too, must end with LF or CRLF. A last line without one is the
        only trace of a file cut short, and a cut line can still parse (`MRL2` cut to `MR` in a
        last CSV column, a number cut short as the last JSON value), so the whole file is refused
        whether or not that line would read as a row. The same holds inside a gzip stream: its end
        marker and CRC prove the stream is the one the sender compressed, not that the text was
        whole when it was compressed (an export cut off, then gzipped), and a file gets the same
        verdict plain or gzipped."""
        which = "the header" if self.fmt == "csv" and self.header is None else f"row {self.row_no + 1}"
        if self.skipping:  # the over-long last line was already counted (and refused) as its row
            which = f"row {self.row_no}"
        return (
            f"the last line ({which}) has no line end (LF or CRLF): the file may be cut short "
            "(nothing was accepted; send the whole file again)"
        )

    def _line(self, line: Any) -> Iterator[tuple[int, dict[str, Any] | str]]:
        if line is _TOO_LONG:
            if self.header is None and self.fmt == "csv":
                raise LayoutError(f"header: longer than {MAX_LINE_CHARS:,} characters")
            self.row_no += 1
            yield self.row_no, f"the line is longer than {MAX_LINE_CHARS:,} characters"
            return
        if line.endswith("\r"):  # CRLF
            line = line[:-1]
        if not line.strip():
            return
        try:
            if self.fmt == "csv":
                item = self._csv(line)
                if item is None:
                    return
            else:
                self.row_no += 1
                item = self._jsonl(line)
        except _RowError as e:
            item = str(e)
        yield self.row_no, item

    def _csv(self, line: str) -> dict[str, Any] | None:
        # Quoted fields never hold newlines in this layout, so each line is one record: a stray
        # quote refuses its own row instead of swallowing the rows after it.
        if self.header is None:
            if "\r" in line:
                raise LayoutError(
                    "the header line holds a carriage return: the file has CR-only (old Mac) line endings; "
                    "send it with LF or CRLF line endings"
                )
            try:
                fields = next(csv.reader([line], strict=True))
            except csv.Error as e:
                raise LayoutError(f"header: cannot be read as CSV: {e}") from e
            self.header = [h.strip() for h in fields]
            unknown = [h for h in self.header if h not in NAMES]
            missing = [c for c in REQUIRED if c not in self.header]
            if unknown and len(unknown) == len(self.header):
                # Most likely a row where the header should be: its values (a patient id among
                # them) are not repeated into the batch's reason, which is stored.
                raise LayoutError(
                    "header: no known column name: the first line must be the header (setl_id, fixmedins_code, ...)"
                )
            if unknown:
                raise LayoutError(f"header: unknown column(s) {', '.join(h[:40] for h in unknown[:10])}")
            if missing:
                raise LayoutError(f"header: missing required column(s) {', '.join(missing)}")
            if len(set(self.header)) != len(self.header):
                raise LayoutError("header: a column appears twice")
            return None
        self.row_no += 1
        if _shaped(line):
            # No quote, so the csv module would split at every comma; the whole line was checked
            # for what the validator's per-value shape checks look for.
            fields = line.split(",")
            if len(fields) != len(self.header):
                raise _RowError(f"{len(fields)} fields, the header has {len(self.header)}")
            return ShapedRow(zip(self.header, fields, strict=True))
        try:
            fields = next(csv.reader([line], strict=True))
        except csv.Error as e:
            reason = "a carriage return (CR) inside the line" if "new-line" in str(e) else str(e)
            raise _RowError(f"cannot be read as CSV: {reason}") from e
        if len(fields) != len(self.header):
            raise _RowError(f"{len(fields)} fields, the header has {len(self.header)}")
        return dict(zip(self.header, fields, strict=True))

    def _jsonl(self, line: str) -> dict[str, Any]:
        try:
            obj = json.loads(line, parse_float=Decimal, parse_constant=_no_constant, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as e:
            raise _RowError(f"not valid JSON: {e.msg} at column {e.colno}") from e
        except _RowError:
            raise
        except ValueError as e:  # digits beyond int's limit
            raise _RowError(f"not valid JSON: {e}") from e
        if not isinstance(obj, dict):
            raise _RowError("not a JSON object")
        if not _NAME_SET.issuperset(obj):
            unknown = [k for k in obj if k not in NAMES]
            raise _RowError(f"unknown field(s) {', '.join(unknown[:5])}")
        return _json_shaped(line, obj) or obj
