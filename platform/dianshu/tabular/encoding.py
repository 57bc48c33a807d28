"""The text encoding of an uploaded file: the one home of the rule every upload path follows
(settlement lists over HTTP, GraphQL and `dianshu ingest`; roster, training and other sheet imports).

Accepted: UTF-8 (with or without a byte-order mark) and GB18030, which is what Excel's "Save as
CSV" writes on Chinese Windows ("ANSI": GBK, of which GB18030 is a superset, so `gbk` and `gb2312`
are accepted as names and decoded as GB18030). The sender may declare the encoding (`encoding`:
utf-8, gb18030, gbk); otherwise it is detected, strictly and explainably:

1. the bytes are valid UTF-8 (a BOM or not): utf-8;
2. otherwise they decode as GB18030 without error: gb18030 (not when they start with a UTF-8 BOM:
   a file that says it is UTF-8 and is not is broken, not Chinese ANSI);
3. otherwise the file is refused, naming the byte offset and line of the first byte that is not.

A declared encoding is used as declared; bytes that do not decode in it are refused naming the
field `encoding`. Nothing is ever replaced: a character either decodes or the file is refused."""

from __future__ import annotations

import codecs
from dataclasses import dataclass

UTF8 = "utf-8"
GB18030 = "gb18030"
# Every name accepted for `encoding` -> the encoding decoded.
NAMES = {"utf-8": UTF8, "utf8": UTF8, "gb18030": GB18030, "gbk": GB18030, "gb2312": GB18030}
BOM = codecs.BOM_UTF8
ACCEPTED = "utf-8, gb18030 (gbk and gb2312 are read as gb18030)"


@dataclass(frozen=True)
class Position:
    """Where the first byte that does not decode is: 0-based offset, 1-based line (LF-counted)."""

    offset: int
    line: int
    bytes: bytes  # the bytes that do not decode (empty: the file ends inside a character)
    cut: bool = False  # the file ends inside a character: cut short, not another encoding

    def __str__(self) -> str:
        shown = " ".join(f"0x{b:02X}" for b in self.bytes)
        what = f"byte(s) {shown}" if shown else "the end of the file (inside a character)"
        return f"{what} at offset {self.offset:,} (line {self.line:,})"


