"""Migration 0019's rewrite (cases/rehash.py): ids stored raw before pseudonymisation become their
keyed hash, with the content hash ingestion would give them now, so the same batch sent again is
unchanged; a frequent-admission finding keyed by the patient keeps its identity (fingerprint)."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import create_engine, pool, text

from dianshu.cases.pseudonym import pseudonym
from dianshu.cases.rehash import rehash_patient_ids
from dianshu.db.session import sync_url
from dianshu.scope import Role
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import cases, errors, send
from tests.conftest import PSN_KEY, scope_for


def _rows(h1: str, h2: str) -> list[dict[str, str]]:
    return [
        row("RH-1", h1, psn_no="330702195001010011"),
        # Another stay of the same patient, with procedures, ventilation, ICU hours and a doctor code.
        row(
            "RH-2",
            h1,
            psn_no="330702195001010011",
            adm_time="2024-04-01 08:30",
            dscg_time="2024-04-09 16:45",
            act_ipt_days="8",
            oprn_oprt_codes="96.7201|31.1x00",
            oprn_oprt_dates="2024-04-02|2024-04-03",
            oprn_oprt_lvs="2|3",
            vent_used_dura="98.5",
            scs_cutd_sum_dura="36.25",
            chfpdr_code="D0012",
        ),
        row("RH-3", h2, psn_no="P 中文-3", gend="2", brdy="2024-02-20", age="0", nwb_age="10", nwb_bir_wt="3100"),
    ]


async def test_raw_ids_become_pseudonyms_with_the_content_hash_ingestion_gives(db, city, dispatcher, test_database):
    region = scope_for(Role.region_admin, (city.a,))
    data = csv_bytes(_rows(city.a1, city.a2))
    _, outcome, result, batch = await send(db, region, city.a, data, f"rh-{uuid.uuid4()}")
    assert outcome == "succeeded" and result["accepted"] == 3, (result, await errors(db, city.a, batch.id))
    now = {c.list_id: (c.patient_id, c.content_hash) for c in await cases(db, city.a)}
    raw = {"RH-1": "330702195001010011", "RH-2": "330702195001010011", "RH-3": "P 中文-3"}

    # As a database from before pseudonymisation: raw ids, and a content hash of other content.
    engine = create_engine(sync_url(test_database.owner_url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            for lid, p in raw.items():
                conn.execute(
                    text(
                        "update case_record set patient_id = :p, content_hash = 'old' "
                        "where tenant_id = :t and list_id = :l"
                    ),
                    {"p": p, "t": city.a, "l": lid},
                )
            conn.execute(
                text("""insert into supervision_finding (tenant_id, id, hospital_id, rule, level, year, month,
                        fingerprint, patient_id, severity, state, stale, evidence, unit, last_seen_run)
                        values (:t, :i, :h, 'frequent_admission', 'case', 2024, 4, :f, :p, 'medium', 'open',
                                false, '{}', 'days', gen_random_uuid())"""),
                {
                    "t": city.a,
                    "i": uuid.uuid4(),
                    "h": city.a1,
                    "f": hashlib.sha256(f"frequent_admission|{city.a1}|330702195001010011".encode()).hexdigest(),
                    "p": "330702195001010011",
                },
            )
        with engine.begin() as conn:
            changed = rehash_patient_ids(conn, PSN_KEY.encode())
        with engine.begin() as conn:
            again = rehash_patient_ids(conn, PSN_KEY.encode())  # a second pass finds nothing raw
            finding = conn.execute(
                text("select patient_id, fingerprint from supervision_finding where tenant_id = :t"), {"t": city.a}
            ).one()
    finally:
        engine.dispose()
    assert changed == {"case_record": 3, "supervision_finding": 1}
    assert again == {"case_record": 0, "supervision_finding": 0}
    # Exactly what ingestion stores now: the pseudonym, and the content hash over it.
    assert {c.list_id: (c.patient_id, c.content_hash) for c in await cases(db, city.a)} == now
    assert now["RH-1"][0] == now["RH-2"][0] == pseudonym("330702195001010011", PSN_KEY.encode())
    p = pseudonym("330702195001010011", PSN_KEY.encode())
    assert finding == (p, hashlib.sha256(f"frequent_admission|{city.a1}|{p}".encode()).hexdigest())
    # The same batch again: unchanged, nothing refused as needing the correction flag.
    _, outcome, result, _ = await send(db, region, city.a, data, f"rh-{uuid.uuid4()}")
    assert outcome == "succeeded" and (result["accepted"], result["refused"], result["unchanged"]) == (0, 0, 3), result
