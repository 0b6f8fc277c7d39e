"""The deployment files, checked without a container engine or a cluster: the
Dockerfile, docker-compose.yml (rendered by podman-compose) and kubernetes/ (rendered
by deploy/kustomize.py, validated against the Kubernetes schemas). Every command they
run must exist in the ``ai-platform`` CLI with the options they pass, and every
variable they set must be a setting. ``make deploy-test`` runs the containers."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy import kustomize
from deploy.images import project_source
from deploy.shapes import SPLIT_SERVICES, monolith
from deploy.stack import health_argv, run_args
from pydantic import BaseModel
from typer.main import get_command

from ai_platform.cli import app as cli_app
from ai_platform.config import Settings

ROOT = Path(__file__).resolve().parents[1]
KUBERNETES = ROOT / "kubernetes"
OVERLAYS = ("monolith", "split")
# Read by other programs than Settings: uvicorn's worker count, prometheus-client.
FOREIGN_VARS = {"PROMETHEUS_MULTIPROC_DIR", "WEB_CONCURRENCY"}
# Names of the split shape (serve --services, the gateway's service URLs, the signed
# identity). Checked by their own tests, which skip while the runtime lacks them.
SPLIT_OPTIONS = {"--services"}
SPLIT_SETTINGS = ("services", "service_identity_secret")
PODMAN_COMPOSE = Path(sys.executable).parent / "podman-compose"
COMPOSE_VARS = {"SECRET_KEY": "s" * 40, "SERVICE_IDENTITY_SECRET": "i" * 40}


# -- the CLI and the settings, introspected --------------------------------------------


def unknown_cli_words(argv: list[str]) -> list[str]:
    """The subcommands and options in an ``ai-platform …`` argv that the CLI lacks."""
    assert argv[0] == "ai-platform", argv
    command: Any = get_command(cli_app)  # typer's own click: no isinstance checks
    words = argv[1:]
    while hasattr(command, "commands") and words:
        sub = command.commands.get(words[0])
        if sub is None:
            return [words[0]]
        command, words = sub, words[1:]
    known = {opt for p in command.params for opt in [*p.opts, *p.secondary_opts]}
    return [w.split("=")[0] for w in words if w.startswith("--") and w.split("=")[0] not in known]


def _model_of(annotation: Any) -> Any:
    """The BaseModel (or dict value type) a settings field nests, or None."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        models = [_model_of(a) for a in typing.get_args(annotation) if a is not type(None)]
        return next((m for m in models if m is not None), None)
    if origin is dict:
        return ("dict", typing.get_args(annotation)[1])
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def is_setting(name: str, model: Any = Settings) -> bool:
    """``NAME`` or ``OUTER__INNER…`` (``env_nested_delimiter="__"``) names a field."""
    head, _, rest = name.lower().partition("__")
    if isinstance(model, tuple):  # a dict of models: any key, then the value's fields
        return not rest or is_setting(rest, model[1]) if _model_of(model[1]) else not rest
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return False
    field = model.model_fields.get(head)
    if field is None:
        return False
    if not rest:
        return True
    nested = _model_of(field.annotation)
    return nested is not None and is_setting(rest, nested)


def split_runtime_present() -> bool:
    serve = get_command(cli_app).commands["serve"]  # type: ignore[attr-defined]
    has_option = any("--services" in p.opts for p in serve.params)
    return has_option and all(f in Settings.model_fields for f in SPLIT_SETTINGS)


def is_split_name(name: str) -> bool:
    return name.startswith("SERVICES__") or name == "SERVICE_IDENTITY_SECRET"


