"""Patient ids (psn_no) stored as a keyed hash (cases/pseudonym.py): the stored value is the
HMAC-SHA256 of the id under the site key (first 40 hex digits), never the id; the same key joins a
patient's stays (readmissions found), another key gives other values; the key is required in prod
and the raw id appears in no log line of an ingestion."""

from __future__ import annotations

import hashlib
import hmac
import logging
from pathlib import Path

import pytest
from sqlalchemy import text

from dianshu.cases.pseudonym import DEV_KEY, Pseudonymiser, pseudonym
from dianshu.config import ConfigError, Settings, reset_settings
from dianshu.db.session import scoped_session
from dianshu.scope import Role, Scope
from tests.cases.rows import csv_bytes, row
from tests.cases.test_ingestion import cases, send
from tests.conftest import PSN_KEY, scope_for

PROD = {"profile": "prod", "database_url": "postgresql://u@h/d", "redis_url": "redis://x", "jwt_secret": "s"}


def test_the_pseudonym_is_the_truncated_hmac_of_the_id():
    # Computed independently: HMAC-SHA256("key"*11, "330700198001011234"), first 40 hex digits.
    key = b"key" * 11
    want = hmac.new(key, b"330700198001011234", hashlib.sha256).hexdigest()[:40]
    assert pseudonym("330700198001011234", key) == want
    assert len(want) == 40 and want != "330700198001011234"
    # RFC 4231 test case 2 (key "Jefe"): the full HMAC starts 5bdcc146bf60754e6a042426089575c75a003f08.
    assert pseudonym("what do ya want for nothing?", b"Jefe") == "5bdcc146bf60754e6a042426089575c75a003f08"
    assert pseudonym("P1", b"a" * 32) != pseudonym("P1", b"b" * 32)  # another key, another value
    assert pseudonym("P1", b"a" * 32) != pseudonym("P2", b"a" * 32)
    p = Pseudonymiser(b"a" * 32)
    assert p("P1") == p("P1") == pseudonym("P1", b"a" * 32)


def test_the_key_is_required_in_prod_and_must_be_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("DIANSHU_PSN_KEY", raising=False)
    with pytest.raises(ConfigError, match="DIANSHU_PSN_KEY or DIANSHU_PSN_KEY_FILE is required"):
        Settings(**PROD)
    with pytest.raises(ConfigError, match="the published dev key"):
        Settings(**PROD, psn_key=DEV_KEY)
    with pytest.raises(ConfigError, match="31 characters, at least 32"):
        Settings(psn_key="k" * 31)
    with pytest.raises(ConfigError, match="no such file"):
        Settings(psn_key_file=tmp_path / "missing")
    secret = tmp_path / "psn-key"
    secret.write_text("f" * 40 + "\n")
    from_file = Settings(**PROD, psn_key_file=secret)
    assert from_file.psn_key_bytes() == b"f" * 40  # the file's line end is not part of the key
    with pytest.raises(ConfigError, match="only one of"):
        Settings(psn_key="f" * 40, psn_key_file=secret)
    assert Settings().psn_secret() == DEV_KEY  # dev without a key: the dev key


async def test_ingested_ids_are_stored_hashed_and_still_join(db, city, dispatcher, caplog):
    region = scope_for(Role.region_admin, (city.a,))
    raw = "330702196501017777"
    rows = [
        row("PS-1", city.a1, psn_no=raw),
        row("PS-2", city.a1, psn_no=raw, adm_time="2024-03-10 09:00", dscg_time="2024-03-15 10:00"),
        row("PS-3", city.a1, psn_no="330702196501018888"),
    ]
    with caplog.at_level(logging.DEBUG):
        _, outcome, result, _ = await send(db, region, city.a, csv_bytes(rows), "psn")
    assert outcome == "succeeded" and result["accepted"] == 3, result
    stored = {c.list_id: c.patient_id for c in await cases(db, city.a)}
    want = hmac.new(PSN_KEY.encode(), raw.encode(), hashlib.sha256).hexdigest()[:40]
    assert stored["PS-1"] == stored["PS-2"] == want  # the same patient, one pseudonym: stays still join
    assert stored["PS-3"] == pseudonym("330702196501018888", PSN_KEY.encode()) != want
    assert raw not in caplog.text and "330702196501018888" not in caplog.text
    # Nothing stored anywhere in the tenant's cases holds the raw id.
    async with scoped_session(db, Scope.system((city.a,))) as s:
        hits = (
            await s.execute(
                text("select count(*) from case_record r where r.tenant_id = :t and strpos(r::text, :raw) > 0"),
                {"t": city.a, "raw": raw},
            )
        ).scalar_one()
    assert hits == 0


async def test_another_key_gives_other_pseudonyms(db, city, dispatcher, monkeypatch):
    region = scope_for(Role.region_admin, (city.b,))
    other = "another-site-key-" + "z" * 32
    monkeypatch.setenv("DIANSHU_PSN_KEY", other)
    reset_settings()
    try:
        _, outcome, _, _ = await send(db, region, city.b, csv_bytes([row("PK-1", city.b1, psn_no="P-42")]), "psn-k")
    finally:
        monkeypatch.setenv("DIANSHU_PSN_KEY", PSN_KEY)
        reset_settings()
    assert outcome == "succeeded"
    [case] = await cases(db, city.b)
    assert case.patient_id == pseudonym("P-42", other.encode()) != pseudonym("P-42", PSN_KEY.encode())
