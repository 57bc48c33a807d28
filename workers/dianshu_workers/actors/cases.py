"""Actors of the cases domain."""

from dianshu.cases.ingest import INGEST
from dianshu_workers.actors.base import job_actor

# A city-region year (~200,000 stays) validates and merges in well under this.
ingest = job_actor(INGEST, time_limit_s=30 * 60, max_retries=3)
