"""Enums of the code sets, shared by the cases and the standards (their own module: the standards
import it without importing the cases)."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(
    description="The code edition a record's diagnoses and procedures are in: 医保版 (yibao) or 国临版 (guolin)."
)
class CodeEdition(Enum):
    yibao = "yibao"
    guolin = "guolin"
