"""Records whose group was derived by hand from the tables in platform/dianshu/standards/data.
Each case cites the rows that decide it (file: row)."""

from __future__ import annotations

import pytest

from dianshu.grouping.engine import with_options
from tests.grouping.records import got, rec

CHS = [
    # --- pre-MDC A: transplant. mdc_rules: MDCA "MAIN_PROC IN SS_VALID" (50.5100 is in
    # or_procedures_ss_valid); adrg_code_lists: AB1,adrg_ss,50.5100; drg_split_rules: AB19 TRUE.
    ("liver transplant", dict(diagnoses=["K74.600"], procedures=["50.5100"]), ("MDCA", "AB1", "AB19", "grouped")),
    # --- pre-MDC A: ventilation ≥ 96 h. AH1,adrg_ss,96.7201; AH11 HAS_MCC, AH15 TRUE.
    (
        "ventilation >= 96h",
        dict(diagnoses=["J96.000"], procedures=["96.7201"], vent_hours=120),
        ("MDCA", "AH1", "AH15", "grouped"),
    ),
    # I50.900 is in mcc_list (table 95); the principal J96.000 has exclusion table 109: an MCC.
    (
        "ventilation >= 96h with MCC",
        dict(diagnoses=["J96.000", "I50.900"], procedures=["96.7201"], vent_hours=120),
        ("MDCA", "AH1", "AH11", "grouped"),
    ),
    # 96.7101 (< 96 h) is SS_VALID, so MDCA is entered, but no MDCA list holds it: on to MDCE,
    # where J96.000 is in ER3's adrg_zd (ER31 HAS_MCC > ER33 HAS_MCC_OR_CC > ER35 TRUE).
    (
        "ventilation < 96h",
        dict(diagnoses=["J96.000"], procedures=["96.7101"], vent_hours=50),
        ("MDCE", "ER3", "ER35", "grouped"),
    ),
    # --- pre-MDC P: MDCP "PDX IN mdc_zd AND AGE_YEARS == 0"; PR1 "PDX IN adrg_zd AND AGE_DAYS <= 28"
    # with P22.000 (newborn RDS) in PR1's list; no secondary diagnosis: PR15.
    (
        "newborn RDS",
        dict(diagnoses=["P22.000"], age_years=0, age_days=3, birth_weight_g=3100),
        ("MDCP", "PR1", "PR15", "grouped"),
    ),
    # Newborn weight bands: P07.300 is in the adrg_zd of PS1..PS4 (not PR1's); the bands are
    # PS1 < 1500, PS2 1500-1999, PS3 2000-2499, PS4 >= 2500 (adrg_rules MDCP rows 7-10).
    (
        "newborn < 1500 g",
        dict(diagnoses=["P07.300"], age_years=0, age_days=5, birth_weight_g=1200),
        ("MDCP", "PS1", "PS15", "grouped"),
    ),
    (
        "newborn 1500-1999 g",
        dict(diagnoses=["P07.300"], age_years=0, age_days=5, birth_weight_g=1800),
        ("MDCP", "PS2", "PS25", "grouped"),
    ),
    (
        "newborn 2000-2499 g",
        dict(diagnoses=["P07.300"], age_years=0, age_days=5, birth_weight_g=2200),
        ("MDCP", "PS3", "PS39", "grouped"),
    ),
    (
        "newborn >= 2500 g",
        dict(diagnoses=["P07.300"], age_years=0, age_days=5, birth_weight_g=2600),
        ("MDCP", "PS4", "PS45", "grouped"),
    ),
    (
        "newborn exactly 1500 g",
        dict(diagnoses=["P07.300"], age_years=0, age_days=5, birth_weight_g=1500),
        ("MDCP", "PS2", "PS25", "grouped"),
    ),
    # 40 days old: every PS/PR/PU rule needs AGE_DAYS <= 28; PV1 is TRUE (PV13 > PV15).
    (
        "infant of 40 days",
        dict(diagnoses=["P07.300"], age_years=0, age_days=40, birth_weight_g=2600),
        ("MDCP", "PV1", "PV15", "grouped"),
    ),
    # --- pre-MDC Y: HIV principal. B20.001 is in MDCY's mdc_zd and YR1's adrg_zd; no CC: YR15.
    ("HIV principal", dict(diagnoses=["B20.001"]), ("MDCY", "YR1", "YR15", "grouped")),
    # HIV secondary, surgical: with the standard option MDCY -> ANY_DX IN mdc_zd, B20.001 enters
    # MDCY; YC1 "ANY_DX IN adrg_zd AND MAIN_PROC IN SS_VALID" (47.0100 is SS_VALID); B20.001 is an
    # MCC (table 13) and K35.800x001's exclusion table is 112: YC11.
    (
        "HIV secondary, surgical",
        dict(diagnoses=["K35.800x001", "B20.001"], procedures=["47.0100"]),
        ("MDCY", "YC1", "YC11", "grouped"),
    ),
    # --- pre-MDC Z: S01.801 (头颈部创伤) and S21.101 (胸部创伤) are both MDCZ codes of different
    # body regions: special MULTI_TRAUMA_2PLUS holds. No procedure: ZZ1 "NOT(ANY_PROC IN SS_VALID)".
    # S21.101 is a CC (table 198) not excluded by S01.801 (table 196), but ZZ1 splits MCC only: ZZ15.
    ("multiple trauma", dict(diagnoses=["S01.801", "S21.101"]), ("MDCZ", "ZZ1", "ZZ15", "grouped")),
    # One body region only: MDCZ's special fails; S01.801 is also an MDCB code (BB1, BY1 lists):
    # BY1 is medical and matches without a procedure.
    ("single-region trauma", dict(diagnoses=["S01.801"]), ("MDCB", "BY1", None, "grouped")),
    # --- MDC M (male) and N (female), both sexes. MDCM "PDX IN mdc_zd AND SEX == 1"; MA1 "PDX IN
    # adrg_zd AND MAIN_PROC IN adrg_ss" with C61.x00 and 60.5x02: MA19. C61.x00 is in no other MDC.
    (
        "prostate cancer, male",
        dict(diagnoses=["C61.x00"], procedures=["60.5x02"], sex=1),
        ("MDCM", "MA1", "MA19", "grouped"),
    ),
    (
        "prostate cancer, female",
        dict(diagnoses=["C61.x00"], procedures=["60.5x02"], sex=2),
        (None, None, "0000", "ungroupable"),
    ),
    # N80.000 (endometriosis) is only in MDCN's list; NZ1 "PDX IN adrg_zd": NZ19.
    ("endometriosis, female", dict(diagnoses=["N80.000"], sex=2), ("MDCN", "NZ1", "NZ19", "grouped")),
    ("endometriosis, male", dict(diagnoses=["N80.000"], sex=1), (None, None, "0000", "ungroupable")),
    ("endometriosis, sex missing", dict(diagnoses=["N80.000"], sex=None), (None, None, "0000", "ungroupable")),
    # --- surgical ADRG: K35.800x001 is an MDCG code not in GD1's adrg_zd; 47.0100 is in GD2's
    # adrg_ss (GD23 HAS_MCC_OR_CC > GD25 TRUE).
    ("appendectomy", dict(diagnoses=["K35.800x001"], procedures=["47.0100"]), ("MDCG", "GD2", "GD25", "grouped")),
    # --- non-OR procedure ADRG: 42.3300x015 is not SS_VALID and only in GK1's adrg_ss; K29.700 is MDCG.
    (
        "endoscopic procedure",
        dict(diagnoses=["K29.700"], procedures=["42.3300x015"]),
        ("MDCG", "GK1", "GK19", "grouped"),
    ),
    # --- medical ADRG with CC/MCC: J18.900 -> MDCE, ES3 (ES31 HAS_MCC > ES33 HAS_MCC_OR_CC > ES35);
    # J18.900's exclusion table is 101.
    ("pneumonia", dict(diagnoses=["J18.900"]), ("MDCE", "ES3", "ES35", "grouped")),
    ("pneumonia + MCC I50.900 (table 95)", dict(diagnoses=["J18.900", "I50.900"]), ("MDCE", "ES3", "ES31", "grouped")),
    ("pneumonia + CC E87.600 (table 52)", dict(diagnoses=["J18.900", "E87.600"]), ("MDCE", "ES3", "ES33", "grouped")),
    # J10.100 is a CC of table 101, the principal's own table: cancelled. J09.x00 likewise an MCC of 101.
    (
        "pneumonia + CC cancelled by exclusion",
        dict(diagnoses=["J18.900", "J10.100"]),
        ("MDCE", "ES3", "ES35", "grouped"),
    ),
    (
        "pneumonia + MCC cancelled by exclusion",
        dict(diagnoses=["J18.900", "J09.x00"]),
        ("MDCE", "ES3", "ES35", "grouped"),
    ),
    # --- 国临版: J10.000x011 is not 医保版; map_icd10_guolin...: J10.000x011 -> J10.000 (ES3's list,
    # itself an MCC of table 101, but it is the principal).
    ("国临版 principal", dict(diagnoses=["J10.000x011"], coding="guolin"), ("MDCE", "ES3", "ES35", "grouped")),
    # --- grey principal (icd10_yibao_v2.0_grey_codes: I48.900) and a code in no MDC list (R65.101).
    ("grey principal", dict(diagnoses=["I48.900"]), (None, None, "0000", "ungroupable")),
    ("no MDC for the principal", dict(diagnoses=["R65.101"]), (None, None, "0000", "ungroupable")),
    ("no diagnosis at all", dict(diagnoses=[]), (None, None, "0000", "ungroupable")),
]


