"""Measure what a generated city looks like (used by tests and `dianshu generate --check`)."""

from __future__ import annotations

import csv
import gzip
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from dianshu.cases.validation import RowValidator
from dianshu.codes.codebook import load_codebook
from dianshu.grouping.engine import Grouper
from dianshu.grouping.records import GroupInput
from dianshu.standards.tables import builtin_dir, load_scheme


@dataclass
class CityProfile:
    rows: int
    invalid: int
    grouped: int
    mdcs: set[str]
    drgs: set[str]
    high_outliers: int
    low_outliers: int
    invalid_examples: list[str]

    @property
    def grouping_rate(self) -> float:
        return self.grouped / self.rows

    @property
    def outlier_share(self) -> float:
        return (self.high_outliers + self.low_outliers) / self.grouped


def profile_files(paths: list[Path], scheme: str = "zhejiang_2022") -> CityProfile:
    g = Grouper(load_scheme(builtin_dir(scheme)), load_codebook())
    validator = RowValidator(g.codebook)
    costs: list[tuple[str, Decimal]] = []
    rows = invalid = grouped = 0
    mdcs: set[str] = set()
    examples: list[str] = []
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            for raw in csv.DictReader(fh):
                rows += 1
                values, errors = validator.validate(raw)
                if errors:
                    invalid += 1
                    if len(examples) < 5:
                        examples.append(f"{path.name} {raw['setl_id']}: {errors[0].field}: {errors[0].reason}")
                    continue
                r = g.group(
                    GroupInput(
                        id=raw["setl_id"],
                        sex=values["sex"],
                        age_years=values["age_years"],
                        age_days=values["age_days"],
                        birth_weight_g=values["birth_weight_g"],
                        diagnoses=tuple(values["diagnoses"]),
                        procedures=tuple(values["procedures"]),
                        dept=values["discharge_dept"],
                    )
                )
                if r.status == "grouped":
                    grouped += 1
                    mdcs.add(r.mdc)  # type: ignore[arg-type]
                    costs.append((r.drg, values["total_cost"]))
    by_drg: dict[str, list[Decimal]] = {}
    for drg, cost in costs:
        by_drg.setdefault(drg, []).append(cost)
    avg_all = sum(c for _, c in costs) / len(costs)
    high = low = 0
    for _drg, cs in by_drg.items():
        avg = sum(cs) / len(cs)
        b = avg / avg_all * 100
        k = 3 if b <= 100 else 2 if b <= 300 else Decimal("1.5")
        for c in cs:
            ratio = c / avg
            high += ratio > k
            low += ratio < Decimal("0.4")
    return CityProfile(rows, invalid, grouped, mdcs, set(by_drg), high, low, examples)


def summary(p: CityProfile) -> Counter:
    return Counter(
        {
            "rows": p.rows,
            "invalid": p.invalid,
            "grouped": p.grouped,
            "mdcs": len(p.mdcs),
            "drgs": len(p.drgs),
            "high": p.high_outliers,
            "low": p.low_outliers,
        }
    )
