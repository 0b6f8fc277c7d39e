"""docker-compose.yml run by podman, as compose would run it.

The file is resolved by ``podman-compose config`` (interpolation, anchors, merge keys),
then each service becomes one container on a private network, reachable by its
service name, started once its ``depends_on`` conditions hold:
``service_started`` (its container exists), ``service_healthy`` (its healthcheck
``test`` passes, run here with ``podman exec``) and ``service_completed_successfully``
(it exited 0). Healthchecks are run by this module rather than by podman, whose own
timers need systemd.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from ai_platform.harness.waiting import wait_for_sync
from deploy.podman import ROOT, PodmanError, exec_ok, podman

Service = dict[str, Any]
PODMAN_COMPOSE = str(Path(sys.executable).parent / "podman-compose")


def resolve(compose_file: Path, variables: Mapping[str, str]) -> dict[str, Any]:
    """The compose file as compose sees it, with ``variables`` in its environment
    (profile-gated one-shots such as ``bootstrap`` included)."""
    proc = subprocess.run(
        [PODMAN_COMPOSE, "--profile", "bootstrap", "-f", str(compose_file), "config"],
        env={"PATH": "/usr/bin:/bin", **variables},
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        raise PodmanError(f"podman-compose config failed: {proc.stderr[-2000:]}")
    return yaml.safe_load(proc.stdout)  # type: ignore[no-any-return]


def health_argv(test: Sequence[str] | str) -> list[str]:
    """A compose healthcheck ``test`` as the argv ``podman exec`` runs."""
    if isinstance(test, str):
        return ["sh", "-c", test]
    kind, *rest = test
    if kind == "CMD":
        return list(rest)
    if kind == "CMD-SHELL":
        return ["sh", "-c", rest[0]]
    raise ValueError(f"unsupported healthcheck test {test!r}")


def run_args(name: str, service: Service, *, network: str, project: str) -> list[str]:
    """``podman run`` arguments for one compose service (the subset this file uses)."""
    args = ["--name", f"{project}-{name}", "--network", network, "--network-alias", name]
    for key, value in (service.get("environment") or {}).items():
        args += ["-e", f"{key}={value}"]
    for port in service.get("ports") or []:
        args += ["-p", f"127.0.0.1:{port}"]
    for volume in service.get("volumes") or []:
        source, _, target = str(volume).partition(":")
        args += ["-v", f"{project}-{source}:{target}"]
    entrypoint = service.get("entrypoint")
    if entrypoint:
        first, *rest = [entrypoint] if isinstance(entrypoint, str) else entrypoint
        args += ["--entrypoint", first]
        command = [*rest, *_command(service)]
    else:
        command = _command(service)
    return [*args, service["image"], *command]


def _command(service: Service) -> list[str]:
    command = service.get("command") or []
    return [command] if isinstance(command, str) else [str(c) for c in command]


@dataclass
class Stack:
    """The containers of one resolved compose file, under one project name."""

    config: dict[str, Any]
    project: str
    started: list[str] = field(default_factory=list)
    healthy: set[str] = field(default_factory=set)

    @property
    def network(self) -> str:
        return f"{self.project}-net"

    def container(self, name: str) -> str:
        return f"{self.project}-{name}"

    def services(self, *, profiles: Sequence[str] = ()) -> dict[str, Service]:
        return {
            name: svc
            for name, svc in self.config["services"].items()
            if not svc.get("profiles") or set(svc["profiles"]) & set(profiles)
        }

    def up(self, timeout_s: float = 300.0, log: Callable[[str], None] = print) -> None:
        podman("network", "create", self.network)
        pending = dict(self.services())
        deadline = time.monotonic() + timeout_s
        while pending:
            for name, svc in list(pending.items()):
                if all(self._holds(dep, cond) for dep, cond in _depends(svc)):
                    log(f"start {name}")
                    podman(
                        "run",
                        "-d",
                        *run_args(name, svc, network=self.network, project=self.project),
                    )
                    self.started.append(name)
                    del pending[name]
            if time.monotonic() > deadline:
                raise PodmanError(f"not started within {timeout_s} s: {sorted(pending)}")
            time.sleep(0.5)
        for name, svc in self.services().items():
            if "healthcheck" in svc:
                wait_for_sync(
                    lambda n=name: self._holds(n, "service_healthy"),  # type: ignore[misc]
                    timeout_s=timeout_s,
                    interval_s=0.5,
                    what=f"{name} healthy",
                )

    def _holds(self, name: str, condition: str) -> bool:
        if name not in self.started:
            return False
        if condition == "service_started":
            return True
        if condition == "service_completed_successfully":
            state = self.state(name)
            if state["Status"] == "exited" and state["ExitCode"] != 0:
                raise PodmanError(f"{name} exited {state['ExitCode']}: {self.logs(name)}")
            return bool(state["Status"] == "exited")
        if condition == "service_healthy":
            if name not in self.healthy:
                if self.state(name)["Status"] == "exited":
                    raise PodmanError(f"{name} exited: {self.logs(name)}")
                test = self.config["services"][name]["healthcheck"]["test"]
                if exec_ok(self.container(name), health_argv(test)):
                    self.healthy.add(name)
            return name in self.healthy
        raise ValueError(f"unknown depends_on condition {condition!r}")

    def state(self, name: str) -> dict[str, Any]:
        out = podman("inspect", "--format", "{{json .State}}", self.container(name)).stdout
        return json.loads(out)  # type: ignore[no-any-return]

    def logs(self, name: str, tail: int = 40) -> str:
        proc = podman("logs", "--tail", str(tail), self.container(name), check=False)
        return (proc.stdout or "") + (proc.stderr or "")

    def run_once(self, name: str) -> str:
        """Run a one-shot service (``docker compose run --rm NAME``); its stdout."""
        svc = self.config["services"][name]
        args = run_args(name, svc, network=self.network, project=self.project)
        args[1] = f"{self.project}-{name}-run"
        return podman("run", "--rm", *args).stdout

    def down(self) -> None:
        for name in reversed(self.started):
            podman("rm", "-f", "-t", "5", self.container(name), check=False)
        podman("network", "rm", "-f", self.network, check=False)
        for volume in self.config.get("volumes") or {}:
            podman("volume", "rm", "-f", f"{self.project}-{volume}", check=False)


def _depends(service: Service) -> list[tuple[str, str]]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return [(d, "service_started") for d in deps]
    return [(name, spec.get("condition", "service_started")) for name, spec in deps.items()]