@pytest.mark.parametrize(("name", "fields", "expected"), CHS, ids=[c[0] for c in CHS])
def test_chs_drg_11(chs, name, fields, expected):
    mdc, adrg, drg, status = got(chs, rec(**fields))
    want_mdc, want_adrg, want_drg, want_status = expected
    assert (mdc, adrg, status) == (want_mdc, want_adrg, want_status)
    if want_drg is not None:
        assert drg == want_drg
    # Every grouped DRG belongs to its ADRG and MDC (drg code prefix = ADRG code prefix).
    if status == "grouped":
        assert drg[:3] == adrg[:3] and adrg[0] == mdc[-1]


def test_single_region_trauma_drg(chs):
    # BY1's split (drg_split_rules): BY11 HAS_MCC > BY13 HAS_MCC_OR_CC > BY15 TRUE; no secondary: BY15.
    assert got(chs, rec(diagnoses=["S01.801"]))[2] == "BY15"


def test_hiv_secondary_depends_on_the_documented_option(chs):
    """Without the option (the table read literally: PDX only) the same record is an appendectomy
    (GD2); B20.001, an MCC, makes it GD23."""
    literal = with_options(chs, mdc_entry_overrides=())
    r = rec(diagnoses=["K35.800x001", "B20.001"], procedures=["47.0100"])
    assert got(literal, r) == ("MDCG", "GD2", "GD23", "grouped")
    # A medical case with HIV secondary enters MDCY, finds no ADRG (YR1 needs the principal), and
    # goes on to its organ MDC.
    assert got(chs, rec(diagnoses=["J18.900", "B20.001"])) == ("MDCE", "ES3", "ES31", "grouped")


