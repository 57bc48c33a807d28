"""The broker: RabbitMQ (AMQP_URL), Redis (REDIS_URL), or the embedded Redis (neither)."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware.asyncio import AsyncIO

from dianshu.config import Settings, get_settings

JOBS_QUEUE = "jobs"
# Every queue an actor uses: a worker consumes them all unless given some (the chart's queue groups).
QUEUES = (JOBS_QUEUE,)


def make_broker(settings: Settings) -> dramatiq.Broker:
    broker: dramatiq.Broker
    if settings.amqp_url:
        broker = RabbitmqBroker(url=settings.amqp_url)
    elif settings.redis_url:
        broker = RedisBroker(
            url=settings.redis_url,
            namespace=settings.broker_namespace,
            heartbeat_timeout=settings.broker_heartbeat_ms,
        )
    else:
        from dianshu.embedded import embedded_redis

        broker = RedisBroker(
            client=embedded_redis(settings.state_dir),
            namespace=settings.broker_namespace,
            heartbeat_timeout=settings.broker_heartbeat_ms,
        )
    broker.add_middleware(AsyncIO())
    return broker


_broker: dramatiq.Broker | None = None


def setup_broker(settings: Settings | None = None) -> dramatiq.Broker:
    """Create the process's broker once and make it Dramatiq's global broker."""
    global _broker
    if _broker is None:
        _broker = make_broker(settings or get_settings())
        dramatiq.set_broker(_broker)
    return _broker
