"""Code editions: each table is read in the edition it is written in (grouping/editions.py).

Every case is derived by hand from platform/dianshu/standards/data/zhejiang_2022 (ZJ) or chs_drg_11
(CHS) and the crosswalks in platform/dianshu/codes/data (map_icd10_guolin_v2.0_to_yibao_v2.0.csv:
"dx map", map_icd9cm3_guolin_v3.0_to_yibao_v2.0.csv: "px map"). ZJ's code_editions.csv declares its
ADRG code lists 医保版 + 国临版 and every other table 医保版; CHS is 医保版 throughout.

Each ZJ case also states what the old reading (every code translated to 医保版 first, i.e. the
same tables declared 医保版 throughout) gives, and checks it: those are the cases the edition
rule decides.
"""

from __future__ import annotations

import csv
import dataclasses

import pytest

from dianshu.codes.codebook import load_codebook
from dianshu.grouping.editions import measure_editions
from dianshu.grouping.engine import Grouper
from dianshu.standards.tables import (
    CODE_FAMILIES,
    EDITIONS_FILE,
    SchemeTableError,
    builtin_dir,
    load_scheme,
    load_scheme_tables_only,
)
from tests.grouping.records import got, rec


def declared(g: Grouper, **changes: tuple[str, ...]) -> Grouper:
    """The same scheme with some tables declared otherwise (key: table stem + '__' + codes)."""
    editions = dict(g.tables.editions)
    for key, eds in changes.items():
        stem, kind = key.split("__")
        family = (f"{stem}.csv" if stem != "conditions" else stem, kind)
        assert family in editions
        editions[family] = eds
    return Grouper(dataclasses.replace(g.tables, editions=editions), g.codebook, g.options)


@pytest.fixture(scope="module")
def zj_old(zj) -> Grouper:
    return Grouper(
        dataclasses.replace(zj.tables, editions={f: ("yibao",) for f in zj.tables.editions}), zj.codebook, zj.options
    )