def test_messages_for_codes(chs):
    r = chs.group(rec(diagnoses=["I48.900"]))
    assert (r.messages[0].level, r.messages[0].field) == ("error", "diagnoses[1]")
    assert "grey code" in r.messages[0].text
    r = chs.group(rec(diagnoses=["J18.900", "Q99.999x999"], procedures=["99.9999"]))
    assert r.drg == "ES35"
    texts = [m.text for m in r.messages]
    assert any("diagnosis #2 Q99.999x999 is not a 医保版 v2.0 code" in t for t in texts)
    assert any("principal procedure 99.9999 is not a 医保版 v2.0 code" in t for t in texts)
    assert r.diagnoses == ("J18.900", "Q99.999x999"), "unknown codes are kept as sent, never dropped"
    # 国临版 in a 医保版 record: read as 国临版, and CHS-DRG's 医保版 tables read its 医保版 code; said so.
    r = chs.group(rec(diagnoses=["J10.000x011"]))
    assert r.drg == "ES35" and r.diagnoses == ("J10.000",)
    assert any(
        "J10.000x011 is a 国临版 code (医保版 J10.000) in a 医保版 record; read as 医保版 J10.000 in " in m.text
        for m in r.messages
    )


def test_a_code_valid_in_both_versions_follows_the_declared_coding(chs):
    # A19.000x001 is a 医保版 code and also a 国临版 code meaning A19.001: both are ES1 here, but the
    # code grouped on must follow the record's declared coding.
    assert chs.group(rec(diagnoses=["A19.000x001"])).diagnoses == ("A19.000x001",)
    assert chs.group(rec(diagnoses=["A19.000x001"], coding="guolin")).diagnoses == ("A19.001",)


def test_ventilation_hours_that_contradict_the_code_are_reported(chs):
    r = chs.group(rec(diagnoses=["J96.000"], procedures=["96.7201"], vent_hours=40))
    assert r.drg == "AH15", "grouped on the code as sent"
    assert any(m.field == "vent_hours" and "≥ 96 h" in m.text for m in r.messages)
    r = chs.group(rec(diagnoses=["J96.000"], procedures=["96.7101"], vent_hours=100))
    assert r.drg == "ER35"
    assert any(m.field == "vent_hours" and "< 96 h" in m.text for m in r.messages)


def test_mcc_and_cc_are_listed(chs):
    r = chs.group(rec(diagnoses=["J18.900", "I50.900", "E87.600", "J10.100"]))
    assert r.drg == "ES31"
    assert r.mcc == ("I50.900",) and r.cc == ("E87.600",)


# --- ZJ-DRG 2022 ---------------------------------------------------------------------------------

