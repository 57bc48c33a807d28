"""Patient ids stored before pseudonymisation (migration 0019): each stored id replaced by its keyed
hash (pseudonym.py) in place, with what depends on it recomputed the way ingestion computes it, so
that a batch sent again afterwards is still "unchanged":

- case_record.patient_id, and its content_hash (ingest.copy_line over the row's content with the
  pseudonym, as a row ingested now would have);
- supervision_finding.patient_id, and the fingerprint of frequent-admission findings (whose key is
  the patient: sha256 of rule | hospital | key, as supervision/run.py writes it), so the next run
  finds them again instead of opening new ones.

Sync (alembic's connection), as a login that sees every tenant: the scope is set to every tenant
and hospital for the transaction. Rows already pseudonymised are not touched twice: the migration
runs once, and it skips values already of the pseudonym's shape (a raw psn_no is never 40 hex)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, text

from dianshu.cases.ingest import CONTENT, OPTIONAL_CONTENT, copy_line
from dianshu.cases.pseudonym import PSEUDONYM, Pseudonymiser

CHUNK = 5000


def _all_tenants(conn: Connection) -> None:
    conn.execute(
        text(
            "select set_config('app.tenant_ids', coalesce((select string_agg(code, ',') from tenant), ''), true), "
            "set_config('app.all_hospitals', 'on', true), set_config('app.role', 'system', true)"
        )
    )


def content_hash(row: dict[str, Any]) -> str:
    """The content hash ingestion would give this stored row (ingest.copy_line's last field)."""
    return copy_line(0, {**row, "correction": False}).rstrip("\n").rsplit("\t", 1)[1]


def rehash_patient_ids(conn: Connection, key: bytes) -> dict[str, int]:
    """Replace every raw patient id by its pseudonym under `key`; returns the rows changed per table."""
    _all_tenants(conn)
    pseudo = Pseudonymiser(key)
    cols = ", ".join((*CONTENT, *OPTIONAL_CONTENT))
    conn.execute(
        text(
            "create temporary table psn_rehash (tenant_id text, id bigint, patient_id text, content_hash text) "
            "on commit drop"
        )
    )
    changed = 0
    rows = conn.execute(
        text(f"select tenant_id, id, {cols} from case_record where patient_id !~ '^[0-9a-f]{{40}}$'").execution_options(
            stream_results=True, yield_per=CHUNK
        )
    )
    batch: list[dict[str, Any]] = []
    for r in rows.mappings():
        values = dict(r)
        values["patient_id"] = pseudo(values["patient_id"])
        batch.append(
            {"t": values["tenant_id"], "i": values["id"], "p": values["patient_id"], "h": content_hash(values)}
        )
        if len(batch) >= CHUNK:
            changed += _flush(conn, batch)
    changed += _flush(conn, batch)
    conn.execute(
        text("""update case_record c set patient_id = x.patient_id, content_hash = x.content_hash
                from psn_rehash x where c.tenant_id = x.tenant_id and c.id = x.id""")
    )
    findings = 0
    raw = conn.execute(
        text("select distinct patient_id from supervision_finding where patient_id is not null")
    ).scalars()
    mapping = [{"o": p, "n": pseudo(p)} for p in raw if not PSEUDONYM.match(p)]
    if mapping:
        conn.execute(text("create temporary table psn_map (old text primary key, new text) on commit drop"))
        conn.execute(text("insert into psn_map values (:o, :n)"), mapping)
        findings = conn.execute(
            text("""update supervision_finding f set patient_id = m.new,
                      fingerprint = case when f.rule = 'frequent_admission'
                        then encode(sha256(convert_to(f.rule || '|' || f.hospital_id || '|' || m.new, 'UTF8')), 'hex')
                        else f.fingerprint end
                    from psn_map m where f.patient_id = m.old""")
        ).rowcount
    return {"case_record": changed, "supervision_finding": findings}


def _flush(conn: Connection, batch: list[dict[str, Any]]) -> int:
    if not batch:
        return 0
    conn.execute(text("insert into psn_rehash values (:t, :i, :p, :h)"), batch)
    n = len(batch)
    batch.clear()
    return n