class EncodingRefused(ValueError):
    """The bytes cannot be read as text: `field` is `encoding` (a declared encoding that is not
    accepted or that the bytes contradict) or `file` (detected: neither UTF-8 nor GB18030);
    `position` is where, when it is about a byte; `encoding` what the bytes were decoded as."""

    def __init__(self, field: str, reason: str, position: Position | None = None, encoding: str | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field, self.reason, self.position, self.encoding = field, reason, position, encoding


def canonical(name: str | None) -> str | None:
    """A declared encoding by the name it is decoded as (None: not declared, detect it)."""
    if name is None or not name.strip():
        return None
    enc = NAMES.get(name.strip().lower().replace("_", "-"))
    if enc is None:
        raise EncodingRefused("encoding", f"{name[:40]!r} is not accepted: give {ACCEPTED}, or leave it out to detect")
    return enc


class StrictDecoder:
    """Incremental strict decoding that knows where it is: decode(piece) -> text; the first byte
    that does not decode raises EncodingRefused (field `file`; see `refusal`) naming its offset and
    line. A leading BOM (UTF-8's, or GB18030's U+FEFF) is dropped."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._decoder = codecs.getincrementaldecoder("utf-8-sig" if encoding == UTF8 else GB18030)()
        self._fed = 0  # bytes fed before this call
        self._lines = 0  # LFs in them
        self._first = True

    def _position(self, pending: bytes, data: bytes, error: UnicodeDecodeError) -> Position:
        """Where decoding fails: the first error of the bytes that were pending plus this piece
        (the incremental decoder raised, so there is one; pending bytes hold no LF, which is never
        part of a multibyte character in either encoding)."""
        probe = pending + data
        try:
            probe.decode(self.encoding)
            start, end, why = len(pending) + error.start, len(pending) + error.end, error.reason
        except UnicodeDecodeError as e:
            start, end, why = e.start, e.end, e.reason
        line = self._lines + probe[:start].count(b"\n") + 1
        # Cut short: the last bytes begin a character (a GB18030 lead byte is 0x81-0xFE; Python
        # calls 0x80 and 0xFF "incomplete" too, but they begin none).
        lead = start < len(probe) and 0x81 <= probe[start] <= 0xFE
        cut = end == len(probe) and (why == "unexpected end of data" or (why.startswith("incomplete") and lead))
        return Position(self._fed - len(pending) + start, line, probe[start:end], cut)

    def decode(self, data: bytes, final: bool = False) -> str:
        pending = self._decoder.getstate()[0]  # after an error the state says nothing
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as e:
            where = self._position(pending, data, e)
            raise EncodingRefused(
                "file", f"not {self.encoding.upper()} text from {where}", where, self.encoding
            ) from None
        self._fed += len(data)
        self._lines += data.count(b"\n")
        if self._first and text:
            self._first = False
            if text[0] == "\ufeff":  # GB18030's BOM (UTF-8's is dropped by utf-8-sig)
                text = text[1:]
        return text


class Utf8Check:
    """Feed a file's bytes in pieces; `failed` is where it first stops being UTF-8 (None: valid)."""

    def __init__(self) -> None:
        self._decoder = StrictDecoder(UTF8)
        self.failed: Position | None = None
        self._head = b""

    @property
    def bom(self) -> bool:
        return self._head.startswith(BOM)

    def feed(self, data: bytes, final: bool = False) -> None:
        if len(self._head) < 3:
            self._head = (self._head + data)[:3]
        if self.failed is None:
            try:
                self._decoder.decode(data, final)
            except EncodingRefused as e:
                self.failed = e.position


def choose(declared: str | None, check: Utf8Check) -> str:
    """The encoding to decode a file in, from its declared encoding (canonical) and the UTF-8
    check of all its bytes; EncodingRefused when UTF-8 is declared, or its BOM is there, and the
    bytes are not UTF-8. GB18030 is chosen here and decoded strictly later (StrictDecoder)."""
    failed = check.failed
    if failed is None:
        return declared or UTF8
    if declared == UTF8:
        raise EncodingRefused(
            "encoding",
            f"declared utf-8, but the file is not UTF-8 from {failed}; declare gb18030 if it was saved as "
            "Chinese ANSI/GBK, or leave encoding out to detect it",
            failed,
        )
    if declared is None and failed.cut:
        raise EncodingRefused(
            "file",
            f"is UTF-8 but ends inside a character ({failed}): the file may be cut short "
            "(nothing was accepted; send the whole file again)",
            failed,
        )
    if declared is None and check.bom:
        raise EncodingRefused("file", f"starts with a UTF-8 byte-order mark but is not UTF-8 from {failed}", failed)
    if declared is None and failed.offset == 0 and check._head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise EncodingRefused("file", "is UTF-16 (Excel's 'Unicode Text'): save it as 'CSV UTF-8' or CSV", failed)
    return GB18030


def refusal(e: EncodingRefused, declared: bool) -> EncodingRefused:
    """A StrictDecoder's refusal as the sender should read it: for a declared encoding the field is
    `encoding`; detected as GB18030 (it was not UTF-8), the file is neither."""
    enc = e.encoding or UTF8
    if declared:
        return EncodingRefused(
            "encoding", f"declared {enc}, but the file is not {enc.upper()} from {e.position}", e.position, enc
        )
    if enc == GB18030 and e.position is not None and e.position.cut:
        return EncodingRefused(
            "file",
            f"is GB18030 but ends inside a character ({e.position}): the file may be cut short "
            "(nothing was accepted; send the whole file again)",
            e.position,
            enc,
        )
    if enc == GB18030:
        return EncodingRefused(
            "file", f"neither UTF-8 nor GB18030 text: not GB18030 from {e.position}", e.position, enc
        )
    return e


def decode(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """A whole file's text and the encoding it was read in (the rule above); EncodingRefused."""
    enc_declared = canonical(declared)
    check = Utf8Check()
    check.feed(data, final=True)
    encoding = choose(enc_declared, check)
    try:
        return StrictDecoder(encoding).decode(data, final=True), encoding
    except EncodingRefused as e:
        raise refusal(e, enc_declared is not None) from None
