"""A batch's refused rows as CSV, one layout for the download (GET /ingest/{tenant}/batches/{batch}/
errors.csv) and the file `dianshu ingest` writes: row, setl_id, fixmedins_code, field, reason, by
row number, every cell through the formula guard (csvcells)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator

from dianshu import csvcells
from dianshu.cases.models import IngestionError

HEADER = ("row", "setl_id", "fixmedins_code", "field", "reason")


def csv_chunks(rows: Iterable[IngestionError], chunk: int = 1 << 16) -> Iterator[bytes]:
    """The CSV's bytes (UTF-8) in pieces of about `chunk` bytes, for streaming."""
    buf = io.StringIO()
    w = csvcells.writer(buf, lineterminator="\n")
    w.writerow(HEADER)
    for e in rows:
        w.writerow([e.row_no, e.list_id or "", e.row_hospital or "", e.field, e.reason])
        if buf.tell() > chunk:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")
