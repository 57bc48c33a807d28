"""The code book: which codes are valid on a settlement list, and how 国临版 codes translate.

A record declares its coding: `yibao` (医保版, the default) or `guolin` (国临版). 国临版 codes are
always translated through the crosswalk. In a 医保版 record a code that is not 医保版 but has a
crosswalk entry is translated too (and said so); 249 diagnosis codes exist in both sets with
different meanings, so a 国临版 record must say it is one."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class CodeStatus:
    original: str
    code: str  # the 医保版 code used for grouping (= original when no translation)
    translated: bool
    known: bool  # a 医保版 code (after translation)
    grey: bool


@dataclass(frozen=True)
class CodeSystem:
    names: dict[str, str]
    grey: frozenset[str]
    crosswalk: dict[str, str]

    @property
    def plain(self) -> frozenset[str]:
        """医保版 codes that are valid and not grey: the common case, checked with one lookup."""
        cached = self.__dict__.get("_plain")
        if cached is None:
            cached = frozenset(c for c in self.names if c not in self.grey)
            object.__setattr__(self, "_plain", cached)
        return cached

    def check(self, raw: str, coding: str = "yibao") -> CodeStatus:
        code = raw.strip()
        if coding == "guolin":
            target = self.crosswalk.get(code)
            if target is not None:
                return CodeStatus(raw, target, target != code, target in self.names, target in self.grey)
            return CodeStatus(raw, code, False, False, False)
        if code in self.names:
            return CodeStatus(raw, code, False, True, code in self.grey)
        target = self.crosswalk.get(code)
        if target is not None:
            return CodeStatus(raw, target, True, target in self.names, target in self.grey)
        return CodeStatus(raw, code, False, False, False)


@dataclass(frozen=True)
class CodeBook:
    diagnoses: CodeSystem
    procedures: CodeSystem


def _read(path: Path, *columns: str) -> list[tuple[str, ...]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return [tuple(r[c].strip() for c in columns) for r in reader]


@lru_cache(maxsize=4)
def load_codebook(directory: Path = DATA_DIR) -> CodeBook:
    dx = CodeSystem(
        names=dict(_read(directory / "icd10_yibao_v2.0.csv", "code", "name")),  # type: ignore[arg-type]
        grey=frozenset(c for (c,) in _read(directory / "icd10_yibao_v2.0_grey_codes.csv", "code")),
        crosswalk=dict(_read(directory / "map_icd10_guolin_v2.0_to_yibao_v2.0.csv", "from_code", "to_code")),  # type: ignore[arg-type]
    )
    px = CodeSystem(
        names=dict(_read(directory / "icd9cm3_yibao_v2.0.csv", "code", "name")),  # type: ignore[arg-type]
        grey=frozenset(c for (c,) in _read(directory / "icd9cm3_yibao_v2.0_grey_codes.csv", "code")),
        crosswalk=dict(_read(directory / "map_icd9cm3_guolin_v3.0_to_yibao_v2.0.csv", "from_code", "to_code")),  # type: ignore[arg-type]
    )
    return CodeBook(dx, px)
