"""Actor of the national monthly upload (医保结算清单上传)."""

from dianshu.national.service import NATIONAL_EXPORT
from dianshu_workers.actors.base import job_actor

export = job_actor(NATIONAL_EXPORT, time_limit_s=30 * 60, max_retries=3)