ZJ = [
    # MA1 in ZJ splits MA11 > MA13 > MA15 (drg_split_rules); no CC: MA15.
    ("prostate cancer", dict(diagnoses=["C61.x00"], procedures=["60.5x02"]), ("MDCM", "MA1", "MA15", "grouped")),
    # I63.900 is in BR2's adrg_zd; BR2 "PDX IN adrg_zd AND NOT(MAIN_PROC IN SS_VALID)",
    # order BR21 > BR23 > BR25 > BR29 (DEPT == 'ICU' after TRUE).
    ("ischaemic stroke", dict(diagnoses=["I63.900"], dept="神经内科"), ("MDCB", "BR2", "BR25", "grouped")),
    # The documented ICU rule: ICU DRGs are tried first; an ICU stay = dept ICU or ≥ 24 ICU hours.
    ("ischaemic stroke, ICU dept", dict(diagnoses=["I63.900"], dept="ICU"), ("MDCB", "BR2", "BR29", "grouped")),
    (
        "ischaemic stroke, 30 ICU hours",
        dict(diagnoses=["I63.900"], dept="神经内科", icu_hours=30),
        ("MDCB", "BR2", "BR29", "grouped"),
    ),
    (
        "ischaemic stroke, 10 ICU hours",
        dict(diagnoses=["I63.900"], dept="神经内科", icu_hours=10),
        ("MDCB", "BR2", "BR25", "grouped"),
    ),
    # ES2 (J18.900's ADRG in ZJ) starts with ES20 "AGE_YEARS < 17".
    ("pneumonia, child", dict(diagnoses=["J18.900"], age_years=10), ("MDCE", "ES2", "ES20", "grouped")),
    ("pneumonia, adult", dict(diagnoses=["J18.900"], age_years=40), ("MDCE", "ES2", "ES25", "grouped")),
    # ZJ's MDCY is "ANY_DX IN mdc_zd" in the table itself.
    ("HIV principal", dict(diagnoses=["B20.001"]), ("MDCY", "YR1", None, "grouped")),
]


@pytest.mark.parametrize(("name", "fields", "expected"), ZJ, ids=[c[0] for c in ZJ])
def test_zhejiang_2022(zj, name, fields, expected):
    mdc, adrg, drg, status = got(zj, rec(**fields))
    want_mdc, want_adrg, want_drg, want_status = expected
    assert (mdc, adrg, status) == (want_mdc, want_adrg, want_status)
    if want_drg is not None:
        assert drg == want_drg


def test_zj_icu_drg_is_unreachable_when_read_literally(zj):
    literal = with_options(zj, icu_first=False)
    assert got(literal, rec(diagnoses=["I63.900"], dept="ICU"))[2] == "BR25"


def test_ambiguous_group_option(chs):
    """With xQY enabled, an OR procedure that matches no surgical ADRG of the MDC gives xQY; MDCA
    (entered by any OR procedure) never emits AQY, or every surgical case would end there."""
    qy = with_options(chs, qy_enabled=True)
    # 47.0100 is SS_VALID but in no MDCE surgical list: a pneumonia with an appendectomy.
    assert got(qy, rec(diagnoses=["J18.900"], procedures=["47.0100"])) == ("MDCE", None, "EQY", "ambiguous")
    # Off (as published): the same record goes to the medical ADRG.
    assert got(chs, rec(diagnoses=["J18.900"], procedures=["47.0100"])) == ("MDCE", "ES3", "ES35", "grouped")


def test_trace_explains_each_step(chs):
    r = chs.group(rec(diagnoses=["J18.900", "I50.900"]), trace=True)
    assert r.trace[0].startswith("MDCA: not entered: MAIN_PROC (none) IN SS_VALID")
    assert any(s.startswith("MDCE: entered: PDX J18.900 IN mdc_zd") for s in r.trace)
    assert any("ES31: yes: HAS_MCC: yes (I50.900)" in s for s in r.trace)
    assert r.trace[-1].startswith("  -> ES31")
    untraced = chs.group(rec(diagnoses=["J18.900", "I50.900"]))
    assert (untraced.drg, untraced.trace) == ("ES31", None)


def test_a_code_in_two_trauma_regions_is_one_injury(zj):
    # zhejiang_2022/mdc_pdx_table.csv lists S12.910 under 头颈部创伤 and 躯干、脊柱和骨盆创伤.
    assert zj.tables.trauma_region["S12.910"] == frozenset({"头颈部创伤", "躯干、脊柱和骨盆创伤"})
    alone = zj.group(rec(diagnoses=["S12.910"]), trace=True)
    assert alone.mdc != "MDCZ"
    assert any("MDCZ: not entered" in s and "trauma body regions: 1" in s for s in alone.trace)
