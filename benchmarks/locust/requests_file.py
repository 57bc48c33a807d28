"""A locustfile that replays prepared requests: DIANSHU_LOAD_REQUESTS names a JSON file of
[path, body, token, expect] (body already serialised; expect: text a good answer contains),
taken in turn by every user; DIANSHU_LOAD_NAME labels them; DIANSHU_LOAD_RATE is each user's
requests a second (0: the next as soon as the answer is in; else a random think time after each
answer, exponential with mean 1/rate, so the users' requests arrive independently: constant
pacing with every user started at once sends them in bursts of all users together)."""

from __future__ import annotations

import itertools
import json
import os
import random

from locust import FastHttpUser, constant, task

REQUESTS = json.loads(open(os.environ["DIANSHU_LOAD_REQUESTS"], encoding="utf-8").read())
NAME = os.environ.get("DIANSHU_LOAD_NAME", "request")
RATE = float(os.environ.get("DIANSHU_LOAD_RATE", "0"))
_turn = itertools.count()


class Client(FastHttpUser):
    if RATE > 0:

        def wait_time(self) -> float:
            return random.expovariate(RATE)

    else:
        wait_time = constant(0)

    @task
    def send(self) -> None:
        path, body, token, expect = REQUESTS[next(_turn) % len(REQUESTS)]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with self.client.post(path, data=body, headers=headers, name=NAME, catch_response=True) as r:
            text = r.text or ""
            if r.status_code != 200 or expect not in text or '"errors"' in text:
                r.failure(f"{r.status_code}: {text[:200]}")