ZJ_CASES = [
    # 1. The case. Q27.811 is in MDCF's mdc_pdx list. px map: 37.8300x002 (国临版) ->
    # 00.5000x004; adrg_code_lists: FK1,adrg_ss,37.8300x002 (as written), and no ZJ list holds
    # 00.5000x004. FK1 "MAIN_PROC IN adrg_ss", no CC: FK15. Translated first: no surgical ADRG, and
    # FZ1 "PDX IN adrg_zd AND NOT(MAIN_PROC IN SS_VALID)" (00.5000x004 is not SS_VALID): FZ15.
    (
        "国临版 procedure as written in the ADRG list",
        dict(diagnoses=["Q27.811"], procedures=["37.8300x002"]),
        ("MDCF", "FK1", "FK15", "grouped"),
        ("MDCF", "FZ1", "FZ15", "grouped"),
    ),
    # 2. 医保版 00.5000x004 itself: no ZJ ADRG list holds it, so the lists (医保版 + 国临版) read it
    # as its 国临版 code 37.8300x002 (px map, inverse): FK1 again.
    (
        "医保版 procedure read as 国临版 in the ADRG list",
        dict(diagnoses=["Q27.811"], procedures=["00.5000x004"]),
        ("MDCF", "FK1", "FK15", "grouped"),
        ("MDCF", "FZ1", "FZ15", "grouped"),
    ),
    # 3. dx map: G11.200x003 (国临版) -> G23.300. adrg_code_lists: BU3,adrg_zd,G11.200x003 as written;
    # BU2,adrg_zd,G23.300. MDCB is entered through mdc_pdx (医保版: G23.300). As written: BU3.
    (
        "国临版 diagnosis as written: another ADRG than its 医保版 code's",
        dict(diagnoses=["G11.200x003"]),
        ("MDCB", "BU3", "BU35", "grouped"),
        ("MDCB", "BU2", "BU25", "grouped"),
    ),
    # 4. dx map: A49.816 (国临版) -> A49.100x005. SV1,adrg_zd,A49.816 as written; no ADRG list holds
    # A49.100x005 (MDCS is entered on it through mdc_pdx): translated first, MDCS yields no ADRG.
    (
        "国临版 principal diagnosis only the ADRG list knows as written",
        dict(diagnoses=["A49.816"]),
        ("MDCS", "SV1", "SV15", "grouped"),
        (None, None, "0000", "ungroupable"),
    ),
    # 5. 医保版 A09.900x007 is in MDCG's mdc_pdx list but in no ADRG list; its 国临版 code K52.916
    # (dx map: K52.916 -> A09.900x007) is GZ1's: GZ15.
    (
        "医保版 diagnosis read as 国临版 in the ADRG list",
        dict(diagnoses=["A09.900x007"]),
        ("MDCG", "GZ1", "GZ15", "grouped"),
        (None, None, "0000", "ungroupable"),
    ),
    # 6. 医保版 A27.800: two 国临版 codes map to it (A27.800 itself and A27.800x002); SV1 lists
    # A27.800x002, so the list holds the record's code.
    (
        "one of several 国临版 codes of a 医保版 code",
        dict(diagnoses=["A27.800"]),
        ("MDCS", "SV1", "SV15", "grouped"),
        (None, None, "0000", "ungroupable"),
    ),
    # 7. 医保版 01.0900x008 is SS_VALID (or_procedures_ss_valid, 医保版) but in no ADRG list; its
    # 国临版 code 01.3900x016 (px map) is BB1's (adrg_ss). S01.800x011 enters MDCB: BB15. Translated
    # first: no surgical ADRG holds it and the medical ADRGs need a non-OR procedure: 0000.
    (
        "医保版 OR procedure read as 国临版 in the ADRG list, as written in SS_VALID",
        dict(diagnoses=["S01.800x011"], procedures=["01.0900x008"]),
        ("MDCB", "BB1", "BB15", "grouped"),
        (None, None, "0000", "ungroupable"),
    ),
    # 8. The same stay coded with the 国临版 code, in a 医保版 record: BB1 as written.
    (
        "国临版 OR procedure as written in the ADRG list",
        dict(diagnoses=["S01.800x011"], procedures=["01.3900x016"]),
        ("MDCB", "BB1", "BB15", "grouped"),
        (None, None, "0000", "ungroupable"),
    ),
    # 9. 医保版 12.6700x008 (SS_VALID) read as 国临版 12.7902, CB4's (adrg_ss); A06.801 enters MDCC.
    (
        "eye procedure read as 国临版",
        dict(diagnoses=["A06.801"], procedures=["12.6700x008"]),
        ("MDCC", "CB4", "CB45", "grouped"),
        (None, None, "0000", "ungroupable"),
    ),
    # 10. The exclusion table is 医保版: the principal A49.816 is read there as A49.100x005
    # (cc_exclusion_by_pdx: table 4); the secondary A40.300 is an MCC of table 4 (mcc_list):
    # cancelled, SV15. (The old reading gives 0000 for this principal, see case 4.)
    (
        "exclusion read in 医保版 for a 国临版 principal",
        dict(diagnoses=["A49.816", "A40.300"]),
        ("MDCS", "SV1", "SV15", "grouped"),
        (None, None, "0000", "ungroupable"),
    ),
    # 11. A 国临版 record: dx map A49.816 -> A49.100x005 enters MDCS (mdc_pdx, 医保版); SV1's list
    # holds A49.816 as written. Old reading: every table read A49.100x005, no ADRG: 0000.
    (
        "国临版 record: ADRG list as written, MDC table in 医保版",
        dict(diagnoses=["A49.816"], coding="guolin"),
        ("MDCS", "SV1", "SV15", "grouped"),
        (None, None, "0000", "ungroupable"),
    ),
]


@pytest.mark.parametrize(("name", "fields", "expected", "old"), ZJ_CASES, ids=[c[0] for c in ZJ_CASES])
def test_zj_edition_rule(zj, zj_old, name, fields, expected, old):
    assert got(zj, rec(**fields)) == expected
    assert got(zj_old, rec(**fields)) == old, "the case depends on the edition rule"


