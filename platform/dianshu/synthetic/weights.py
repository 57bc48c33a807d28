"""Relative weights (RW) for a scheme's DRGs from the published city tables in
standards/data/weights: the mean RW of the code across the tables that list it; otherwise the mean
of its ADRG (first three characters); otherwise of its MDC letter; otherwise 1."""

from __future__ import annotations

import csv
import statistics
from functools import lru_cache
from pathlib import Path

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "standards" / "data" / "weights"
RW_HEADERS = ("RW", "权重", "初始权重", "标准分值")


@lru_cache(maxsize=1)
def published_rw() -> dict[str, float]:
    """DRG code -> mean published RW (scores like 标准分值 are scaled to RW by /100)."""
    values: dict[str, list[float]] = {}
    for path in sorted(WEIGHTS_DIR.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader)
            col = next((i for i, h in enumerate(header) if h.strip() in RW_HEADERS), None)
            if col is None:
                continue
            scale = 100.0 if header[col].strip() == "标准分值" else 1.0
            for r in reader:
                if len(r) <= col or not r[0].strip():
                    continue
                try:
                    rw = float(r[col]) / scale
                except ValueError:
                    continue
                if 0.05 < rw < 50:
                    values.setdefault(r[0].strip(), []).append(rw)
    return {code: statistics.fmean(v) for code, v in values.items()}


def rw_for(drgs: list[str]) -> dict[str, float]:
    pub = published_rw()
    by_adrg: dict[str, list[float]] = {}
    by_mdc: dict[str, list[float]] = {}
    for code, rw in pub.items():
        by_adrg.setdefault(code[:3], []).append(rw)
        by_mdc.setdefault(code[:1], []).append(rw)
    out = {}
    for d in drgs:
        if d in pub:
            out[d] = pub[d]
        elif d[:3] in by_adrg:
            out[d] = statistics.fmean(by_adrg[d[:3]])
        elif d[:1] in by_mdc:
            out[d] = statistics.fmean(by_mdc[d[:1]])
        else:
            out[d] = 1.0
    return out
