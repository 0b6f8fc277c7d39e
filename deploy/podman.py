"""The ``podman`` command with this project's containers.conf.

This machine's sandbox refuses rlimit changes and crun refuses its cgroup layout;
``deploy/containers.conf`` sets no ulimits and picks runc. ``CONTAINERS_CONF`` points
podman at that file instead of changing /etc.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONTAINERS_CONF = ROOT / "deploy" / "containers.conf"
# Debian packages the local run needs: podman and runc to run, debootstrap for the base.
DEBIAN_PACKAGES = {"podman": "podman", "runc": "runc", "debootstrap": "debootstrap"}


class PodmanError(RuntimeError):
    pass


def env() -> dict[str, str]:
    return {
        **os.environ,
        "CONTAINERS_CONF": os.environ.get("CONTAINERS_CONF", str(CONTAINERS_CONF)),
    }


def ensure_tools() -> None:
    """Install the missing Debian packages when running as root; otherwise say which."""
    missing = [pkg for tool, pkg in DEBIAN_PACKAGES.items() if shutil.which(tool) is None]
    if not missing:
        return
    if os.geteuid() != 0:
        raise PodmanError(f"install the Debian packages {' '.join(missing)} first")
    print(f"installing {' '.join(missing)} (apt-get)", file=sys.stderr)
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=apt_env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=apt_env)


def podman(
    *args: str,
    check: bool = True,
    capture: bool = True,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``podman ARGS``; on failure (with ``check``) raise with its stderr."""
    proc = subprocess.run(
        ["podman", *args],
        env=env(),
        text=True,
        capture_output=capture,
        input=None if stdin is None else stdin.decode(),
    )
    if check and proc.returncode != 0:
        raise PodmanError(
            f"podman {' '.join(args[:3])} … exited {proc.returncode}: {(proc.stderr or '')[-2000:]}"
        )
    return proc


def image_exists(name: str) -> bool:
    return podman("image", "exists", name, check=False).returncode == 0


def exec_ok(container: str, argv: Sequence[str]) -> bool:
    return podman("exec", container, *argv, check=False).returncode == 0
