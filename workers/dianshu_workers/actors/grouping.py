"""Actors of the grouping domain."""

from dianshu.grouping.service import COMPARE, GROUP_CASES
from dianshu_workers.actors.base import job_actor

group_cases = job_actor(GROUP_CASES, time_limit_s=30 * 60, max_retries=3)
compare = job_actor(COMPARE, time_limit_s=30 * 60, max_retries=3)