def test_the_cc_and_mcc_tables_are_read_in_their_edition(zj):
    # A49.816 (国临版, as written in SV1's list) as a secondary diagnosis: mcc_list is 医保版, where
    # it reads A49.100x005, an MCC of table 4; the principal J18.900's exclusion table is 101: MCC.
    # ES2 (J18.900, adult): ES21 HAS_MCC.
    r = zj.group(rec(diagnoses=["J18.900", "A49.816"]))
    assert (r.drg, r.mcc) == ("ES21", ("A49.100x005",)), "reported as its 医保版 code, like `diagnoses`"
    assert r.diagnoses == ("J18.900", "A49.100x005")
    # Declared 国临版 (as written only), the same table would not hold it: ES25.
    assert got(declared(zj, mcc_list__diagnoses=("guolin",)), rec(diagnoses=["J18.900", "A49.816"]))[2] == "ES25"


def test_the_exclusion_table_is_read_in_its_edition(zj):
    # Case 10 above with the exclusion table declared 国临版: A49.816 is not in it as written, so
    # nothing cancels the MCC A40.300: SV11.
    g = declared(zj, cc_exclusion_by_pdx__diagnoses=("guolin",))
    assert got(g, rec(diagnoses=["A49.816", "A40.300"])) == ("MDCS", "SV1", "SV11", "grouped")


def test_translations_are_said_in_the_messages(zj, chs):
    r = zj.group(rec(diagnoses=["G11.200x003"]))
    (m,) = [m for m in r.messages if m.field == "diagnoses[1]"]
    assert m.level == "info"
    assert m.text == (
        "principal diagnosis G11.200x003 is a 国临版 code (医保版 G23.300) in a 医保版 record; "
        "read as 医保版 G23.300 in mdc_pdx_table, cc_exclusion_by_pdx; as written in adrg_code_lists"
    )
    r = zj.group(rec(diagnoses=["Q27.811"], procedures=["00.5000x004"]))
    assert [m.text for m in r.messages] == [
        "principal procedure 00.5000x004: read as 国临版 37.8300x002 in adrg_code_lists"
    ]
    # A 国临版 record's codes are 国临版 by declaration: only the tables that translate are named.
    r = zj.group(rec(diagnoses=["A49.816"], coding="guolin"))
    assert [m.text for m in r.messages] == [
        "principal diagnosis 国临版 A49.816 is 医保版 A49.100x005 on the settlement list; "
        "read as 医保版 A49.100x005 in mdc_pdx_table, mcc_list, cc_exclusion_by_pdx; as written in adrg_code_lists"
    ]
    # Translated for the settlement list but read as written everywhere: still said (CHS, dx map
    # K07.400 -> K07.400x001).
    r = chs.group(rec(diagnoses=["J18.900", "K07.400"], coding="guolin"))
    assert r.diagnoses == ("J18.900", "K07.400x001")
    assert [m.text for m in r.messages] == ["diagnosis #2 国临版 K07.400 is 医保版 K07.400x001 on the settlement list"]
    # A grey code named as sent, with its 医保版 code (dx map A20.900x002 -> A20.900, grey).
    r = zj.group(rec(diagnoses=["A20.900x002"], coding="guolin"))
    assert r.drg == "0000"
    assert (
        r.messages[-1].text
        == "principal diagnosis A20.900x002 (医保版 A20.900) is a grey code (not valid on a settlement list)"
    )
    # A plain 医保版 code every table knows as written: no message.
    assert zj.group(rec(diagnoses=["J18.900"])).messages == []


