"""The broker: RabbitMQ (AMQP_URL), Redis (REDIS_URL), or the embedded Redis (neither)."""

from __future__ import annotations

import dramatiq
import redis
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
        # Confirmed sends: without them a message written to a connection that then drops is lost
        # while the job row says it was sent (found by the partition drill).
        broker = RabbitmqBroker(url=settings.amqp_url, confirm_delivery=True)
    elif settings.redis_url:
        timeout = settings.broker_timeout_s
        client = redis.Redis.from_url(
            settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout, socket_keepalive=True
        )
        broker = RedisBroker(
            client=client,
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


def queue_depths(broker: dramatiq.Broker | None = None) -> dict[tuple[str, str], int]:
    """Messages in each queue by state: ready (waiting for a worker), delayed (a retry waiting out
    its backoff), dead (dead-lettered). Read from the broker itself (this process's by default), for
    the metrics' scrape."""
    broker = broker or setup_broker()
    out: dict[tuple[str, str], int] = {}
    for queue in QUEUES:
        if isinstance(broker, RabbitmqBroker):
            ready, delayed, dead = broker.get_queue_message_counts(queue)
        else:
            # Dramatiq's Redis layout (its dispatch.lua): the list <ns>:<queue> holds waiting message
            # ids, <ns>:<queue>.DQ the delayed ones, the sorted set <ns>:<queue>.XQ the dead-lettered.
            assert isinstance(broker, RedisBroker)
            prefix = f"{broker.namespace}:{queue}"
            client = broker.client
            ready, delayed, dead = client.llen(prefix), client.llen(f"{prefix}.DQ"), client.zcard(f"{prefix}.XQ")
        out[(queue, "ready")], out[(queue, "delayed")], out[(queue, "dead")] = int(ready), int(delayed), int(dead)
    return out
