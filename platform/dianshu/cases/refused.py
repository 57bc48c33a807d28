"""A batch's refused rows as a table, one layout for the download (GET /ingest/{tenant}/batches/
{batch}/errors.csv, or errors.xlsx) and the file `dianshu ingest --refused-dir` writes: row number,
settlement list id, hospital code, field, reason, by row number (the headers from the message
catalogue, Chinese unless English is asked for; CSV and XLSX by dianshu.tabular.write). A row's
reason is stored in English (what the API's `reason` says); the file says it in its own language
through the reasons' catalogue (dianshu.reports.reasons), and names an upload column's field in
Chinese too ("性别(gend)")."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from dianshu.cases.models import IngestionError
from dianshu.reports.labels import column, text
from dianshu.reports.reasons import field_name, localize
from dianshu.tabular.write import Kind, Lang, Table

COLUMNS = (
    column("row_no", Kind.decimal),  # a plain number in Excel (no thousands separator)
    column("list_id"),
    column("row_hospital"),
    column("field"),
    column("reason"),
)

# An XLSX is built in memory (about 1 kB a row while openpyxl holds it): a batch with more refused
# fields than this (a row of the table each) is offered as CSV only, which streams.
XLSX_MAX_ROWS = 100_000


def table(batch_id: uuid.UUID, rows: Sequence[IngestionError], lang: Lang = Lang.zh) -> Table:
    """The file is named by the whole batch id; its title (the sheet's name, at most 31 characters)
    by the id's first 8 digits. Reasons in `lang`."""
    short = str(batch_id)[:8]
    keys = [c.key for c in COLUMNS]
    shown = [
        {**{k: getattr(r, k) for k in keys}, "field": field_name(r.field, lang), "reason": localize(r.reason, lang)}
        for r in rows
    ]
    return Table(
        f"batch-{batch_id}-errors",
        text("refused.title", Lang.zh, batch=short),
        text("refused.title", Lang.en, batch=short),
        COLUMNS,
        shown,
    )
