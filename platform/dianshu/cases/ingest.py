"""Ingestion: an upload becomes a batch; a job validates it and merges the good rows.

Per row (Python, streaming): layout, types, codes, dates, sums (validation.RowValidator). Good rows
go by binary COPY into a temporary staging table; then set-wise in SQL: hospitals in the sender's
scope, repeats within the batch, the correction rule against accepted versions, and the merge. The
batch's effect and the job's completion commit together (jobs/service.py), so a retried or killed
job never leaves half a batch.

The file's bytes (upload_chunk, with the patient ids as sent) are kept only while the batch is
pending: the transaction that makes it final (done, refused, failed) deletes them (drop_chunks).
The upload row keeps the file's name, size and SHA-256, and the batch its content hash, so the
same file sent again is still recognised, and a failed batch retries from the file sent again."""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.audit import service as audit
from dianshu.cases.models import IngestionBatch, Upload, UploadChunk
from dianshu.cases.parsing import GZIP_MAGIC, Inflater, LayoutError, RowParser, sniff_format
from dianshu.cases.pseudonym import Pseudonymiser
from dianshu.cases.validation import CONTROL_CHARS, RowValidator
from dianshu.codes.codebook import load_codebook
from dianshu.config import get_settings
from dianshu.db.copy import ESCAPE, PLAIN_TYPES, copy_text, stage
from dianshu.errors import Refused
from dianshu.jobs.context import JobContext
from dianshu.jobs.errors import JobRejected
from dianshu.jobs.kinds import job_kind
from dianshu.observability import metrics
from dianshu.scope import Scope
from dianshu.tabular import encoding as enc

INGEST = "cases.ingest"
CHUNK_BYTES = 1 << 20
FLUSH_ROWS = 5000

# The staging / case columns a row carries (content columns: all but row_no and correction).
STAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("row_no", "integer"),
    ("list_id", "text"),
    ("hospital_id", "text"),
    ("mrn", "text"),
    ("patient_id", "text"),
    ("sex", "smallint"),
    ("birth_date", "date"),
    ("age_years", "smallint"),
    ("age_days", "smallint"),
    ("birth_weight_g", "integer"),
    ("admit_weight_g", "integer"),
    ("fund_type", "text"),
    ("insured_place", "smallint"),
    ("admission_route", "smallint"),
    ("admit_time", "timestamp"),
    ("discharge_time", "timestamp"),
    ("admit_dept", "text"),
    ("discharge_dept", "text"),
    ("los_days", "integer"),
    ("discharge_way", "smallint"),
    ("readmit_planned", "boolean"),
    ("coding", "text"),
    ("diagnoses", "text[]"),
    ("dx_admit_cond", "smallint[]"),
    ("procedures", "text[]"),
    ("proc_dates", "date[]"),
    ("proc_levels", "smallint[]"),
    ("vent_hours", "numeric(8,2)"),
    ("icu_hours", "numeric(8,2)"),
    ("charges", "numeric(12,2)[]"),
    ("total_cost", "numeric(12,2)"),
    ("fund_pay", "numeric(12,2)"),
    ("self_pay", "numeric(12,2)"),
    ("own_pay", "numeric(12,2)"),
    ("discharge_month", "date"),
    ("doctor_code", "text"),
    ("correction", "boolean"),
    ("chash", "text"),
)
STAGE_NAMES = tuple(n for n, _ in STAGE_COLUMNS)
# Optional content added after the first release: in the content hash only when given, so that a
# row without it hashes as it always did (a batch sent again is still unchanged).
OPTIONAL_CONTENT = ("doctor_code",)
CONTENT = tuple(n for n in STAGE_NAMES if n not in ("row_no", "correction", "chash", *OPTIONAL_CONTENT))
CASE_COLUMNS = (*CONTENT, *OPTIONAL_CONTENT)
REFUSED_COLUMNS = (
    ("row_no", "integer"),
    ("seq", "smallint"),
    ("list_id", "text"),
    ("row_hospital", "text"),
    ("field", "text"),
    ("reason", "text"),
)


def _printable(t: str) -> str:
    """Text from a refused row, safe to store and show: controls and lone surrogates (which
    PostgreSQL or UTF-8 refuse) written as \\uXXXX escapes."""
    return CONTROL_CHARS.sub(lambda m: f"\\u{ord(m.group()):04x}", t)


