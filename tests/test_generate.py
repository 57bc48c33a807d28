"""The synthetic pilot city: valid, realistic by the measures issue 4 names, reproducible."""

from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pytest

from dianshu.synthetic.check import profile_files
from dianshu.synthetic.city import GenerateOptions, generate_city
from dianshu.tenancy import pilot


@pytest.fixture(scope="module")
def city_files(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate_city(out, GenerateOptions(years=(2024, 2025), stays_per_year=12_000, seed=7))
    return out


def test_every_generated_row_is_valid_and_the_profile_is_realistic(city_files):
    p = profile_files(sorted(city_files.glob("*/*.csv.gz")))
    assert p.rows == 24_000 and p.invalid == 0, p.invalid_examples
    assert p.grouping_rate > 0.95
    from dianshu.standards.tables import builtin_dir, load_scheme

    assert p.mdcs == {m.mdc for m in load_scheme(builtin_dir("zhejiang_2022")).mdcs}, "every MDC present"
    assert 0.03 <= p.outlier_share <= 0.05, p.outlier_share
    assert len(p.drgs) > 700


def test_files_cover_every_region_and_year_with_control_totals(city_files):
    import json
    from decimal import Decimal

    manifest = json.loads((city_files / "manifest.json").read_text())
    assert {(f["tenant"], f["year"]) for f in manifest["files"]} == {
        (c, y) for c, _, _ in pilot.REGIONS for y in (2024, 2025)
    }
    f = manifest["files"][0]
    with gzip.open(city_files / f["path"], "rt", encoding="utf-8", newline="") as fh:
        text = fh.read()
    assert text.endswith("\n")  # ingestion refuses a file whose last line has no line end
    lines = text.splitlines()
    assert len(lines) - 1 == f["rows"]
    header = lines[0].split(",")
    col = header.index("medfee_sumamt")
    import csv

    total = sum(Decimal(r[col]) for r in csv.reader(lines[1:]))
    assert str(total) == f["total_cost"]


def test_same_seed_same_files(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    generate_city(a, GenerateOptions(stays_per_year=900, seed=3, processes=2))
    generate_city(b, GenerateOptions(stays_per_year=900, seed=3, processes=1))

    def digest(root: Path) -> dict[str, str]:
        # The compressed bytes themselves: re-sent files must be recognised by their hash.
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.glob("*/*.csv.gz"))}

    assert digest(a) == digest(b)
    generate_city(tmp_path / "c", GenerateOptions(stays_per_year=900, seed=4, processes=1))
    assert digest(tmp_path / "c") != digest(a)
