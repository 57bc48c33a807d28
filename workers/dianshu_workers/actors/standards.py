"""Actors of the standards domain."""

from dianshu.standards.jobs import CALIBRATE
from dianshu_workers.actors.base import job_actor

calibrate = job_actor(CALIBRATE, time_limit_s=60 * 60, max_retries=2)
