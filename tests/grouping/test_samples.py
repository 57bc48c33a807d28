"""The benchmark's diverse record set: every ADRG equally often, real-shaped, codes as written."""

from __future__ import annotations

from collections import Counter

import pytest

from dianshu.grouping.samples import COMMON_PROCEDURES, COMORBIDITIES, diverse_records, diverse_targets


def test_the_common_codes_are_valid_yibao_codes(zj):
    assert set(COMORBIDITIES) <= zj.codebook.diagnoses.plain
    assert set(COMMON_PROCEDURES) <= zj.codebook.procedures.plain


@pytest.mark.parametrize("scheme", ["chs", "zj"])
def test_every_adrg_equally_often_and_mostly_reached(request, scheme):
    g = request.getfixturevalue(scheme)
    targets = diverse_targets(g)
    assert [t.adrg for t in targets] == list(g.tables.adrgs)  # 376 in both schemes
    n = len(targets) * 10
    recs = list(diverse_records(g, n, seed=5))
    aimed = Counter(targets[int(r.id[1:]) % len(targets)].adrg for r in recs)
    assert set(aimed.values()) == {10}
    reached = sum(1 for r in recs if g.group(r).adrg == targets[int(r.id[1:]) % len(targets)].adrg)
    # Measured 0.91 (ZJ-DRG) and 0.97 (CHS-DRG); the rest lands where the tables send it first.
    assert reached / n >= 0.85
    assert list(diverse_records(g, 50, seed=5)) == recs[:50]  # reproducible


def test_fields_agree_with_the_mdc_and_secondaries_are_skewed(zj):
    targets = diverse_targets(zj)
    recs = list(diverse_records(zj, len(targets) * 8, seed=2))
    by_mdc: dict[str, list] = {}
    for r in recs:
        by_mdc.setdefault(targets[int(r.id[1:]) % len(targets)].mdc, []).append(r)
    assert all(r.sex == 2 and 18 <= r.age_years <= 44 for r in by_mdc["MDCO"])
    assert all(r.sex == 1 for r in by_mdc["MDCM"]) and all(r.sex == 2 for r in by_mdc["MDCN"])
    assert all(r.age_years == 0 and r.age_days is not None and r.birth_weight_g for r in by_mdc["MDCP"])
    assert all(r.age_days is None and r.birth_weight_g is None and r.age_years >= 1 for r in by_mdc["MDCB"])
    # ZJ PS1 (BIRTH_WEIGHT < 1500 AND AGE_DAYS <= 28): its records are in the band.
    ps1 = [r for r in recs if targets[int(r.id[1:]) % len(targets)].adrg == "PS1"]
    assert ps1 and all(r.birth_weight_g < 1500 and r.age_days <= 28 for r in ps1)
    secondaries = Counter(len(r.diagnoses) - 1 for r in recs if targets[int(r.id[1:]) % len(targets)].mdc != "MDCZ")
    assert max(secondaries) <= 15 and secondaries[0] > 0 and secondaries[12] > 0
    assert sum(k * v for k, v in secondaries.items()) / sum(secondaries.values()) == pytest.approx(4.6, abs=0.6)


def test_codes_are_kept_as_the_tables_write_them(zj):
    """ZJ-DRG lists some 国临版 codes: the diverse set keeps them (the grouper translates them)."""
    names = zj.codebook.diagnoses.names
    crosswalk = zj.codebook.diagnoses.crosswalk
    guolin = [d for r in diverse_records(zj, 376 * 20, seed=1) for d in r.diagnoses[:1] if d not in names]
    assert guolin and any(d in crosswalk for d in guolin)