def test_chs_translates_国临版_to_医保版_only(chs):
    # CHS is 医保版 throughout: a 国临版 code is read as its 医保版 code in every table, a 医保版
    # code only as written. J10.000x011 -> J10.000 (dx map), ES3's: ES35 (as in the hand-derived set).
    assert got(chs, rec(diagnoses=["J10.000x011"], coding="guolin")) == ("MDCE", "ES3", "ES35", "grouped")
    # 00.5000x004 is 医保版 and CHS's 医保版 lists are read with it as written; the 国临版
    # 37.8300x002 is read as 00.5000x004 (px map), so both group alike.
    assert chs.compiled("yibao").view.readings[("adrg_code_lists.csv", "procedures")].get("00.5000x004") is None
    assert got(chs, rec(diagnoses=["Q27.811"], procedures=["37.8300x002"])) == got(
        chs, rec(diagnoses=["Q27.811"], procedures=["00.5000x004"])
    )


def test_a_code_in_both_sets_follows_the_declared_coding_in_each_table(zj):
    # A19.000x001 is 医保版 and also a 国临版 code meaning A19.001 (dx map). In a 医保版 record it is
    # the 医保版 concept: no ADRG list holds it as written, so the lists read its 国临版 code
    # A19.800x010 (dx map: A19.800x010 -> A19.000x001), ES1's.
    assert got(zj, rec(diagnoses=["A19.000x001"])) == ("MDCE", "ES1", "ES15", "grouped")
    # In a 国临版 record it means A19.001: the 医保版 tables read A19.001; the ADRG lists (国临版 too)
    # hold A19.000x001 as written only if they list it.
    view = zj.compiled("guolin").view
    assert view.readings[("mdc_pdx_table.csv", "diagnoses")]["A19.000x001"] == ("A19.001",)
    assert zj.group(rec(diagnoses=["A19.000x001"], coding="guolin")).diagnoses == ("A19.001",)


def test_a_国临版_code_a_mixed_table_lacks_is_read_through_its_医保版_code(zj, zj_old):
    # dx map: A49.800x021 -> A49.100x005 and A49.816 -> A49.100x005; SV1 lists A49.816 only, and no
    # ADRG list holds A49.100x005: the list reads A49.800x021 as its sibling A49.816.
    for coding in ("yibao", "guolin"):
        assert got(zj, rec(diagnoses=["A49.800x021"], coding=coding)) == ("MDCS", "SV1", "SV15", "grouped")
    assert got(zj_old, rec(diagnoses=["A49.800x021"])) == (None, None, "0000", "ungroupable")
    r = zj.group(rec(diagnoses=["A49.800x021"]))
    assert "read as 国临版 A49.816 in adrg_code_lists" in r.messages[0].text


def test_a_code_outside_the_declared_edition_is_reported_and_read_as_written(zj):
    # A06.400+K77.0* is 医保版 only (not in the dx map): in a 国临版 record it is not a 国临版 code;
    # kept as sent, and mcc_list holds it as written: ES2 with an MCC, ES21.
    r = zj.group(rec(diagnoses=["J18.900", "A06.400+K77.0*"], coding="guolin"))
    assert r.drg == "ES21" and r.mcc == ("A06.400+K77.0*",)
    assert [m.text for m in r.messages] == ["diagnosis #2 A06.400+K77.0* is not a 国临版 code"]


def test_unknown_in_both_code_sets_is_reported_and_kept(zj):
    # 00.6502 is in ZJ's ADRG lists (BE2, ZJ1) but in neither code set: the settlement-list check
    # reports it; it is kept as sent and a list that holds it as written still holds it.
    r = zj.group(rec(diagnoses=["J18.900"], procedures=["99.9999"]))
    assert r.procedures == ("99.9999",)
    assert any(m.level == "warning" and "99.9999 is not a 医保版 v2.0 code" in m.text for m in r.messages)
    r = zj.group(rec(diagnoses=["J18.900"], procedures=["00.6502"]))
    assert r.procedures == ("00.6502",)
    assert any(m.level == "warning" and "00.6502 is not a 医保版 v2.0 code" in m.text for m in r.messages)
    for coding in ("yibao", "guolin"):
        view = zj.compiled(coding).view
        assert "00.6502" in view.codes(("adrg_code_lists.csv", "procedures"), frozenset({"00.6502"}))
    # A 国临版 record's principal that is not a 国临版 code (A02.204+M90.2* is 医保版 only): 0000.
    r = zj.group(rec(diagnoses=["A02.204+M90.2*"], coding="guolin"))
    assert r.drg == "0000" and any(m.level == "error" for m in r.messages)


