"""Synthetic grouper input aimed at a scheme's ADRGs: each record takes a principal diagnosis (and,
for procedure-driven ADRGs, a principal procedure) from one ADRG's own lists, plus random secondary
codes, so a sample spreads over most groups the way real case mixes do."""

from __future__ import annotations

import random
from collections.abc import Iterator

from dianshu.grouping.engine import Grouper
from dianshu.grouping.records import GroupInput


def sample_records(g: Grouper, n: int, seed: int = 1) -> Iterator[GroupInput]:
    rng = random.Random(seed)  # noqa: S311  (reproducible synthetic data)
    plain_dx, plain_px = g.codebook.diagnoses.plain, g.codebook.procedures.plain
    secondary = sorted(plain_dx)
    complications = sorted((set(g.tables.mcc) | set(g.tables.cc)) & plain_dx)
    targets = []
    for code, rule in g.tables.adrgs.items():
        lists = g.tables.adrg_lists.get(code, {})
        zd = sorted(lists.get("adrg_zd", frozenset()) & plain_dx) or sorted(
            g.tables.mdc_dx.get(rule.mdc, frozenset()) & plain_dx
        )
        ss = sorted(lists.get("adrg_ss", frozenset()) & plain_px)
        if zd:
            targets.append((rule.mdc, zd, ss))
    for i in range(n):
        mdc, zd, ss = targets[rng.randrange(len(targets))]
        newborn = mdc == "MDCP"
        age = 0 if newborn else rng.randint(1, 90)
        dxs = [rng.choice(zd)]
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3, 4, 6))):
            dxs.append(rng.choice(complications) if rng.random() < 0.3 else rng.choice(secondary))
        procs = [rng.choice(ss)] if ss else []
        if rng.random() < 0.3:
            procs.append(rng.choice(ss) if ss else "89.0300")
        yield GroupInput(
            id=str(i),
            sex=2 if mdc == "MDCN" else 1 if mdc == "MDCM" else rng.choice((1, 2)),
            age_years=age,
            age_days=rng.randint(0, 28) if newborn else None,
            birth_weight_g=rng.choice((1200, 1800, 2300, 3200)) if newborn else None,
            los_days=rng.randint(1, 30),
            discharge_way=1,
            diagnoses=tuple(dxs),
            procedures=tuple(procs),
            dept="ICU" if rng.random() < 0.03 else None,
        )
