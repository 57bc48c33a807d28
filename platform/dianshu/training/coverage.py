"""Training coverage (培训覆盖率) per hospital and year: the share of its coders and physicians
trained in the year, which the evaluation's indicator F07 (training_coverage) reads.

- The roster of year Y (the declared roster): the hospital's coders and physicians registered
  explicitly (saveTrainingPerson; an attendance line never registers anyone) and on the roster at
  any time in Y: `active_from` on or before 31 December Y and `left_on` null or on or after 1
  January Y. Someone registered in 2026 is not in 2025's roster; someone who left in 2026 is, with
  their 2025 training. Bureau staff belong to no hospital and are not counted.
- Trained in the year: on that roster and attended at least one session held in that calendar year
  (any course: every course is DRG training: policy, coding, settlement-list filling, tool use),
  scored or not; a withdrawn attendance does not count.
- coverage = trained ÷ roster × 100, rounded half-up to 4 places (the evaluation's percent values);
  null when the roster is empty.

Which wins in the evaluation: the records, for a (hospital, year) with at least one coder or
physician on the roster of that year; otherwise the value entered by hand stays (enterEvaluationIndicator F07),
as before training records existed (evaluation/runs.py observe).

One statement, set-wise, under the caller's scope (row-level security: a hospital sees its own)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from dianshu.evaluation.indicators.formulas import HUNDRED, ratio

COVERAGE = """
with roster as (
  select p.tenant_id, p.hospital_id, p.person_id, p.role from training_person p
  where p.tenant_id = any(cast(:t as text[])) and p.role in ('coder', 'physician')
    and p.active_from < :next and (p.left_on is null or p.left_on >= :start)
), trained as (
  select distinct a.tenant_id, a.person_id from training_attendance a
  join training_session s on s.tenant_id = a.tenant_id and s.code = a.session_code
  where a.tenant_id = any(cast(:t as text[])) and s.held_on >= :start and s.held_on < :next
    and a.withdrawn_at is null
)
select h.tenant_id, h.id as hospital_id, h.name,
       count(r.person_id) filter (where r.role = 'coder') as coders,
       count(x.person_id) filter (where r.role = 'coder') as coders_trained,
       count(r.person_id) filter (where r.role = 'physician') as physicians,
       count(x.person_id) filter (where r.role = 'physician') as physicians_trained
from hospital h
left join roster r on r.tenant_id = h.tenant_id and r.hospital_id = h.id
left join trained x on x.tenant_id = r.tenant_id and x.person_id = r.person_id
where h.tenant_id = any(cast(:t as text[])) and (cast(:h as text) is null or h.id = cast(:h as text))
group by h.tenant_id, h.id, h.name
order by h.tenant_id, h.id
"""


@dataclass(frozen=True)
class Coverage:
    tenant_id: str
    hospital_id: str
    hospital_name: str
    year: int
    coders: int
    coders_trained: int
    physicians: int
    physicians_trained: int

    @property
    def roster(self) -> int:
        return self.coders + self.physicians

    @property
    def trained(self) -> int:
        return self.coders_trained + self.physicians_trained

    @property
    def coverage(self) -> Decimal | None:
        """trained ÷ roster × 100, 4 places half-up (the evaluation's percent, formulas.ratio); None
        without a roster."""
        return ratio(self.trained, self.roster, HUNDRED).value


async def coverage(
    session: AsyncSession, tenants: Sequence[str], year: int, hospital: str | None = None
) -> list[Coverage]:
    """Every visible hospital of `tenants` (with or without a roster), in tenant and code order."""
    rows = await session.execute(
        text(COVERAGE),
        {
            "t": sorted(set(tenants)),
            "start": datetime.date(year, 1, 1),
            "next": datetime.date(year + 1, 1, 1),
            "h": hospital,
        },
    )
    return [
        Coverage(
            r.tenant_id,
            r.hospital_id,
            r.name,
            year,
            int(r.coders),
            int(r.coders_trained),
            int(r.physicians),
            int(r.physicians_trained),
        )
        for r in rows
    ]


async def coverage_values(session: AsyncSession, tenants: Sequence[str], year: int) -> dict[str, Coverage]:
    """hospital -> its coverage in `year`, for the hospitals whose records decide F07 that year (a
    roster of at least one coder or physician in the year): what the evaluation reads instead of an
    entered value. A year before anyone's `active_from` keeps its entered F07."""
    return {c.hospital_id: c for c in await coverage(session, tenants, year) if c.roster}