def copy_line(row_no: int, values: dict[str, Any]) -> str:
    """A validated row's staging line in COPY text format (STAGE_NAMES order), with its content
    hash: md5 of the canonical COPY text of the content columns. Each value as copy_text writes
    it; the common kinds (text, NULL, plain) without the call."""
    parts = []
    for name in CONTENT:
        x = values[name]
        t = type(x)
        if t is str:
            parts.append(x if x.isprintable() and "\\" not in x else x.translate(ESCAPE))
        elif x is None:
            parts.append("\\N")
        elif t in PLAIN_TYPES:
            parts.append(str(x))
        else:
            parts.append(copy_text(x))
    content = "\t".join(parts)
    hashed = content
    optional = []
    for name in OPTIONAL_CONTENT:
        x = values.get(name)
        if x is None:
            optional.append("\\N")
        else:
            cell = copy_text(x)
            optional.append(cell)
            hashed += "\t" + cell
    digest = hashlib.md5(hashed.encode("utf-8"), usedforsecurity=False).hexdigest()
    flag = "t" if values["correction"] else "f"
    tail = "\t".join(optional)
    return f"{row_no}\t{content}\t{tail}\t{flag}\t{digest}\n"


@dataclass(frozen=True)
class BatchRequest:
    tenant_id: str
    filename: str
    idempotency_key: str
    mode: str = "partial"  # partial | all_or_nothing
    control_rows: int | None = None
    control_total: Decimal | None = None
    encoding: str | None = None  # declared (utf-8, gb18030, gbk); None: detected (dianshu.tabular.encoding)


