"""The experiment's users: back-to-back requests to one endpoint style each.

No think time: each user is one concurrent request, so with N users and a latency of
L seconds the best possible throughput is N / L requests per second.
"""

from __future__ import annotations

import orjson
from locust import FastHttpUser, constant, task

PROMPT = {"prompt": "Say: hello from the experiment"}


class StyleUser(FastHttpUser):
    abstract = True
    wait_time = constant(0)
    style = ""
    # A blocked server holds requests for as long as the queue in front of them; count
    # them as slow, not as failed, within a step.
    network_timeout = 300.0
    connection_timeout = 60.0

    @task
    def ask(self) -> None:
        with self.client.post(
            f"/{self.style}", json=PROMPT, name=f"/{self.style}", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                return
            try:
                body = orjson.loads(response.content or b"")
            except orjson.JSONDecodeError:
                response.failure("body is not JSON")
                return
            if not isinstance(body, dict) or body.get("style") != self.style:
                response.failure(
                    f"answered by {body.get('style') if isinstance(body, dict) else body!r}"
                )
                return
            response.success()


class AsyncStyleUser(StyleUser):
    style = "async"


class SyncStyleUser(StyleUser):
    style = "sync"


class BlockingStyleUser(StyleUser):
    style = "blocking"
