"""Raw uploads kept only while their batch is pending (ingest.drop_chunks, migration 0024): after a
batch is final no table holds a patient id as sent; a job retried before then still reads the
file; a failed batch drops its bytes and retries from the file sent again."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid

import pytest
from sqlalchemy import create_engine, func, pool, select, text

from dianshu.cases.ingest import BatchRequest
from dianshu.cases.models import IngestionBatch, Upload, UploadChunk
from dianshu.cases.service import submit_batch
from dianshu.db.session import Database, scoped_session, sync_url
from dianshu.jobs import service as jobs
from dianshu.scope import Role, Scope
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import errors, send
from tests.conftest import scope_for
from tests.test_partitions import _alembic, scratch_database  # noqa: F401  (the fixture)

# Every table's rows as text, and each bytea column searched for the bytes (a bytea's text is hex).
TABLES = """
    select c.relname, array(select a.attname from pg_attribute a
                            where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
                              and a.atttypid = 'bytea'::regtype) as binary
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p')"""


async def tables_holding(owner_db: Database, raw: str) -> list[str]:
    """The tables (as the owner, every tenant in scope) with a row holding `raw` anywhere."""
    found = []
    async with owner_db.session(None) as s, s.begin():
        await s.execute(
            text(
                "select set_config('app.tenant_ids', (select string_agg(code, ',') from tenant), true), "
                "set_config('app.all_hospitals', 'on', true), set_config('app.role', 'system', true)"
            )
        )
        for name, binary in (await s.execute(text(TABLES))).all():
            cond = " or ".join(
                ["t::text like :like", *(f"position(convert_to(:raw, 'UTF8') in t.{c}) > 0" for c in binary)]
            )
            hit = (
                await s.execute(
                    text(f'select exists (select 1 from "{name}" t where {cond})'), {"like": f"%{raw}%", "raw": raw}
                )
            ).scalar()
            if hit:
                found.append(name)
    return sorted(found)


async def chunks(db: Database, tenant: str, upload_id: uuid.UUID) -> int:
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return (
            await s.execute(select(func.count()).select_from(UploadChunk).where(UploadChunk.upload_id == upload_id))
        ).scalar_one()


async def the_upload(db: Database, tenant: str, upload_id: uuid.UUID) -> Upload:
    async with scoped_session(db, Scope.system((tenant,))) as s:
        return (await s.execute(select(Upload).where(Upload.id == upload_id))).scalar_one()


def raw_id() -> str:
    return f"RAWPSN{secrets.token_hex(6).upper()}"


async def test_after_ingestion_no_table_holds_the_patient_ids_as_sent(db, owner_db, city, dispatcher):
    """Partial mode, one row refused (gend 9): once the batch is done, the raw psn_no of either row
    is in no table (the bytes went with the batch's completion); the refused row keeps its row
    number, list id and reason; the upload keeps its size and SHA-256, and the same file sent again
    is the same batch."""
    region = scope_for(Role.region_admin, (city.a,))
    raw = raw_id()
    data = csv_bytes([row("G1", city.a1, psn_no=f"{raw}G"), row("B1", city.a1, psn_no=f"{raw}B", gend="9")])
    req = BatchRequest(city.a, "cases.csv", "retention")
    sub = await submit_batch(db, region, req, [data])
    # Pending: the file is stored as sent (the scan finds it, in upload_chunk's bytes alone).
    assert await tables_holding(owner_db, raw) == ["upload_chunk"]
    assert await chunks(db, city.a, sub.batch.upload_id) == 1

    assert await jobs.execute(db, city.a, sub.job.id) == "succeeded"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        batch = (await s.execute(select(IngestionBatch).where(IngestionBatch.id == sub.batch.id))).scalar_one()
    assert (batch.status, batch.rows_accepted, batch.rows_refused) == ("done", 1, 1)
    assert await errors(db, city.a, batch.id) == [(2, "gend", "must be one of 1, 2 (got 9)")]
    assert await chunks(db, city.a, batch.upload_id) == 0
    assert await tables_holding(owner_db, raw) == []
    upload = await the_upload(db, city.a, batch.upload_id)
    assert (upload.size, upload.sha256) == (len(data), hashlib.sha256(data).hexdigest())

    again = await submit_batch(db, region, req, [data])
    assert not again.created and again.batch.id == sub.batch.id and again.job.id == sub.job.id
    assert await tables_holding(owner_db, raw) == []


async def test_the_refused_rows_of_a_bad_patient_id_name_it_without_its_value(db, owner_db, city, dispatcher):
    """A psn_no too long, or with a space at its end, is refused by field and reason; the value
    itself is stored nowhere (the hospital finds the row by its number and list id)."""
    region = scope_for(Role.region_admin, (city.a,))
    raw = raw_id()
    long_id = raw + "X" * 40
    rows = [row("G1", city.a1, psn_no=f"{raw}G"), row("B1", city.a1, psn_no=long_id), row("B2", city.a1)]
    rows[2]["psn_no"] = f"{raw} "
    _, outcome, result, batch = await send(db, region, city.a, csv_bytes(rows), "bad-psn")
    assert outcome == "succeeded" and (result["accepted"], result["refused"]) == (1, 2)
    assert await errors(db, city.a, batch.id) == [
        (2, "psn_no", f"longer than 40 characters ({len(long_id)})"),
        (3, "psn_no", "has leading or trailing spaces"),
    ]
    assert await tables_holding(owner_db, raw) == []


