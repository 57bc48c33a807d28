"""Actors of supervision: the rules, the hospital signals and the anomaly ranking."""

from dianshu.supervision.anomaly.service import ANOMALY
from dianshu.supervision.run import SUPERVISION_RUN
from dianshu.supervision.signals.service import SIGNALS
from dianshu_workers.actors.base import job_actor

rules = job_actor(SUPERVISION_RUN, time_limit_s=30 * 60, max_retries=3)
signals = job_actor(SIGNALS, time_limit_s=30 * 60, max_retries=3)
anomaly = job_actor(ANOMALY, time_limit_s=30 * 60, max_retries=3)
