"""Every job kind, by name. The registry imports each module that declares job kinds, listed here
one by one: a kind is known because its module is on this list, not because something else happened
to import it first (a test fails when a module declaring a kind is missing from JOB_MODULES)."""

from __future__ import annotations

import dianshu.analytics.refresh
import dianshu.cases.ingest
import dianshu.evaluation.runs
import dianshu.grouping.service
import dianshu.national.service
import dianshu.settlement.runs.points
import dianshu.settlement.runs.settle
import dianshu.settlement.runs.simulations
import dianshu.standards.jobs
import dianshu.supervision.anomaly.service
import dianshu.supervision.run
import dianshu.supervision.signals.service
import dianshu.tenancy.jobs
from dianshu.jobs.kinds import JobKind, declared_kinds

JOB_MODULES = (
    dianshu.analytics.refresh,
    dianshu.cases.ingest,
    dianshu.evaluation.runs,
    dianshu.grouping.service,
    dianshu.national.service,
    dianshu.settlement.runs.points,
    dianshu.settlement.runs.settle,
    dianshu.settlement.runs.simulations,
    dianshu.standards.jobs,
    dianshu.supervision.run,
    dianshu.supervision.anomaly.service,
    dianshu.supervision.signals.service,
    dianshu.tenancy.jobs,
)


def get_kind(name: str) -> JobKind:
    try:
        return declared_kinds()[name]
    except KeyError:
        raise KeyError(f"unknown job kind {name!r}") from None


def all_kinds() -> dict[str, JobKind]:
    return declared_kinds()