async def test_a_file_without_its_header_is_refused_without_repeating_its_first_row(db, owner_db, city, dispatcher):
    """The first line is a row (the header left out): the batch is refused naming the header, and
    its reason (stored, and in the audit log) does not repeat the row's values."""
    region = scope_for(Role.region_admin, (city.a,))
    raw = raw_id()
    data = csv_bytes([row("G1", city.a1, psn_no=raw)]).split(b"\n", 1)[1]
    _, _, _, batch = await send(db, region, city.a, data, "no-header")
    assert batch.status == "refused"
    assert batch.reason == (
        "file: header: no known column name: the first line must be the header (setl_id, fixmedins_code, ...)"
    )
    assert await tables_holding(owner_db, raw) == []


async def test_a_job_retried_before_completion_still_reads_the_file(db, city, dispatcher, monkeypatch):
    """The first attempt fails on the way (a transient error, rolled back): the bytes are still
    there and the second attempt ingests them; then they are gone."""
    import dianshu.cases.ingest as ingest

    real, calls = ingest._merge, []

    async def flaky(ctx, batch):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("connection reset")
        return await real(ctx, batch)

    monkeypatch.setattr(ingest, "_merge", flaky)
    region = scope_for(Role.region_admin, (city.a,))
    sub = await submit_batch(
        db, region, BatchRequest(city.a, "cases.csv", "flaky"), [csv_bytes([row("F1", city.a1), row("F2", city.a2)])]
    )
    with pytest.raises(RuntimeError, match="connection reset"):
        await jobs.execute(db, city.a, sub.job.id)
    assert await chunks(db, city.a, sub.batch.upload_id) == 1
    assert await jobs.execute(db, city.a, sub.job.id) == "succeeded"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        batch = (await s.execute(select(IngestionBatch).where(IngestionBatch.id == sub.batch.id))).scalar_one()
    assert (batch.status, batch.rows_accepted, len(calls)) == ("done", 2, 2)
    assert await chunks(db, city.a, sub.batch.upload_id) == 0


async def test_a_failed_batch_drops_its_bytes_and_retries_from_the_file_sent_again(db, city, dispatcher, monkeypatch):
    import dianshu.cases.ingest as ingest

    async def broken(ctx, batch):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest, "_merge", broken)
    region = scope_for(Role.region_admin, (city.a,))
    data = csv_bytes([row("R1", city.a1)])
    req = BatchRequest(city.a, "cases.csv", "fails")
    sub = await submit_batch(db, region, req, [data])
    for attempt in range(1, jobs.MAX_ATTEMPTS + 1):
        if attempt < jobs.MAX_ATTEMPTS:
            with pytest.raises(RuntimeError):
                await jobs.execute(db, city.a, sub.job.id)
            assert await chunks(db, city.a, sub.batch.upload_id) == 1, "kept between attempts"
        else:
            assert await jobs.execute(db, city.a, sub.job.id) == "failed"
    assert await chunks(db, city.a, sub.batch.upload_id) == 0
    first = await the_upload(db, city.a, sub.batch.upload_id)
    assert (first.size, first.sha256) == (len(data), hashlib.sha256(data).hexdigest())

    monkeypatch.undo()
    again = await submit_batch(db, region, req, [data])
    assert again.created and again.batch.id == sub.batch.id and again.batch.status == "pending"
    assert again.batch.upload_id != sub.batch.upload_id and await chunks(db, city.a, again.batch.upload_id) == 1
    assert await jobs.execute(db, city.a, again.job.id) == "succeeded"
    async with scoped_session(db, Scope.system((city.a,))) as s:
        batch = (await s.execute(select(IngestionBatch).where(IngestionBatch.id == sub.batch.id))).scalar_one()
    assert (batch.status, batch.rows_accepted, batch.upload_id) == ("done", 1, again.batch.upload_id)
    assert await chunks(db, city.a, batch.upload_id) == 0
    # The old job stays failed and is not run again.
    assert await jobs.execute(db, city.a, sub.job.id) == "already-final"


