"""The model names the simulator answers to, kept in this one table.

Chat models accept text, tools, JSON mode and image parts. Embedding models have a
default vector size; ``custom_dimensions`` says whether the ``dimensions`` parameter
is honoured (OpenAI refuses it for ``text-embedding-ada-002``, and so does this).
Dated snapshots of a known name (``gpt-4o-2024-08-06``) resolve to that name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

ModelKind = Literal["chat", "embedding"]

# One fixed timestamp: model listings must not change between runs.
_CREATED = 1_715_367_049


@dataclass(frozen=True, slots=True)
class SimModel:
    id: str
    kind: ModelKind
    owned_by: str = "system"
    dimensions: int = 0
    custom_dimensions: bool = True


CHAT_MODELS: tuple[str, ...] = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-4-turbo",
    "gpt-4",
    "gpt-3.5-turbo",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "chatgpt-4o-latest",
    "o1",
    "o1-mini",
    "o3",
    "o3-mini",
    "o4-mini",
    "sim-chat",
)

EMBEDDING_MODELS: tuple[tuple[str, int, bool], ...] = (
    ("text-embedding-3-small", 1536, True),
    ("text-embedding-3-large", 3072, True),
    ("text-embedding-ada-002", 1536, False),
    ("sim-embed", 384, True),
)

MODELS: dict[str, SimModel] = {
    **{
        name: SimModel(name, "chat", "simulator" if name.startswith("sim-") else "system")
        for name in CHAT_MODELS
    },
    **{
        name: SimModel(
            name, "embedding", "simulator" if name.startswith("sim-") else "system", dims, custom
        )
        for name, dims, custom in EMBEDDING_MODELS
    },
}

_DATED = re.compile(r"^(?P<base>.+?)-\d{4}-\d{2}-\d{2}$")


def lookup(name: str, extra_chat_models: Iterable[str] = ()) -> SimModel | None:
    """The model a request names, or None when the simulator does not know it."""
    model = MODELS.get(name)
    if model is not None:
        return model
    if name in extra_chat_models:
        return SimModel(name, "chat", "simulator")
    dated = _DATED.match(name)
    if dated is not None:
        base = MODELS.get(dated.group("base"))
        if base is not None:
            return SimModel(name, base.kind, base.owned_by, base.dimensions, base.custom_dimensions)
    return None


def listing(extra_chat_models: Iterable[str] = ()) -> list[dict[str, object]]:
    """``GET /v1/models`` entries, in table order."""
    names = [*MODELS, *(n for n in extra_chat_models if n not in MODELS)]
    return [model_object(lookup(n, extra_chat_models) or SimModel(n, "chat")) for n in names]


def model_object(model: SimModel) -> dict[str, object]:
    return {"id": model.id, "object": "model", "created": _CREATED, "owned_by": model.owned_by}
