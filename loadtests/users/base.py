"""The base of every platform user: API key, think time, envelope-checked requests.

Read from the environment (the runner sets them; set them yourself to run
``locust -f loadtests/locustfile.py`` with the web UI):

``LOADTEST_API_KEY``         the key sent with every request (required)
``LOADTEST_API_KEY_HEADER``  its header (default ``X-API-Key``)
``LOADTEST_WAIT``            think time between tasks: ``0`` (default: back-to-back),
                             ``0.5`` (constant) or ``0.5,2`` (uniform between)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from locust import FastHttpUser, between, constant
from locust.exception import StopUser

from loadtests.checks import EnvelopeError, stream_outcome, success_data
from loadtests.keys import api_key


def wait_from_env(default: str = "0") -> Callable[..., float]:
    raw = os.environ.get("LOADTEST_WAIT", default).strip() or default
    low, _, high = raw.partition(",")
    if high:
        return between(float(low), float(high))
    return constant(float(low))


class PlatformUser(FastHttpUser):
    """A client of the platform. Requests go through ``call``, which checks the envelope."""

    abstract = True
    wait_time = wait_from_env()
    # A saturated platform answers slowly; a timeout would hide how slowly.
    network_timeout = 180.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        key = api_key()
        if not key:
            raise StopUser("set LOADTEST_API_KEY (the runner creates a key for its own server)")
        self.auth = {os.environ.get("LOADTEST_API_KEY_HEADER", "X-API-Key"): key}

    def call(
        self,
        method: str,
        path: str,
        *,
        name: str | None = None,
        json: Any = None,
        data: dict[str, str] | None = None,
        files: Any = None,
        params: dict[str, Any] | None = None,
        expected: int = 200,
        validate: Callable[[Any], str | None] | None = None,
    ) -> Any:
        """Send a request; count it a success only for a success envelope.

        ``validate(data)`` may return a reason to fail a well-formed envelope whose
        ``data`` is wrong for the route. Returns the envelope's ``data``, or ``None``
        when the request failed (the failure, with its reason, is already in Locust's
        statistics).
        """
        extra: dict[str, Any] = {}
        if files is not None:
            extra["files"] = files
        if params is not None:
            extra["params"] = params
        with self.client.request(
            method,
            path,
            name=name or path,
            json=json,
            data=data,
            headers=self.auth,
            catch_response=True,
            **extra,
        ) as response:
            try:
                result = success_data(response.status_code, response.content, expected=expected)
            except EnvelopeError as exc:
                response.failure(str(exc))
                return None
            problem = validate(result) if validate is not None else None
            if problem:
                response.failure(problem)
                return None
            response.success()
            return result

    def stream(self, path: str, *, json: Any, name: str | None = None) -> dict[str, Any] | None:
        """POST to an SSE route and read the whole stream; the ``done`` event or ``None``.

        The time recorded is the whole stream, first byte to ``done``: Locust's
        ``stream=True`` would stop the clock at the headers.
        """
        with self.client.request(
            "POST",
            path,
            name=name or path,
            json=json,
            headers={**self.auth, "Accept": "text/event-stream"},
            catch_response=True,
        ) as response:
            try:
                done = stream_outcome(response.status_code, response.content)
            except EnvelopeError as exc:
                response.failure(str(exc))
                return None
            response.success()
            return done