def settings_from(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings as a process with exactly this environment builds them."""
    for key in list(os.environ):
        if is_setting(key) or key.startswith("SERVICES__"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, str(value))
    return Settings(_env_file=None)  # type: ignore[call-arg]


# -- docker-compose.yml ----------------------------------------------------------------


def platform_services(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run the platform image (``ai-platform …``)."""
    services = config["services"].items()
    return {n: s for n, s in services if str(s.get("image", "")).startswith("ai-platform:")}


def service_argvs(svc: dict[str, Any]) -> Iterator[list[str]]:
    """Every ``ai-platform …`` command a compose service runs (``sh -c`` scripts too)."""
    command = [str(c) for c in svc.get("command") or []]
    if not svc.get("entrypoint"):
        if command:
            yield command
        return
    lexer = shlex.shlex(" ".join(command), posix=True, punctuation_chars=";|()&")
    words: list[str] = []
    for token in [*lexer, ";"]:
        if token.strip(";|()&"):
            words.append(token)
            continue
        if words and words[0] == "ai-platform":
            yield words
        words = []


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """docker-compose.yml as compose renders it (podman-compose, a dev dependency)."""
    if not PODMAN_COMPOSE.exists():
        if os.environ.get("CI"):
            pytest.fail("podman-compose is missing: it is in the dev extra")
        pytest.skip("podman-compose is not installed (pip install -e '.[dev]')")
    proc = subprocess.run(
        [str(PODMAN_COMPOSE), "--profile", "bootstrap", "-f", "docker-compose.yml", "config"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **COMPOSE_VARS},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return yaml.safe_load(proc.stdout)  # type: ignore[no-any-return]


def test_docker_compose_validates_the_file() -> None:
    """Docker Compose's own validation (Debian's ``docker-compose``; ``config`` needs no
    daemon): the file is what Docker users will run, not only what podman accepts."""
    tool = shutil.which("docker-compose")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("docker-compose is missing: .ci/run installs Debian's package")
        pytest.skip("docker-compose is not installed (apt-get install docker-compose)")
    proc = subprocess.run(
        [tool, "-f", "docker-compose.yml", "--profile", "bootstrap", "config", "--quiet"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **COMPOSE_VARS},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    services = subprocess.run(
        [tool, "-f", "docker-compose.yml", "--profile", "bootstrap", "config", "--services"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], **COMPOSE_VARS},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert {"gateway", "knowledge", "agent", "research", "assistant", "worker", "migrate"} <= set(
        services
    )


def test_compose_refuses_to_render_without_the_secrets() -> None:
    if not PODMAN_COMPOSE.exists():
        pytest.skip("podman-compose is not installed")
    proc = subprocess.run(
        [str(PODMAN_COMPOSE), "-f", "docker-compose.yml", "config"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "SERVICE_IDENTITY_SECRET": "i" * 40},
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "SECRET_KEY" in proc.stderr + proc.stdout


def test_compose_commands_are_real_cli_commands(compose: dict[str, Any]) -> None:
    seen = 0
    for name, svc in platform_services(compose).items():
        for argv in service_argvs(svc):
            seen += 1
            unknown = set(unknown_cli_words(argv))
            if not split_runtime_present():
                unknown -= SPLIT_OPTIONS
            assert not unknown, f"{name}: {shlex.join(argv)} uses {unknown}"
    assert seen >= 10  # the bootstrap script's two commands are found too


def test_compose_environment_names_real_settings(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, svc in platform_services(compose).items():
        env = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
        unknown = {k for k in env if not is_setting(k) and k not in FOREIGN_VARS}
        assert not {k for k in unknown if not is_split_name(k)}, f"{name}: {unknown}"
        if env:
            with monkeypatch.context() as m:
                settings = settings_from(env, m)  # the production values must validate
            assert settings.environment == "production"
            assert settings.database_url.startswith("postgresql+asyncpg://")
            assert not getattr(settings, "migrate_on_start", False), name  # migrate does


def test_compose_split_names_are_settings_and_options(compose: dict[str, Any]) -> None:
    if not split_runtime_present():
        pytest.skip("serve --services and the SERVICES__ settings are not in this tree yet")
    gateway_env = compose["services"]["gateway"]["environment"]
    for key in gateway_env:
        assert is_setting(key) or key in FOREIGN_VARS, key
    for name in SPLIT_SERVICES:
        assert is_setting(f"SERVICES__{name.upper()}__URL")
        assert is_setting(f"SERVICES__{name.upper()}__TIMEOUT_S")


def test_compose_gateway_proxies_each_service_to_its_port(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = services["gateway"]["environment"]
    for name in SPLIT_SERVICES:
        url = env[f"SERVICES__{name.upper()}__URL"]
        host, _, port = url.removeprefix("http://").partition(":")
        argv = services[host]["command"]
        assert argv[argv.index("--services") + 1] == name
        assert argv[argv.index("--port") + 1] == port, f"{name} listens elsewhere"
        assert port in " ".join(services[host]["healthcheck"]["test"])
        assert services["gateway"]["depends_on"][host]["condition"] == "service_healthy"
    assert services["gateway"]["environment"]["WEB_CONCURRENCY"] == "2"
    for name in SPLIT_SERVICES:  # a service process proxies nothing
        assert not any(k.startswith("SERVICES__") for k in services[name]["environment"])


def _depends_on_migrate(config: dict[str, Any], name: str, seen: frozenset[str]) -> bool:
    deps = config["services"][name].get("depends_on") or {}
    if deps.get("migrate", {}).get("condition") == "service_completed_successfully":
        return True
    return any(_depends_on_migrate(config, d, seen | {name}) for d in deps if d not in seen)


def test_compose_migrates_once_before_anything_serves(compose: dict[str, Any]) -> None:
    platform = platform_services(compose)
    migrators = [
        n for n, s in platform.items() for a in service_argvs(s) if a[1:3] == ["db", "upgrade"]
    ]
    assert migrators == ["migrate"]
    assert compose["services"]["migrate"].get("restart") == "no"
    for name, svc in platform.items():
        if any(a[1] in ("serve", "worker") for a in service_argvs(svc)):
            assert _depends_on_migrate(compose, name, frozenset()), name


def test_compose_healthchecks_fit_each_container(compose: dict[str, Any]) -> None:
    for name, svc in platform_services(compose).items():
        argvs = list(service_argvs(svc))
        if not argvs or argvs[0][1] not in ("serve", "simulator"):
            assert "healthcheck" not in svc, f"{name} serves no HTTP"
            continue
        argv = argvs[0]
        port = argv[argv.index("--port") + 1]
        probe = " ".join(svc["healthcheck"]["test"])
        path = "/health/ready" if argv[1] == "serve" else "/health"
        assert f"http://127.0.0.1:{port}{path}'" in probe, f"{name}: {probe}"
        assert argv[argv.index("--host") + 1] == "0.0.0.0"


def test_compose_bootstrap_creates_an_admin_key_on_demand(compose: dict[str, Any]) -> None:
    bootstrap = compose["services"]["bootstrap"]
    assert bootstrap["profiles"] == ["bootstrap"]  # not started by `up`
    argvs = list(service_argvs(bootstrap))
    assert [a[1:3] for a in argvs] == [["clients", "create"], ["keys", "create"]]
    assert "--admin" in argvs[1] and "--json" in argvs[1]
    assert bootstrap["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


def test_compose_monolith_shape_keeps_every_dependency(compose: dict[str, Any]) -> None:
    mono = monolith(compose)
    assert not set(SPLIT_SERVICES) & set(mono["services"])
    assert not any(k.startswith("SERVICES__") for k in mono["services"]["gateway"]["environment"])
    for name, svc in mono["services"].items():
        for dep in svc.get("depends_on") or {}:
            assert dep in mono["services"], f"{name} depends on missing {dep}"
    assert set(compose["services"]) > set(mono["services"])  # the split file is untouched


def test_stack_runs_services_as_compose_would(compose: dict[str, Any]) -> None:
    args = run_args("gateway", compose["services"]["gateway"], network="n", project="p")
    assert args[:6] == ["--name", "p-gateway", "--network", "n", "--network-alias", "gateway"]
    assert "-p" in args and args[args.index("-p") + 1].startswith("127.0.0.1:")
    assert args[-5:] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    boot = run_args("bootstrap", compose["services"]["bootstrap"], network="n", project="p")
    assert boot[boot.index("--entrypoint") + 1] == "sh"
    assert boot[-2] == "-ec" and "keys create" in boot[-1]
    assert health_argv(["CMD", "redis-cli", "ping"]) == ["redis-cli", "ping"]
    assert health_argv(["CMD-SHELL", "pg_isready"]) == ["sh", "-c", "pg_isready"]
    with pytest.raises(ValueError):
        health_argv(["NONE"])


# -- Dockerfile ------------------------------------------------------------------------


def dockerfile() -> list[str]:
    """Instructions, one per entry, with continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def test_dockerfile_takes_the_base_and_wheels_as_arguments() -> None:
    lines = dockerfile()
    assert lines[0] == "ARG BASE_IMAGE=python:3.11-slim"
    assert lines[1] == "FROM ${BASE_IMAGE}"
    install = next(ln for ln in lines if "--find-links /tmp/wheels" in ln)
    from_wheels, _, from_pypi = install.partition("else")
    assert "--no-index" in from_wheels and "-c constraints.txt" in from_wheels
    assert "--no-index" not in from_pypi and "-c constraints.txt" in from_pypi
    assert any(ln.startswith("ARG WHEELS=deploy/wheels") for ln in lines)
    # the wheel directory is in the build context, everything else of the repo is not
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*") :].count("!deploy/wheels/") == 1
    assert "!.venv" not in ignore


def test_dockerfile_runs_as_a_user_that_can_write_its_metrics() -> None:
    lines = dockerfile()
    env = " ".join(ln for ln in lines if ln.startswith("ENV "))
    assert "PROMETHEUS_MULTIPROC_DIR=/var/lib/ai-platform/metrics" in env
    user_at = max(i for i, ln in enumerate(lines) if ln.startswith("USER "))
    assert lines[user_at] == "USER app"
    prepare = next(ln for ln in lines[:user_at] if "mkdir -p" in ln)
    assert '"$PROMETHEUS_MULTIPROC_DIR"' in prepare and "chown -R app:app" in prepare
    assert not any(ln.startswith("HEALTHCHECK") for ln in lines)  # per container instead


def test_dockerfile_command_serves_without_migrating() -> None:
    cmd = next(ln for ln in dockerfile() if ln.startswith("CMD "))
    argv = yaml.safe_load(cmd.removeprefix("CMD "))
    assert argv[:2] == ["ai-platform", "serve"]
    assert unknown_cli_words(argv) == []
    assert "upgrade" not in cmd and "--migrate" not in cmd


def test_env_example_names_real_settings() -> None:
    for line in (ROOT / ".env.example").read_text().splitlines():
        line = line.lstrip("# ").strip()
        if "=" in line and line.split("=", 1)[0].isupper() and " " not in line.split("=")[0]:
            assert is_setting(line.split("=", 1)[0]), line


# -- kubernetes/ -----------------------------------------------------------------------


def schema_validator() -> Any:
    """kubernetes-validate (a dev dependency): skipped outside CI when not installed."""
    if os.environ.get("CI"):
        import kubernetes_validate

        return kubernetes_validate
    return pytest.importorskip("kubernetes_validate", reason="pip install -e '.[dev]'")


def manifest_files() -> list[Path]:
    return sorted(p for p in KUBERNETES.rglob("*.yaml") if p.name != "kustomization.yaml")


def rendered(overlay: str) -> list[dict[str, Any]]:
    return kustomize.render(KUBERNETES / "overlays" / overlay)


def by_kind(docs: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return doc["spec"]["template"]["spec"]["containers"]  # type: ignore[no-any-return]


def test_kubernetes_manifests_match_the_schemas() -> None:
    kubernetes_validate = schema_validator()
    # Every rendered object once (the overlays share the base), and the Secret template
    # that no kustomization includes.
    unique: dict[str, tuple[str, dict[str, Any]]] = {}
    for overlay in OVERLAYS:
        for doc in rendered(overlay):
            unique.setdefault(json.dumps(doc, sort_keys=True), (overlay, doc))
    for doc in kustomize.load_documents(KUBERNETES / "base" / "secret.example.yaml"):
        unique[json.dumps(doc, sort_keys=True)] = ("secret.example.yaml", doc)
    assert len(unique) >= 28
    version = kubernetes_validate.latest_version()
    for where, doc in unique.values():
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{where}: {doc['kind']}/{doc['metadata']['name']}: {exc}")


def test_kubernetes_validation_catches_a_wrong_manifest() -> None:
    kubernetes_validate = schema_validator()
    deployment = by_kind(rendered("split"), "Deployment")["gateway"]
    containers(deployment)[0]["livenessProbe"]["httpGet"]["port"] = ["http"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, kubernetes_validate.latest_version(), strict=True)


def test_every_kustomization_reference_exists_and_every_file_is_referenced(
    tmp_path: Path,
) -> None:
    referenced: set[Path] = set()
    for kfile in KUBERNETES.rglob("kustomization.yaml"):
        for ref in kustomize.referenced_files(kfile.parent):
            assert ref.exists(), f"{kfile}: {ref} does not exist"
            referenced.add(ref)
    templates = {p for p in manifest_files() if p.name.endswith(".example.yaml")}
    assert set(manifest_files()) - templates == {p for p in referenced if p.is_file()}
    (tmp_path / "kustomization.yaml").write_text("resources: [missing.yaml]\n")
    with pytest.raises(kustomize.KustomizeError, match="does not exist"):
        kustomize.render(tmp_path)
    (tmp_path / "kustomization.yaml").write_text("resources: []\nreplicas: []\n")
    with pytest.raises(kustomize.KustomizeError, match="unsupported"):
        kustomize.render(tmp_path)


def test_an_overlay_can_set_the_image(tmp_path: Path) -> None:
    split = os.path.relpath(KUBERNETES / "overlays" / "split", tmp_path)
    (tmp_path / "kustomization.yaml").write_text(
        f"resources: [{split}]\n"
        "images: [{name: ai-platform, newName: registry.example/ai-platform, newTag: '1.2'}]\n"
    )
    docs = kustomize.render(tmp_path)
    images = {c["image"] for d in docs if d["kind"] in ("Deployment", "Job") for c in containers(d)}
    assert images == {"registry.example/ai-platform:1.2"}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
@pytest.mark.parametrize("overlay", OVERLAYS)
def test_render_matches_kubectl_kustomize(overlay: str) -> None:
    proc = subprocess.run(
        ["kubectl", "kustomize", str(KUBERNETES / "overlays" / overlay)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr

    def key(d: dict[str, Any]) -> tuple[str, str]:
        return d["kind"], d["metadata"]["name"]

    theirs = {key(d): d for d in yaml.safe_load_all(proc.stdout) if d}
    assert {key(d): d for d in rendered(overlay)} == theirs


def serve_deployments(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        n: d
        for n, d in by_kind(docs, "Deployment").items()
        if containers(d)[0]["command"][1] == "serve"
    }


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_serving_pods_are_probed_scaled_and_bounded(overlay: str) -> None:
    docs = rendered(overlay)
    serving = serve_deployments(docs)
    expected = {"gateway", *(SPLIT_SERVICES if overlay == "split" else ())}
    assert set(serving) == expected
    for name, deployment in serving.items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        (container,) = containers(deployment)
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/health/ready"
        workers = {e["name"]: e["value"] for e in container["env"]}["WEB_CONCURRENCY"]
        assert 2 <= int(workers) <= 4
        assert "--workers" not in container["command"]  # WEB_CONCURRENCY decides
        mounts = {m["mountPath"] for m in container["volumeMounts"]}
        assert "/var/lib/ai-platform/metrics" in mounts  # writable on a read-only root
        service = by_kind(docs, "Service")[name]
        assert service["spec"]["selector"].items() <= pod_labels.items()
        hpa = by_kind(docs, "HorizontalPodAutoscaler")[name]
        assert hpa["spec"]["scaleTargetRef"]["name"] == name
        pdb = by_kind(docs, "PodDisruptionBudget")[name]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    for name, workload in [*by_kind(docs, "Deployment").items(), *by_kind(docs, "Job").items()]:
        for container in containers(workload):
            resources = container["resources"]
            assert set(resources) == {"requests", "limits"}, name
            assert {"cpu", "memory"} <= set(resources["limits"]), name
            if container.get("securityContext", {}).get("readOnlyRootFilesystem"):
                env = kubernetes_env(docs, workload)
                mounts = {m["mountPath"] for m in container.get("volumeMounts", [])}
                if "PROMETHEUS_MULTIPROC_DIR" in env:  # prometheus-client writes there
                    assert env["PROMETHEUS_MULTIPROC_DIR"] in mounts, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_migrates_in_one_job(overlay: str) -> None:
    docs = rendered(overlay)
    (job,) = by_kind(docs, "Job").values()
    assert containers(job)[0]["command"] == ["ai-platform", "db", "upgrade"]
    for name, deployment in by_kind(docs, "Deployment").items():
        for container in containers(deployment):
            assert "upgrade" not in container["command"], name
    workers = [
        d
        for d in by_kind(docs, "Deployment").values()
        if containers(d)[0]["command"] == ["ai-platform", "worker"]
    ]
    assert len(workers) == 1


def kubernetes_env(docs: list[dict[str, Any]], deployment: dict[str, Any]) -> dict[str, str]:
    """The environment a Deployment's container gets: ConfigMaps, the Secret, env."""
    secret = kustomize.load_documents(KUBERNETES / "base" / "secret.example.yaml")[0]
    config_maps = by_kind(docs, "ConfigMap")
    env: dict[str, str] = {}
    for source in containers(deployment)[0].get("envFrom", []):
        if "configMapRef" in source:
            env |= config_maps[source["configMapRef"]["name"]].get("data") or {}
        else:
            assert source["secretRef"]["name"] == secret["metadata"]["name"]
            env |= secret["stringData"]
    env |= {e["name"]: e["value"] for e in containers(deployment)[0].get("env", [])}
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_kubernetes_environment_names_real_settings(
    overlay: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = rendered(overlay)
    for name, deployment in by_kind(docs, "Deployment").items():
        env = kubernetes_env(docs, deployment)
        if not env:  # the simulator reads no settings
            continue
        unknown = {k for k in env if not is_setting(k) and k not in FOREIGN_VARS}
        assert not {k for k in unknown if not is_split_name(k)}, f"{name}: {unknown}"
        with monkeypatch.context() as m:
            settings = settings_from(env, m)
        assert settings.environment == "production"
        assert not getattr(settings, "migrate_on_start", False), name  # the Job does
        argv = containers(deployment)[0]["command"]
        unknown_words = set(unknown_cli_words(argv))
        if not split_runtime_present():
            unknown_words -= SPLIT_OPTIONS
        assert not unknown_words, f"{name}: {argv}"


def test_kubernetes_split_gateway_reaches_each_service() -> None:
    docs = rendered("split")
    gateway_env = kubernetes_env(docs, by_kind(docs, "Deployment")["gateway"])
    services = by_kind(docs, "Service")
    deployments = serve_deployments(docs)
    for name in SPLIT_SERVICES:
        host = gateway_env[f"SERVICES__{name.upper()}__URL"].removeprefix("http://")
        assert services[host]["spec"]["ports"][0]["port"] == 80
        command = containers(deployments[host])[0]["command"]
        assert command[command.index("--services") + 1] == name
        assert not any(k.startswith("SERVICES__") for k in kubernetes_env(docs, deployments[host]))
    monolith_env = kubernetes_env(
        rendered("monolith"), by_kind(rendered("monolith"), "Deployment")["gateway"]
    )
    assert not any(k.startswith("SERVICES__") for k in monolith_env)


def test_settings_names_resolve_nested_fields() -> None:
    assert is_setting("DATABASE_URL") and is_setting("database_url")
    assert not is_setting("DATABASE_URLS") and not is_setting("DATABASE_URL__X")
    assert not is_setting("WEB_CONCURRENCY")
    if split_runtime_present():
        assert is_setting("SERVICES__KNOWLEDGE__URL")
        assert not is_setting("SERVICES__KNOWLEDGE__NOPE")


def test_wheels_are_built_from_a_clean_copy_of_the_sources() -> None:
    with project_source() as source:
        assert (source / "pyproject.toml").read_bytes() == (ROOT / "pyproject.toml").read_bytes()
        assert (source / "platform" / "ai_platform" / "cli.py").is_file()
        assert not list(source.rglob("__pycache__"))
        assert not (source / "build").exists()
    assert not source.exists()