class IngestRefused(Refused):
    """The request is refused before any job runs (field and reason; the record is the upload)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__("upload", field, reason)


class _TextCheck:
    """The UTF-8 check of an upload's text as it streams in (inflated when it is gzipped). A gzip
    stream that cannot be inflated stops the check: the job refuses the file for that."""

    def __init__(self) -> None:
        self.check = enc.Utf8Check()
        self.held = b""  # the first bytes, until two say whether the file is gzipped
        self.inflater: Inflater | None = None
        self.started = self.broken = False

    def feed(self, data: bytes, final: bool = False) -> None:
        if self.broken:
            return
        if not self.started:
            self.held += data
            if len(self.held) < 2 and not final:
                return
            data, self.held, self.started = self.held, b"", True
            self.inflater = Inflater() if data.startswith(GZIP_MAGIC) else None
        try:
            pieces = self.inflater.pieces(data, final) if self.inflater else iter([data])
            for piece in pieces:
                self.check.feed(piece)
            if final:
                self.check.feed(b"", final=True)
        except LayoutError:
            self.broken = True


def _encoding(fmt: str, declared: str | None, check: _TextCheck) -> str:
    """The encoding the job decodes the file in (dianshu.tabular.encoding's rule); JSON Lines is
    UTF-8 only (RFC 8259)."""
    if check.broken:
        return declared or enc.UTF8
    try:
        chosen = enc.choose(declared, check.check)
    except enc.EncodingRefused as e:
        raise IngestRefused(e.field, e.reason) from None
    if chosen != enc.UTF8 and fmt != "csv":
        failed = check.check.failed
        why = f"not UTF-8 from {failed}" if failed else f"declared {chosen}"
        raise IngestRefused(
            "encoding" if declared else "file", f"JSON Lines must be UTF-8 (RFC 8259), and this file is {why}"
        )
    return chosen


async def store_upload(
    session: AsyncSession,
    scope: Scope,
    tenant_id: str,
    filename: str,
    chunks: AsyncIterator[bytes] | Iterable[bytes],
    declared: str | None = None,
) -> tuple[Upload, str]:
    """Store a file in the database in 1 MiB chunks (readable by any worker); streamed, never whole.
    Returns the upload and the encoding its text is in: `declared` (canonical, or None to detect)
    checked against the bytes as they stream by (IngestRefused naming `encoding` or `file`)."""
    hospital = scope.hospital_id
    upload_id = uuid.uuid4()
    digest, size, seq, buffer, head = hashlib.sha256(), 0, 0, bytearray(), b""
    text_check = _TextCheck()

    async def flush(data: bytes) -> None:
        nonlocal seq
        await session.execute(
            insert(UploadChunk).values(
                tenant_id=tenant_id, upload_id=upload_id, seq=seq, hospital_id=hospital, data=data
            )
        )
        seq += 1

    # The upload row first (chunks reference it); its size and hash are set at the end.
    await session.execute(
        insert(Upload).values(
            tenant_id=tenant_id,
            id=upload_id,
            hospital_id=hospital,
            filename=filename[:255],
            format="csv",
            compressed=False,
            size=0,
            sha256="",
            created_by=scope.actor,
        )
    )

    async def each() -> AsyncIterator[bytes]:
        if hasattr(chunks, "__aiter__"):
            async for c in chunks:  # type: ignore[union-attr]
                yield c
        else:
            for c in chunks:  # type: ignore[union-attr]
                yield c

    async for piece in each():
        if not head:
            head = bytes(piece[:4])
        digest.update(piece)
        text_check.feed(bytes(piece))
        size += len(piece)
        buffer += piece
        while len(buffer) >= CHUNK_BYTES:
            await flush(bytes(buffer[:CHUNK_BYTES]))
            del buffer[:CHUNK_BYTES]
    if buffer:
        await flush(bytes(buffer))
    if size == 0:
        raise IngestRefused("file", "is empty")
    fmt, compressed = sniff_format(filename, head)
    text_check.feed(b"", final=True)
    encoding = _encoding(fmt, declared, text_check)
    await session.execute(
        update(Upload)
        .where(Upload.tenant_id == tenant_id, Upload.id == upload_id)
        .values(format=fmt, compressed=compressed, size=size, sha256=digest.hexdigest())
    )
    stored = (
        await session.execute(select(Upload).where(Upload.tenant_id == tenant_id, Upload.id == upload_id))
    ).scalar_one()
    return stored, encoding


def batch_hash(upload: Upload, req: BatchRequest, encoding: str = enc.UTF8) -> str:
    """What an idempotency key stands for: the file's bytes and the options that change the result
    (the encoding only when it is not UTF-8, so a UTF-8 batch hashes as it always did)."""
    basis = f"{upload.sha256}|{req.mode}|{req.control_rows}|{req.control_total}"
    if encoding != enc.UTF8:
        basis += f"|{encoding}"
    return hashlib.sha256(basis.encode()).hexdigest()


async def upload_chunks(session: AsyncSession, tenant_id: str, upload_id: uuid.UUID) -> AsyncIterator[bytes]:
    seq = 0
    while True:
        data = (
            await session.execute(
                select(UploadChunk.data).where(
                    UploadChunk.tenant_id == tenant_id, UploadChunk.upload_id == upload_id, UploadChunk.seq == seq
                )
            )
        ).scalar_one_or_none()
        if data is None:
            return
        yield data
        seq += 1


async def drop_chunks(session: AsyncSession, tenant_id: str, upload_id: uuid.UUID) -> int:
    """Delete an upload's bytes (its chunks; the upload row, with its size and SHA-256, stays):
    called in the transaction that makes its batch final, so the raw file, patient ids and all,
    lives only as long as its batch is pending. Returns the chunks deleted."""
    gone = await session.execute(
        delete(UploadChunk).where(UploadChunk.tenant_id == tenant_id, UploadChunk.upload_id == upload_id)
    )
    return gone.rowcount or 0


async def batch_failed(session: AsyncSession, tenant_id: str, params: dict[str, Any], message: str) -> None:
    """The ingestion job failed for good (not for the file's content, which refuses rows or the
    batch without failing the job): the batch ends `failed` with the reason, and sending the same
    key and file again retries it (service.submit_batch), from the bytes sent again: the stored
    ones are deleted with the failure, as for any final batch."""
    batch_id = uuid.UUID(params["batch_id"])
    reason = f"the ingestion job failed (a system error, not the file): {message}; send the same file again to retry"
    upload_id = (
        await session.execute(
            update(IngestionBatch)
            .where(
                IngestionBatch.tenant_id == tenant_id, IngestionBatch.id == batch_id, IngestionBatch.status == "pending"
            )
            .values(status="failed", reason=_printable(reason)[:2000], finished_at=func.clock_timestamp())
            .returning(IngestionBatch.upload_id)
        )
    ).scalar_one_or_none()
    if upload_id is not None:
        await drop_chunks(session, tenant_id, upload_id)
        scope = Scope.system((tenant_id,), actor="jobs")
        await audit.record(session, scope, tenant_id, "cases.batch.failed", f"batch:{batch_id}", reason=reason[:500])


@job_kind(INGEST, roles={"city_admin", "region_admin", "hospital_user", "integrator"}, on_failure=batch_failed)
async def ingest(ctx: JobContext) -> dict[str, Any]:
    batch_id = uuid.UUID(ctx.params["batch_id"])
    s = ctx.session
    batch = (
        await s.execute(
            select(IngestionBatch).where(IngestionBatch.tenant_id == ctx.tenant_id, IngestionBatch.id == batch_id)
        )
    ).scalar_one_or_none()
    if batch is None:
        raise JobRejected(f"ingestion batch {batch_id} not found")
    if batch.status != "pending":
        # Its file's bytes went when it became final: nothing to read again (a failed batch is
        # retried by sending the file again, which makes a new job).
        raise JobRejected(f"ingestion batch {batch_id} is already {batch.status}")
    upload = (
        await s.execute(select(Upload).where(Upload.tenant_id == ctx.tenant_id, Upload.id == batch.upload_id))
    ).scalar_one()
    tolerance = datetime.timedelta(hours=get_settings().ingest_future_tolerance_hours)
    validator = RowValidator(load_codebook(), future_tolerance=tolerance)
    # The patient id is stored only as its keyed hash (pseudonym.py), the content hash taken over it.
    pseudonymise = Pseudonymiser(get_settings().psn_key_bytes())
    # prev_*: the accepted current version of the same list id, filled in one join before merging.
    staged = await stage(s, "ingest_rows", STAGE_COLUMNS, extra=(("prev_version", "smallint"), ("prev_hash", "text")))
    refusals = await stage(s, "ingest_refused", REFUSED_COLUMNS)
    rows: list[str] = []  # COPY text lines: cheaper to build than binary records
    refused: list[tuple[Any, ...]] = []
    n_rows, total_sum = 0, Decimal("0.00")

    async def flush() -> None:
        if rows:
            await staged.copy_lines(rows)
            rows.clear()
        if refused:
            await refusals.copy_records(refused)
            refused.clear()

    def take(row_no: int, item: dict[str, Any] | str) -> None:
        nonlocal n_rows, total_sum
        n_rows += 1
        if isinstance(item, str):
            refused.append((row_no, 1, None, None, "row", _printable(item)))
            return
        try:
            total_sum += Decimal(str(item.get("medfee_sumamt") or "0").strip())
        except ArithmeticError:
            pass
        values, errors = validator.validate(item)
        if errors:
            lid, hid = item.get("setl_id"), item.get("fixmedins_code")
            for i, err in enumerate(errors, start=1):
                refused.append(
                    (
                        row_no,
                        i,
                        None if lid is None else _printable(str(lid))[:50],
                        None if hid is None else _printable(str(hid))[:20],
                        err.field,
                        _printable(err.reason),
                    )
                )
        else:
            values["patient_id"] = pseudonymise(values["patient_id"])
            rows.append(copy_line(row_no, values))

    # Chosen when the file was stored (store_upload); an upload older than that is UTF-8.
    encoding = ctx.params.get("encoding", enc.UTF8)
    parser = RowParser(upload.format, upload.compressed, encoding, declared=bool(ctx.params.get("declared")))
    await ctx.progress(0, upload.size, "validating rows")
    try:
        async for data in upload_chunks(s, ctx.tenant_id, upload.id):
            for row_no, item in parser.feed(data):
                take(row_no, item)
                if len(rows) >= FLUSH_ROWS or len(refused) >= FLUSH_ROWS:
                    await flush()
            await ctx.progress(parser.bytes_in, upload.size, f"{n_rows:,} rows read")
        for row_no, item in parser.feed(b"", final=True):
            take(row_no, item)
        await flush()
    except LayoutError as e:
        return await _finish(ctx, batch, refused_reason=f"file: {e}", encoding=encoding)
    except enc.EncodingRefused as e:
        return await _finish(ctx, batch, refused_reason=f"{e.field}: {e.reason}", encoding=encoding)

    # Control totals supplied by the sender: a mismatch means a truncated or wrong file.
    problems = []
    if batch.control_rows is not None and batch.control_rows != n_rows:
        problems.append(f"control row count {batch.control_rows} but the file has {n_rows} rows")
    if batch.control_total is not None and batch.control_total != total_sum:
        problems.append(f"control total cost {batch.control_total} but the rows sum to {total_sum}")
    if problems:
        return await _finish(ctx, batch, refused_reason="; ".join(problems), rows_total=n_rows, encoding=encoding)

    await ctx.progress(upload.size, upload.size, "checking hospitals, repeats and corrections")
    await _setwise_checks(ctx, batch)
    n_refused_rows = (await s.execute(text("select count(distinct row_no) from ingest_refused"))).scalar_one()
    if batch.mode == "all_or_nothing" and n_refused_rows:
        await _store_errors(ctx, batch)
        return await _finish(
            ctx,
            batch,
            refused_reason=f"{n_refused_rows} rows refused and the batch was sent all-or-nothing: nothing was accepted",
            rows_total=n_rows,
            rows_refused=n_refused_rows,
            encoding=encoding,
        )
    await ctx.progress(upload.size, upload.size, "merging")
    counts = await _merge(ctx, batch)
    await _store_errors(ctx, batch)
    return await _finish(ctx, batch, rows_total=n_rows, rows_refused=n_refused_rows, encoding=encoding, **counts)


async def _setwise_checks(ctx: JobContext, batch: IngestionBatch) -> None:
    s, scope, tenant = ctx.session, ctx.scope, {"tenant": ctx.tenant_id}
    await s.execute(text("analyze ingest_rows"))
    # Each staged row learns its list id's accepted current version in one hash join; every later
    # step reads prev_* instead of probing case_record row by row.
    await s.execute(text(SQL_PREVIOUS), tenant)
    # 1. The row's hospital must be a hospital of this tenant within the sender's scope (RLS hides the rest).
    outside = (await s.execute(text(SQL_OUTSIDE_SCOPE), tenant)).scalars().all()
    if outside:
        counts: dict[str, int] = {}
        for h in outside:
            counts[h] = counts.get(h, 0) + 1
        await audit.record(
            s,
            scope,
            ctx.tenant_id,
            "cases.ingest.refused_hospital",
            f"batch:{batch.id}",
            hospitals=counts,
            sender_hospital=batch.hospital_id,
        )
    # 2. A list id repeated within the batch: the first is considered, the rest refused.
    await s.execute(text(SQL_REPEATED))
    # 3. Other content for an accepted list id needs the correction flag; a correction needs something to correct.
    await s.execute(text(SQL_NEEDS_CORRECTION))
    await s.execute(text(SQL_NOTHING_TO_CORRECT))


async def _merge(ctx: JobContext, batch: IngestionBatch) -> dict[str, int]:
    s, tenant = ctx.session, {"tenant": ctx.tenant_id}
    await s.execute(text("delete from ingest_rows r using ingest_refused x where x.row_no = r.row_no"))
    unchanged = (await s.execute(text(SQL_UNCHANGED))).rowcount
    # Corrections: the accepted version is kept, no longer current.
    corrected = (await s.execute(text(SQL_SUPERSEDE), tenant)).rowcount
    inserted = (await s.execute(text(SQL_INSERT), {**tenant, "batch": batch.id})).rowcount
    return {"rows_accepted": inserted - corrected, "rows_corrected": corrected, "rows_unchanged": unchanged}


SQL_PREVIOUS = """
    update ingest_rows r set prev_version = c.version, prev_hash = c.content_hash
    from case_record c
    where c.tenant_id = :tenant and c.hospital_id = r.hospital_id and c.list_id = r.list_id and c.is_current"""

SQL_OUTSIDE_SCOPE = """
    insert into ingest_refused (row_no, seq, list_id, row_hospital, field, reason)
    select r.row_no, 0, r.list_id, r.hospital_id, 'fixmedins_code',
           'hospital ' || r.hospital_id || ' is not a hospital of ' || :tenant || ' within your scope'
    from ingest_rows r
    where not exists (select 1 from hospital h where h.tenant_id = :tenant and h.id = r.hospital_id)
    returning row_hospital"""

SQL_REPEATED = """
    insert into ingest_refused (row_no, seq, list_id, row_hospital, field, reason)
    select row_no, 0, list_id, hospital_id, 'setl_id',
           'list id ' || list_id || ' of ' || hospital_id
             || ' appears again in this batch (first at row ' || first_row || ')'
    from (select row_no, list_id, hospital_id,
                 first_value(row_no) over w as first_row, row_number() over w as n
          from ingest_rows window w as (partition by hospital_id, list_id order by row_no)) x
    where n > 1"""

SQL_NEEDS_CORRECTION = """
    insert into ingest_refused (row_no, seq, list_id, row_hospital, field, reason)
    select r.row_no, 0, r.list_id, r.hospital_id, 'correction',
           'list id ' || r.list_id || ' was already accepted with other content (version ' || r.prev_version
             || '); send it with correction=1 to replace it'
    from ingest_rows r
    where r.prev_hash is not null and not r.correction and r.prev_hash <> r.chash
      and r.row_no not in (select row_no from ingest_refused)"""

SQL_NOTHING_TO_CORRECT = """
    insert into ingest_refused (row_no, seq, list_id, row_hospital, field, reason)
    select r.row_no, 0, r.list_id, r.hospital_id, 'correction',
           'correction of list id ' || r.list_id || ', which was never accepted'
    from ingest_rows r
    where r.correction and r.prev_hash is null and r.row_no not in (select row_no from ingest_refused)"""

SQL_UNCHANGED = """
    delete from ingest_rows r where r.prev_hash is not null and r.prev_hash = r.chash"""

SQL_SUPERSEDE = """
    update case_record c set is_current = false, status = 'superseded', superseded_at = now()
    from ingest_rows r
    where c.tenant_id = :tenant and c.hospital_id = r.hospital_id and c.list_id = r.list_id and c.is_current
      and r.correction"""

SQL_INSERT = f"""
    insert into case_record (tenant_id, batch_id, row_no, version, is_current, status, content_hash,
                             {", ".join(CASE_COLUMNS)})
    select cast(:tenant as varchar), cast(:batch as uuid), r.row_no, coalesce(r.prev_version, 0) + 1,
           true, 'active', r.chash, {", ".join("r." + c for c in CASE_COLUMNS)}
    from ingest_rows r"""


async def _store_errors(ctx: JobContext, batch: IngestionBatch) -> None:
    await ctx.session.execute(
        text("""
        insert into ingestion_error
               (tenant_id, batch_id, row_no, seq, hospital_id, list_id, row_hospital, field, reason)
        select :tenant, :batch, row_no, row_number() over (partition by row_no order by seq, field) - 1,
               :sender, list_id, row_hospital, field, reason
        from ingest_refused"""),
        {"tenant": ctx.tenant_id, "batch": batch.id, "sender": batch.hospital_id},
    )


async def _finish(
    ctx: JobContext,
    batch: IngestionBatch,
    *,
    refused_reason: str | None = None,
    rows_total: int = 0,
    rows_accepted: int = 0,
    rows_corrected: int = 0,
    rows_unchanged: int = 0,
    rows_refused: int = 0,
    encoding: str = enc.UTF8,
) -> dict[str, Any]:
    status = "refused" if refused_reason else "done"
    await ctx.session.execute(
        update(IngestionBatch)
        .where(IngestionBatch.tenant_id == ctx.tenant_id, IngestionBatch.id == batch.id)
        .values(
            status=status,
            reason=refused_reason,
            rows_total=rows_total,
            rows_accepted=rows_accepted,
            rows_corrected=rows_corrected,
            rows_unchanged=rows_unchanged,
            rows_refused=rows_refused,
            finished_at=func.clock_timestamp(),
        )
    )
    # Final: the file's bytes go with this transaction (a retried job reads them until then).
    await drop_chunks(ctx.session, ctx.tenant_id, batch.upload_id)
    await audit.record(
        ctx.session,
        ctx.scope,
        ctx.tenant_id,
        f"cases.batch.{status}",
        f"batch:{batch.id}",
        rows=rows_total,
        accepted=rows_accepted,
        corrected=rows_corrected,
        unchanged=rows_unchanged,
        refused=rows_refused,
        reason=refused_reason,
        encoding=encoding,
    )
    counts = {
        "accepted": rows_accepted,
        "corrected": rows_corrected,
        "unchanged": rows_unchanged,
        "refused": rows_refused,
    }

    def count_rows() -> None:
        for outcome, n in counts.items():
            if n:
                metrics.INGEST_ROWS.labels(outcome).inc(n)

    ctx.after_commit(count_rows)
    return {
        "batch_id": str(batch.id),
        "status": status,
        "reason": refused_reason,
        "rows": rows_total,
        "accepted": rows_accepted,
        "corrected": rows_corrected,
        "unchanged": rows_unchanged,
        "refused": rows_refused,
        "encoding": encoding,
    }
