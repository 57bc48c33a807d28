"""Actors of the settlement domain."""

from dianshu.settlement.runs.points import POINTS
from dianshu.settlement.runs.settle import SETTLE
from dianshu.settlement.runs.simulations import SIMULATE
from dianshu_workers.actors.base import job_actor

points = job_actor(POINTS, time_limit_s=30 * 60, max_retries=3)
settle = job_actor(SETTLE, time_limit_s=30 * 60, max_retries=3)
# A pure computation: a refused scenario fails at once (JobRejected), anything else is retried.
simulate = job_actor(SIMULATE, time_limit_s=30 * 60, max_retries=2)