def test_builtin_declarations_are_the_measured_ones():
    codebook = load_codebook()
    for code in ("chs_drg_11", "zhejiang_2022"):
        assert load_scheme(builtin_dir(code)).editions == measure_editions(
            load_scheme_tables_only(builtin_dir(code)), codebook
        ), code
    zj = load_scheme(builtin_dir("zhejiang_2022")).editions
    assert zj[("adrg_code_lists.csv", "diagnoses")] == ("yibao", "guolin")
    assert zj[("mcc_list.csv", "diagnoses")] == ("yibao",)
    assert set(load_scheme(builtin_dir("chs_drg_11")).editions.values()) == {("yibao",)}


def _copy_scheme(tmp_path, code="zhejiang_2022"):
    import shutil

    target = tmp_path / code
    shutil.copytree(builtin_dir(code), target)
    return target


def test_a_scheme_without_a_declaration_is_refused(tmp_path):
    folder = _copy_scheme(tmp_path)
    (folder / EDITIONS_FILE).unlink()
    with pytest.raises(SchemeTableError) as e:
        load_scheme(folder)
    assert "code_editions.csv:0: file is missing" in str(e.value)
    assert "dianshu standards editions" in str(e.value)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([("mcc_list.csv", "diagnoses", "guolin"), ("mcc_list.csv", "diagnoses", "guolin")], "guolin twice"),
        ([("mcc_list.csv", "diagnoses", "icd11")], "edition 'icd11' must be one of yibao, guolin"),
        ([("mcc_list.csv", "procedures", "yibao")], "mcc_list.csv / procedures is not a table and kind"),
        ([("mcc_list.csv", "diagnoses", "*")], "edition '*' must be one of"),
    ],
)
def test_a_broken_declaration_is_refused_with_line_and_reason(tmp_path, rows, expected):
    folder = _copy_scheme(tmp_path)
    with (folder / EDITIONS_FILE).open("a", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    with pytest.raises(SchemeTableError) as e:
        load_scheme(folder)
    assert expected in str(e.value)
    assert f"{EDITIONS_FILE}:" in str(e.value)


def test_every_table_must_be_declared(tmp_path):
    folder = _copy_scheme(tmp_path)
    lines = (folder / EDITIONS_FILE).read_text(encoding="utf-8").splitlines()
    kept = [ln for ln in lines if not ln.startswith("or_procedures_ss_valid.csv")]
    (folder / EDITIONS_FILE).write_text("\n".join(kept) + "\n", encoding="utf-8")
    with pytest.raises(SchemeTableError) as e:
        load_scheme(folder)
    assert "or_procedures_ss_valid.csv / procedures: no edition declared" in str(e.value)
    assert len(CODE_FAMILIES) == 9


def test_the_editions_command_measures_a_folder_and_writes_its_declaration(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    folder = _copy_scheme(tmp_path)
    (folder / EDITIONS_FILE).unlink()
    dianshu = str(Path(sys.executable).parent / "dianshu")
    env = {**os.environ, "COLUMNS": "200"}
    shown = subprocess.run(
        [dianshu, "standards", "editions", "--dir", str(folder)], capture_output=True, text=True, env=env, timeout=120
    )
    assert shown.returncode == 0, shown.stderr
    assert "医保版 + 国临版" in shown.stdout + shown.stderr
    assert not (folder / EDITIONS_FILE).exists(), "measuring alone writes nothing"
    wrote = subprocess.run(
        [dianshu, "standards", "editions", "--dir", str(folder), "--write"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert wrote.returncode == 0, wrote.stderr
    assert (folder / EDITIONS_FILE).read_bytes() == (builtin_dir("zhejiang_2022") / EDITIONS_FILE).read_bytes()
