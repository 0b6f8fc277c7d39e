"""The images the local run uses, built from a Debian bookworm made here.

- ``ensure_base``: bookworm (minbase + python3, python3-venv) from debootstrap, imported
  once as ``BASE_IMAGE`` and kept, because no image registry is reachable.
- ``ensure_wheels``: every wheel the platform needs, built on the host, plus any the
  base's Python needs that the host's does not (markers such as
  ``python_full_version < "3.11.3"``), so the image installs with ``--no-index``.
- ``build``: ``podman build`` of a Dockerfile with build arguments.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deploy.podman import ROOT, PodmanError, env, image_exists, podman

BASE_IMAGE = "localhost/ai-platform-bookworm:latest"
BASE_PACKAGES = "python3,python3-venv,ca-certificates"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
WHEELS = ROOT / "deploy" / "wheels"
PROJECT_REQUIREMENT = "ai-platform-workbench[otel]"
PROJECT_FILES = ("pyproject.toml", "constraints.txt", "README.md", "LICENSE")
_MISSING = re.compile(r"No matching distribution found for ([^;\s]+)")


def ensure_base(name: str = BASE_IMAGE) -> str:
    if image_exists(name):
        return name
    with tempfile.TemporaryDirectory(prefix="ai-platform-rootfs-", dir="/var/tmp") as tmp:
        rootfs = Path(tmp) / "rootfs"
        subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={BASE_PACKAGES}",
                "bookworm",
                str(rootfs),
                DEBIAN_MIRROR,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["podman", "import", "-", name], stdin=tar.stdout, env=env(), capture_output=True
        )
        tar.wait()
        if imported.returncode != 0 or tar.returncode != 0:
            raise PodmanError(f"importing {name} failed: {imported.stderr.decode()[-2000:]}")
    return name


def _pip(*args: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", *args], cwd=ROOT, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise PodmanError(f"pip {args[0]} failed: {proc.stderr[-2000:]}")


class WheelsIncomplete(PodmanError):
    """``base``'s Python cannot install the project from the wheels, and pip did not say
    which one requirement is missing (a fresh directory fails as a conflict)."""


def _missing(base: str, wheels: Path) -> str | None:
    """The first requirement ``base``'s Python cannot install from ``wheels``, if any
    (``WheelsIncomplete`` when pip names none)."""
    probe = podman(
        "run", "--rm", "-v", f"{wheels}:/wheels:ro",
        "-v", f"{ROOT / 'constraints.txt'}:/constraints.txt:ro", base, "sh", "-c",
        "python3 -m venv /tmp/venv && /tmp/venv/bin/pip install -q --dry-run "
        f"--no-index --find-links /wheels -c /constraints.txt '{PROJECT_REQUIREMENT}'",
        check=False,
    )  # fmt: skip
    if probe.returncode == 0:
        return None
    found = _MISSING.search(probe.stderr or "")
    if found is None:
        raise WheelsIncomplete(f"the base cannot install the wheels: {probe.stderr[-2000:]}")
    return found.group(1)


@contextmanager
def project_source() -> Iterator[Path]:
    """A clean copy of what the wheel is built from. Building in the work tree would
    leave a ``build/`` directory whose stale files (a renamed module, a removed
    migration) setuptools packages into the next wheel."""
    with tempfile.TemporaryDirectory(prefix="ai-platform-src-") as tmp:
        source = Path(tmp)
        for name in PROJECT_FILES:
            shutil.copy2(ROOT / name, source / name)
        shutil.copytree(
            ROOT / "platform",
            source / "platform",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
        yield source


def ensure_wheels(base: str, wheels: Path = WHEELS, rounds: int = 10) -> Path:
    """Wheels for ``base``'s Python in ``wheels``; the project's own is rebuilt each time.

    The dependencies are resolved again (``pip wheel``, slow) only when the directory
    no longer satisfies the project, as after a change to ``constraints.txt``.
    """
    wheels.mkdir(parents=True, exist_ok=True)
    for old in wheels.glob("ai_platform_workbench-*.whl"):
        old.unlink()
    with project_source() as source:
        _pip("wheel", "-q", "--no-deps", "-w", str(wheels), str(source))
        try:
            if _missing(base, wheels) is None:
                return wheels
        except WheelsIncomplete:
            pass  # resolved in full below
        _pip(
            "wheel", "-q", "-c", "constraints.txt", "--find-links", str(wheels),
            "-w", str(wheels), f"{source}[otel]",
        )  # fmt: skip
    for _ in range(rounds):
        missing = _missing(base, wheels)
        if missing is None:
            return wheels
        _pip("download", "-q", "-c", "constraints.txt", "-d", str(wheels), missing)
    raise PodmanError(f"wheels still missing after {rounds} rounds")


def build(tag: str, context: Path, **build_args: str) -> str:
    """Build ``tag``; the image it replaces is removed, so rebuilds do not pile up."""
    previous = podman("image", "inspect", "--format", "{{.Id}}", tag, check=False).stdout.strip()
    args = [f"--build-arg={k}={v}" for k, v in build_args.items()]
    podman("build", "-q", *args, "-t", tag, str(context))
    current = podman("image", "inspect", "--format", "{{.Id}}", tag).stdout.strip()
    if previous and previous != current:
        podman("rmi", previous, check=False)  # refused while a container still uses it
    return tag
