"""Actors of the tenancy domain."""

from dianshu.tenancy.jobs import IMPORT_HOSPITALS
from dianshu_workers.actors.base import job_actor

import_hospitals = job_actor(IMPORT_HOSPITALS, time_limit_s=10 * 60)
