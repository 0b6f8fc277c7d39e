"""``make deploy-test``: the platform's containers, really run, end to end.

Builds the Debian base (once), the wheels and the platform image, runs
docker-compose.yml with podman (deploy/stack.py), waits for every healthcheck, creates
the first admin key with the ``bootstrap`` one-shot, runs the flow through the gateway
(deploy/flow.py) and removes everything it started. Prints how long each part took.

    python -m deploy.podman_test [--shape auto|split|monolith] [--keep]

``auto`` runs the split shape when the image's ``serve`` has ``--services``, otherwise
the monolith shape of the same file, and says which it ran.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ai_platform.harness.ports import free_port
from ai_platform.harness.tables import fmt_number, markdown_table
from deploy.flow import run_flow
from deploy.images import WHEELS, build, ensure_base, ensure_wheels
from deploy.podman import ROOT, ensure_tools, podman
from deploy.shapes import monolith
from deploy.stack import Stack, resolve

PLATFORM_IMAGE = "localhost/ai-platform:deploy-test"
POSTGRES_IMAGE = "localhost/ai-platform-postgres:deploy-test"
REDIS_IMAGE = "localhost/ai-platform-redis:deploy-test"
# What a direct call to a service process (not through the gateway) must get.
REFUSED_PROBE = """
import json, sys, urllib.error, urllib.request as u
req = u.Request(sys.argv[1], data=b'{"query": "tent"}',
                headers={"Content-Type": "application/json", "X-API-Key": sys.argv[2]})
try:
    u.urlopen(req, timeout=10)
    print(200)
except urllib.error.HTTPError as exc:
    print(exc.code)
"""


def split_supported(image: str) -> bool:
    help_text = podman("run", "--rm", image, "ai-platform", "serve", "--help").stdout
    return "--services" in help_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=("auto", "split", "monolith"), default="auto")
    parser.add_argument("--keep", action="store_true", help="leave the stack running")
    parser.add_argument(
        "--image", help="run this platform image instead of building one from the work tree"
    )
    args = parser.parse_args(argv)
    timings: dict[str, float] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = fn()
        timings[name] = time.perf_counter() - started
        print(f"{name}: {timings[name]:.1f} s", flush=True)
        return result

    total = time.perf_counter()
    ensure_tools()
    base = timed("base image (cached)", ensure_base)
    if not args.image:
        timed("wheels", lambda: ensure_wheels(base))

    platform_image = args.image or PLATFORM_IMAGE

    def images() -> None:
        if not args.image:
            build(PLATFORM_IMAGE, ROOT, BASE_IMAGE=base, WHEELS=str(WHEELS.relative_to(ROOT)))
        build(POSTGRES_IMAGE, ROOT / "deploy/images/postgres", BASE_IMAGE=base)
        build(REDIS_IMAGE, ROOT / "deploy/images/redis", BASE_IMAGE=base)

    timed("images", images)
    shape = args.shape
    if shape == "auto":
        shape = "split" if split_supported(platform_image) else "monolith"
    print(f"shape: {shape}", flush=True)

    port = free_port()
    config = resolve(
        ROOT / "docker-compose.yml",
        {
            "SECRET_KEY": secrets.token_urlsafe(32),
            "SERVICE_IDENTITY_SECRET": secrets.token_urlsafe(32),
            "PLATFORM_IMAGE": platform_image,
            "POSTGRES_IMAGE": POSTGRES_IMAGE,
            "REDIS_IMAGE": REDIS_IMAGE,
            "BASE_IMAGE": base,
            "GATEWAY_PORT": str(port),
        },
    )
    if shape == "monolith":
        config = monolith(config)
    stack = Stack(config, project=f"aip-deploy-{os.getpid()}")
    try:
        timed("stack up and healthy", lambda: stack.up(log=lambda m: print(f"  {m}", flush=True)))
        issued = timed("bootstrap (first admin key)", lambda: stack.run_once("bootstrap"))
        key = json.loads(issued.strip().splitlines()[-1])["key"]
        if shape == "split":

            def refused() -> None:
                url = "http://knowledge:8001/api/v1/knowledge/search"
                probe = podman(
                    "exec", stack.container("gateway"), "python", "-c", REFUSED_PROBE, url, key
                ).stdout.strip()
                assert probe == "401", f"a direct call to knowledge got {probe}, not 401"

            timed("direct service call refused (401)", refused)

        @contextmanager
        def worker_paused() -> Iterator[None]:
            podman("pause", stack.container("worker"))
            try:
                yield
            finally:
                podman("unpause", stack.container("worker"))

        timed(
            "flow through the gateway",
            lambda: run_flow(f"http://127.0.0.1:{port}", key, worker_paused),
        )
    except BaseException:
        for name in stack.started:
            print(f"--- {name} ---\n{stack.logs(name)}", file=sys.stderr)
        raise
    finally:
        if not args.keep:
            timed("teardown", stack.down)
    timings["total"] = time.perf_counter() - total
    print()
    print(
        markdown_table(
            ["step", "seconds"], [(k, fmt_number(v)) for k, v in timings.items()], align="lr"
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
