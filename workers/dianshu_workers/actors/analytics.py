"""Actors of the hospital analytics."""

from dianshu.analytics.refresh import REFRESH
from dianshu_workers.actors.base import job_actor

# A region's year of summary cells in one set-wise statement (a city year: each region in turn).
refresh = job_actor(REFRESH, time_limit_s=30 * 60, max_retries=3)