async def test_another_region_cannot_delete_the_bytes(db, city, dispatcher):
    """The runtime role may delete chunks now, under the table's policy: region B deletes none of A's."""
    region = scope_for(Role.region_admin, (city.a,))
    sub = await submit_batch(db, region, BatchRequest(city.a, "cases.csv", "rls"), [csv_bytes([row("S1", city.a1)])])
    async with scoped_session(db, scope_for(Role.region_admin, (city.b,))) as s:
        gone = await s.execute(text("delete from upload_chunk where upload_id = :u"), {"u": sub.batch.upload_id})
        assert gone.rowcount == 0
    async with scoped_session(db, scope_for(Role.hospital_user, (city.a,), city.a2)) as s:
        gone = await s.execute(text("delete from upload_chunk where upload_id = :u"), {"u": sub.batch.upload_id})
        assert gone.rowcount == 0
    assert await chunks(db, city.a, sub.batch.upload_id) == 1


# ---- migration 0024 --------------------------------------------------------------------------------


def _scoped(c, owner_role: str) -> None:
    c.execute(text(f'set local role "{owner_role}"'))
    c.execute(text("set local app.tenant_ids = 'T1,T2'"))
    c.execute(text("set local app.all_hospitals = 'on'"))


@pytest.mark.parametrize("scratch_database", ["0024"], indirect=True)
def test_the_migration_deletes_the_bytes_of_finished_batches_only(scratch_database, settings):  # noqa: F811
    """Before 0024: batches of two tenants, done, refused, failed and pending, each with two
    chunks, and an upload of no batch (a failed batch retried before: it points to the new one).
    After it only the pending batches' chunks are left (4 of the 20: T1's and T2's pending upload,
    2 each); the 10 upload rows and 8 batches are unchanged; the runtime role may delete chunks
    (within its scope), and after downgrade may not."""
    scratch, url = scratch_database
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    uploads: dict[tuple[str, str], uuid.UUID] = {}
    with engine.begin() as c:
        _scoped(c, settings.owner_role)
        c.execute(
            text("""insert into tenant (code, name, kind, parent_code) values
                    ('TC', 'city', 'city', null), ('T1', 'one', 'region', 'TC'), ('T2', 'two', 'region', 'TC')""")
        )
        for tenant in ("T1", "T2"):
            for status in ("done", "refused", "failed", "pending", None):
                u = uploads[(tenant, str(status))] = uuid.uuid4()
                c.execute(
                    text("""insert into upload (tenant_id, id, hospital_id, filename, format, compressed, size,
                            sha256, created_by) values (:t, :u, 'H1', 'cases.csv', 'csv', false, 6, 'abc', 'test')"""),
                    {"t": tenant, "u": u},
                )
                for seq in (0, 1):
                    c.execute(
                        text("""insert into upload_chunk (tenant_id, upload_id, seq, hospital_id, data)
                                values (:t, :u, :s, 'H1', 'RAW001'::bytea)"""),
                        {"t": tenant, "u": u, "s": seq},
                    )
                if status is not None:
                    c.execute(
                        text("""insert into ingestion_batch (tenant_id, id, hospital_id, upload_id, idempotency_key,
                                content_hash, mode, status, rows_total, rows_accepted, rows_corrected,
                                rows_unchanged, rows_refused, created_by)
                                values (:t, gen_random_uuid(), 'H1', :u, :k, 'h', 'partial', :st,
                                        0, 0, 0, 0, 0, 'test')"""),
                        {"t": tenant, "u": u, "k": f"k-{status}", "st": status},
                    )
        uploads_before = c.execute(text("select count(*) from upload")).scalar()
        batches_before = sorted(c.execute(text("select tenant_id, status, upload_id from ingestion_batch")).all())
    assert (uploads_before, len(batches_before)) == (10, 8)

    _alembic(url, "upgrade", "0024")
    with engine.begin() as c:
        _scoped(c, settings.owner_role)
        left = sorted(c.execute(text("select tenant_id, upload_id, seq from upload_chunk")).all())
        assert left == sorted((t, uploads[(t, "pending")], seq) for t in ("T1", "T2") for seq in (0, 1))
        assert c.execute(text("select count(*) from upload")).scalar() == 10
        assert sorted(c.execute(text("select tenant_id, status, upload_id from ingestion_batch")).all()) == (
            batches_before
        )

    def runtime_may_delete() -> bool:
        with engine.connect() as c:
            return c.execute(
                text("select has_table_privilege(:r, 'upload_chunk', 'delete')"), {"r": settings.app_role}
            ).scalar()

    assert runtime_may_delete()
    # The runtime role deletes within its scope only (T2 here), as the job does.
    runtime = Database(scratch.runtime_url())

    async def delete_as_t2() -> int:
        try:
            async with scoped_session(runtime, Scope.system(("T2",))) as s:
                return (await s.execute(text("delete from upload_chunk"))).rowcount
        finally:
            await runtime.dispose()

    assert asyncio.run(delete_as_t2()) == 2
    _alembic(url, "downgrade", "0023")
    assert not runtime_may_delete()
    with engine.begin() as c:
        _scoped(c, settings.owner_role)
        assert sorted(c.execute(text("select tenant_id, seq from upload_chunk")).all()) == [("T1", 0), ("T1", 1)]
    _alembic(url, "upgrade", "0024")
    engine.dispose()
