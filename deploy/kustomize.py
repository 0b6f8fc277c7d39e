"""The part of kustomize these manifests use, so tests render overlays without kubectl.

Supported: ``resources`` (files, or directories holding a kustomization.yaml),
``patches`` given by ``path`` (strategic merge: maps merge, lists of maps with a
``name`` merge by name, other lists are replaced), ``images`` (``newName`` and
``newTag``, as ``kustomize edit set image`` writes them) and ``namespace``. Anything else in
a kustomization.yaml is refused, so a manifest that starts using more fails loudly
here instead of being rendered wrong.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

Manifest = dict[str, Any]
SUPPORTED = {"apiVersion", "kind", "resources", "patches", "namespace", "images"}


class KustomizeError(ValueError):
    pass


def load_documents(path: Path) -> list[Manifest]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def kustomization(directory: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unsupported = set(data) - SUPPORTED
    if unsupported:
        raise KustomizeError(f"{directory}: unsupported fields {sorted(unsupported)}")
    return data


def referenced_files(directory: Path) -> list[Path]:
    """Every file a kustomization.yaml names (resources and patches), as paths."""
    data = kustomization(directory)
    names = [*data.get("resources", []), *(p["path"] for p in data.get("patches", []))]
    return [(directory / name).resolve() for name in names]


def render(directory: Path) -> list[Manifest]:
    data = kustomization(directory)
    out: list[Manifest] = []
    for ref in data.get("resources", []):
        target = (directory / ref).resolve()
        if target.is_dir():
            out.extend(render(target))
        elif target.is_file():
            out.extend(load_documents(target))
        else:
            raise KustomizeError(f"{directory}: resource {ref} does not exist")
    for patch in data.get("patches", []):
        if set(patch) != {"path"}:
            raise KustomizeError(f"{directory}: only `path` patches are supported: {patch}")
        for doc in load_documents(directory / patch["path"]):
            target_doc = _find(out, doc["kind"], doc["metadata"]["name"])
            merged = merge(target_doc, doc)
            out[out.index(target_doc)] = merged
    for image in data.get("images", []):
        for doc in out:
            _set_image(doc, image)
    if "namespace" in data:
        for doc in out:
            doc.setdefault("metadata", {})["namespace"] = data["namespace"]
    return out


def _set_image(doc: Manifest, image: dict[str, str]) -> None:
    pod = doc.get("spec", {}).get("template", {}).get("spec", {})
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        name, _, tag = container["image"].partition(":")
        if name == image["name"]:
            new_name = image.get("newName", name)
            new_tag = image.get("newTag", tag)
            container["image"] = f"{new_name}:{new_tag}" if new_tag else new_name


def _find(docs: list[Manifest], kind: str, name: str) -> Manifest:
    for doc in docs:
        if doc["kind"] == kind and doc["metadata"]["name"] == name:
            return doc
    raise KustomizeError(f"patch target {kind}/{name} is not among the resources")


def merge(base: Any, patch: Any) -> Any:
    """Strategic merge of ``patch`` into a copy of ``base`` (the subset described above)."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = copy.deepcopy(base)
        for key, value in patch.items():
            out[key] = merge(out[key], value) if key in out else copy.deepcopy(value)
        return out
    if isinstance(base, list) and isinstance(patch, list) and _named(base) and _named(patch):
        out_list = copy.deepcopy(base)
        for item in patch:
            match = next((i for i, b in enumerate(out_list) if b["name"] == item["name"]), None)
            if match is None:
                out_list.append(copy.deepcopy(item))
            else:
                out_list[match] = merge(out_list[match], item)
        return out_list
    return copy.deepcopy(patch)


def _named(items: list[Any]) -> bool:
    return all(isinstance(i, dict) and "name" in i for i in items)
