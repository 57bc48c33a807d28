"""A locustfile that replays prepared requests: DIANSHU_LOAD_REQUESTS names a JSON file of
[path, body, token, expect] (body already serialised; expect: text a good answer contains),
taken in turn by every user; DIANSHU_LOAD_NAME labels them; DIANSHU_LOAD_RATE is each user's
requests a second (0: the next as soon as the answer is in; else constant pacing, Locust's
constant_pacing: the next request 1/rate seconds after the last one started)."""

from __future__ import annotations

import itertools
import json
import os

from locust import FastHttpUser, constant, constant_pacing, task

REQUESTS = json.loads(open(os.environ["DIANSHU_LOAD_REQUESTS"], encoding="utf-8").read())
NAME = os.environ.get("DIANSHU_LOAD_NAME", "request")
RATE = float(os.environ.get("DIANSHU_LOAD_RATE", "0"))
_turn = itertools.count()


class Client(FastHttpUser):
    wait_time = constant_pacing(1 / RATE) if RATE > 0 else constant(0)

    @task
    def send(self) -> None:
        path, body, token, expect = REQUESTS[next(_turn) % len(REQUESTS)]
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        with self.client.post(path, data=body, headers=headers, name=NAME, catch_response=True) as r:
            text = r.text or ""
            if r.status_code != 200 or expect not in text or '"errors"' in text:
                r.failure(f"{r.status_code}: {text[:200]}")
