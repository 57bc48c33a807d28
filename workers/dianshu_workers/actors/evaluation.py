"""Actors of the hospital evaluation."""

from dianshu.evaluation.runs import RUN
from dianshu_workers.actors.base import job_actor

# Indicators of a region (or, city peers, of every region) and the scoring: a city year in well under
# a minute; retried on a system failure, a refused input fails at once (JobRejected).
evaluation = job_actor(RUN, time_limit_s=30 * 60, max_retries=3)
