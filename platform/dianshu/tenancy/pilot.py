"""The pilot city: Jinhua (金华市, 330700), Zhejiang, and its nine county-level pooling regions,
with a deterministic synthetic hospital roster (about 150 hospitals of three levels and types)."""

from __future__ import annotations

import random
from dataclasses import dataclass

CITY = ("330700", "金华市")
# (code, name, share of the city's hospitals): the nine county-level divisions of Jinhua.
REGIONS: tuple[tuple[str, str, float], ...] = (
    ("330702", "婺城区", 0.16),
    ("330703", "金东区", 0.09),
    ("330723", "武义县", 0.08),
    ("330726", "浦江县", 0.08),
    ("330727", "磐安县", 0.05),
    ("330781", "兰溪市", 0.10),
    ("330782", "义乌市", 0.20),
    ("330783", "东阳市", 0.13),
    ("330784", "永康市", 0.11),
)


@dataclass(frozen=True)
class HospitalSpec:
    tenant_id: str
    id: str
    name: str
    level: int
    type: str
    alliance_id: str | None


_TERTIARY = ("第一人民医院", "中心医院", "人民医院")
_SECONDARY = ("第二人民医院", "中医院", "妇幼保健院", "第三人民医院", "骨伤科医院", "精神卫生中心", "康复医院")
_PRIMARY = ("社区卫生服务中心", "中心卫生院", "卫生院")
_TOWNS = (
    "城东",
    "城西",
    "城南",
    "城北",
    "江南",
    "新城",
    "白龙桥",
    "罗店",
    "孝顺",
    "塘雅",
    "汤溪",
    "琅琊",
    "蒋堂",
    "洋埠",
    "岭下",
    "赤松",
    "曹宅",
    "澧浦",
    "傅村",
    "源东",
)


def _type_for(name: str) -> str:
    if "中医" in name or "骨伤" in name:
        return "tcm"
    if any(k in name for k in ("妇幼", "精神", "康复")):
        return "specialist"
    return "general"


def hospitals(total: int = 150, seed: int = 7) -> list[HospitalSpec]:
    """A roster of `total` hospitals spread over the regions by their shares. Codes follow the
    national designated-institution pattern H + region code + 5 digits. Each county hospital
    leads a medical alliance (医共体) of the region's primary hospitals."""
    rng = random.Random(seed)  # noqa: S311  (reproducible synthetic data, not security)
    out: list[HospitalSpec] = []
    counts = [max(3, round(total * share)) for _, _, share in REGIONS]
    counts[-1] += total - sum(counts)
    for (code, rname, _), n in zip(REGIONS, counts, strict=True):
        n_tertiary = 1 if n < 12 else 2
        n_secondary = max(1, round(n * 0.3))
        n_primary = n - n_tertiary - n_secondary
        alliance = f"A{code}01"
        seq = 0

        def add(name: str, level: int, alliance_id: str | None, code: str = code) -> None:
            nonlocal seq
            seq += 1
            out.append(HospitalSpec(code, f"H{code}{seq:05d}", name, level, _type_for(name), alliance_id))

        for i in range(n_tertiary):
            add(f"{rname}{_TERTIARY[i % len(_TERTIARY)]}", 3, alliance if i == 0 else None)
        for i in range(n_secondary):
            base = _SECONDARY[i % len(_SECONDARY)]
            suffix = "" if i < len(_SECONDARY) else f"{i // len(_SECONDARY) + 1}分院"
            add(f"{rname}{base}{suffix}", 2, None)
        towns = rng.sample(_TOWNS, k=min(len(_TOWNS), n_primary)) if n_primary <= len(_TOWNS) else _TOWNS
        for i in range(n_primary):
            town = towns[i % len(towns)]
            kind = _PRIMARY[i % len(_PRIMARY)]
            suffix = "" if i < len(towns) else f"{i // len(towns) + 1}"
            add(f"{rname}{town}{kind}{suffix}", 1, alliance)
    return out
