"""Brokers for tests: the embedded Redis always; a real Redis / RabbitMQ when named by
DIANSHU_TEST_REDIS_URL / DIANSHU_TEST_AMQP_URL."""

from __future__ import annotations

import os
import secrets

BROKER_ENVS = {"embedded": {}}
if os.environ.get("DIANSHU_TEST_REDIS_URL"):
    BROKER_ENVS["redis"] = {"REDIS_URL": os.environ["DIANSHU_TEST_REDIS_URL"]}
if os.environ.get("DIANSHU_TEST_AMQP_URL"):
    BROKER_ENVS["rabbitmq"] = {"AMQP_URL": os.environ["DIANSHU_TEST_AMQP_URL"]}


def broker_env(kind: str) -> dict[str, str]:
    env = dict(BROKER_ENVS[kind])
    env["DIANSHU_BROKER_NAMESPACE"] = f"dianshu-test-{secrets.token_hex(4)}"
    return env
