"""Model prices and the cost of a call.

The bundled table (``prices.json`` beside this module) lists OpenAI's published
standard-tier prices in USD per 1M tokens, with the source URL and the date each
price was taken. A deployment can override or extend it with its own JSON file
(``PRICE_TABLE_PATH``) in the same shape; entries there are merged field by field
over the bundled ones, so ``{"models": {"gpt-4o": {"input": "2.00"}}}`` changes one
number and keeps the rest.

Model names resolve in this order:

1. exact name, then an alias (``sim-chat`` -> ``gpt-4o-mini``);
2. the same after dropping a routing prefix (``openai/gpt-4o`` -> ``gpt-4o``);
3. a dated snapshot of a known name: the longest known name followed by ``-`` and a
   date (``gpt-4o-2024-08-06`` -> ``gpt-4o``, ``gpt-4o-mini-2024-07-18`` ->
   ``gpt-4o-mini``, ``gpt-3.5-turbo-0125`` -> ``gpt-3.5-turbo``). Other suffixes do
   not resolve: ``o3-pro`` is not priced like ``o3``, nor ``o1-pro`` like ``o1``.

A model that still does not resolve is priced at the table's *fallback* model
(``gpt-4o`` unless the file says otherwise) and the returned ``ModelPrice`` has
``known=False``. Unknown models therefore never fail a call, and are not free
either: a budget still reserves a realistic amount, and the ledger can show which
costs are estimates. A model a *client* names is checked earlier, at the edge
(``require_chat_model``): one the table cannot price as a chat model, and that is
not one of the deployment's configured models, is refused with ``unknown_model``
before any call is made.

Costs are computed in ``Decimal`` and rounded half-up to 10 decimal places.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol, cast

from ai_platform.core.errors import UnknownModelError

ModelKind = Literal["chat", "embedding"]

PER_TOKENS = Decimal(1_000_000)
COST_PLACES = Decimal("1e-10")
BUNDLED_SOURCE = "ai_platform/llm/prices.json"
# Snapshot suffixes: "2024-08-06" (current) and "0613" (older models).
_SNAPSHOT = re.compile(r"(\d{4}-\d{2}-\d{2}|\d{4})")


class PriceTableError(ValueError):
    """A price file is missing, unreadable or malformed."""


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """Prices of one model, USD per 1M tokens."""

    model: str
    kind: ModelKind
    input_per_mtok: Decimal
    cached_input_per_mtok: Decimal | None
    output_per_mtok: Decimal
    context_window: int | None
    source: str
    as_of: str | None
    known: bool = True

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> Decimal:
        """Exact, unrounded cost in USD.

        ``cached_tokens`` is the part of ``prompt_tokens`` served from the provider's
        prompt cache (providers report it as a subset of the prompt), so it is capped
        at ``prompt_tokens``. Without a cached price, cached tokens cost the input price.
        """
        for name, value in (
            ("prompt_tokens", prompt_tokens),
            ("completion_tokens", completion_tokens),
            ("cached_tokens", cached_tokens),
        ):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        cached = min(cached_tokens, prompt_tokens)
        cached_rate = (
            self.cached_input_per_mtok
            if self.cached_input_per_mtok is not None
            else self.input_per_mtok
        )
        total = (
            Decimal(prompt_tokens - cached) * self.input_per_mtok
            + Decimal(cached) * cached_rate
            + Decimal(completion_tokens) * self.output_per_mtok
        )
        return total / PER_TOKENS

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "input_per_1m": float(self.input_per_mtok),
            "cached_input_per_1m": (
                None if self.cached_input_per_mtok is None else float(self.cached_input_per_mtok)
            ),
            "output_per_1m": float(self.output_per_mtok),
            "context_window": self.context_window,
            "source": self.source,
            "as_of": self.as_of,
        }


class ConfiguredModels(Protocol):
    """The models a deployment configures (``Settings`` has them)."""

    @property
    def default_model(self) -> str: ...

    @property
    def vision_model(self) -> str: ...


def check_requested_model(
    prices: PriceTable, configured: ConfiguredModels, model: str | None
) -> None:
    """The edge check of a ``model`` a request names (None: the default, always fine):
    a 422 ``unknown_model`` unless the table prices it as a chat model or the
    deployment configures it. Routes call it before any model call or write."""
    if model is not None:
        prices.require_chat_model(
            model, configured=(configured.default_model, configured.vision_model)
        )


def round_cost(value: Decimal) -> Decimal:
    return value.quantize(COST_PLACES, rounding=ROUND_HALF_UP)


class PriceTable:
    """Prices by model name, with aliases and a flagged fallback for unknown models."""

    def __init__(
        self,
        models: Mapping[str, ModelPrice],
        *,
        aliases: Mapping[str, str] | None = None,
        fallback: str,
        sources: tuple[str, ...] = (),
        currency: str = "USD",
    ) -> None:
        self._models = {name.lower(): price for name, price in models.items()}
        self._aliases = {name.lower(): target.lower() for name, target in (aliases or {}).items()}
        for alias, target in self._aliases.items():
            if target not in self._models:
                raise PriceTableError(f"alias {alias!r} points to unpriced model {target!r}")
        if fallback.lower() not in self._models:
            raise PriceTableError(f"fallback model {fallback!r} is not in the table")
        self._fallback = fallback.lower()
        # Longest first, so "gpt-4o-mini-…" is matched before "gpt-4o-…".
        self._prefixes = sorted([*self._models, *self._aliases], key=len, reverse=True)
        self.sources = sources
        self.currency = currency

    # -- loading ---------------------------------------------------------------------

    @classmethod
    def load(cls, path: str | Path | None = None) -> PriceTable:
        """The bundled table, with the file at ``path`` merged over it if given.

        Reads files synchronously: call once at start-up, not per request.
        """
        bundled_text = resources.files("ai_platform.llm").joinpath("prices.json").read_text("utf-8")
        data = _parse(bundled_text, BUNDLED_SOURCE)
        sources = [BUNDLED_SOURCE]
        if path is not None:
            file = Path(path)
            try:
                text = file.read_text("utf-8")
            except OSError as exc:
                raise PriceTableError(f"price table {file}: cannot read ({exc})") from exc
            data = _merge(data, _parse(text, str(file)), str(file))
            sources.append(str(file))
        return cls.from_dict(data, sources=tuple(sources))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, sources: tuple[str, ...] = ()) -> PriceTable:
        """Build a table from the JSON shape of ``prices.json``."""
        origin = sources[-1] if sources else "<dict>"
        raw_models = data.get("models")
        if not isinstance(raw_models, Mapping) or not raw_models:
            raise PriceTableError(f"price table {origin}: 'models' must be a non-empty object")
        models = {
            str(name): _model_price(str(name), entry, origin) for name, entry in raw_models.items()
        }
        raw_aliases = data.get("aliases") or {}
        if not isinstance(raw_aliases, Mapping) or not all(
            isinstance(v, str) for v in raw_aliases.values()
        ):
            raise PriceTableError(f"price table {origin}: 'aliases' must map names to model names")
        fallback = data.get("fallback", "gpt-4o")
        if not isinstance(fallback, str):
            raise PriceTableError(f"price table {origin}: 'fallback' must be a model name")
        return cls(
            models,
            aliases={str(k): str(v) for k, v in raw_aliases.items()},
            fallback=fallback,
            sources=sources,
            currency=str(data.get("currency", "USD")),
        )

    # -- lookups ---------------------------------------------------------------------

    def resolve(self, model: str) -> str | None:
        """The priced model name ``model`` resolves to, or None if it is unknown."""
        name = model.strip().lower()
        found = self._exact(name)
        if found is None and "/" in name:
            name = name.rsplit("/", 1)[1]
            found = self._exact(name)
        if found is not None:
            return found
        for known in self._prefixes:
            if name.startswith(known + "-") and _SNAPSHOT.fullmatch(name[len(known) + 1 :]):
                return self._exact(known)
        return None

    def price_for(self, model: str) -> ModelPrice:
        """Prices for ``model``; unknown models get the fallback price with ``known=False``."""
        resolved = self.resolve(model)
        if resolved is not None:
            return self._models[resolved]
        return replace(self._models[self._fallback], model=model, known=False)

    def is_known(self, model: str) -> bool:
        return self.resolve(model) is not None

    def chat_models(self) -> list[str]:
        """Every name (priced chat model or alias of one) a client may ask for."""
        names = [n for n, p in self._models.items() if p.kind == "chat"]
        names += [a for a, target in self._aliases.items() if self._models[target].kind == "chat"]
        return sorted(names)

    def require_chat_model(self, model: str, *, configured: Iterable[str] = ()) -> None:
        """Refuse (``UnknownModelError``, 422) a chat model a client named that the
        platform cannot price, or that is priced as an embedding model.

        ``configured`` names (the deployment's default and vision models: an Azure
        deployment, a local model the price file does not list) are accepted as is.
        """
        allowed = [m for m in configured if m]
        if model in allowed:
            return
        known = sorted({*self.chat_models(), *allowed})
        resolved = self.resolve(model)
        if resolved is None:
            raise UnknownModelError(model, known=known)
        if self._models[resolved].kind != "chat":
            raise UnknownModelError(model, reason="is an embedding model", known=known)

    def cost_decimal(
        self, model: str, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0
    ) -> Decimal:
        """Cost in USD as a Decimal, rounded half-up to 10 places."""
        return round_cost(
            self.price_for(model).cost(prompt_tokens, completion_tokens, cached_tokens)
        )

    def cost_usd(
        self, model: str, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0
    ) -> float:
        """Cost in USD, rounded half-up to 10 places."""
        return float(self.cost_decimal(model, prompt_tokens, completion_tokens, cached_tokens))

    def max_cost_usd(self, model: str, prompt_tokens: int, max_output_tokens: int) -> float:
        """Worst case for a budget reservation: no cache hits, every output token used."""
        price = self.price_for(model)
        return float(round_cost(price.cost(prompt_tokens, max_output_tokens, 0)))

    @property
    def fallback_model(self) -> str:
        return self._fallback

    def models(self) -> list[str]:
        return sorted(self._models)

    def as_dict(self) -> dict[str, Any]:
        """The table in use, for the admin endpoint."""
        return {
            "currency": self.currency,
            "unit": "per 1M tokens",
            "sources": list(self.sources),
            "fallback": {
                "model": self._fallback,
                "note": "unknown models are priced as this model and flagged known=false",
            },
            "aliases": dict(sorted(self._aliases.items())),
            "models": {name: self._models[name].as_dict() for name in self.models()},
        }

    def _exact(self, name: str) -> str | None:
        if name in self._models:
            return name
        return self._aliases.get(name)


# -- parsing -----------------------------------------------------------------------------


def _parse(text: str, origin: str) -> dict[str, Any]:
    try:
        data = json.loads(text, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise PriceTableError(f"price table {origin}: invalid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise PriceTableError(f"price table {origin}: the top level must be an object")
    return cast(dict[str, Any], data)


def _merge(base: dict[str, Any], override: dict[str, Any], origin: str) -> dict[str, Any]:
    merged = dict(base)
    models = dict(base.get("models") or {})
    extra = override.get("models") or {}
    if not isinstance(extra, Mapping):
        raise PriceTableError(f"price table {origin}: 'models' must be an object")
    for name, entry in extra.items():
        if not isinstance(entry, Mapping):
            raise PriceTableError(f"price table {origin}: model {name!r} must be an object")
        previous = models.get(name)
        if previous is None:
            models[name] = {"source": origin, "as_of": None, **entry}
        else:
            # A changed price is no longer the bundled source's price.
            attribution = {"source": origin, "as_of": None}
            models[name] = {**previous, **attribution, **entry}
    merged["models"] = models
    merged["aliases"] = {**(base.get("aliases") or {}), **(override.get("aliases") or {})}
    for key in ("fallback", "currency"):
        if key in override:
            merged[key] = override[key]
    return merged


def _model_price(name: str, entry: Any, origin: str) -> ModelPrice:
    where = f"price table {origin}: model {name!r}"
    if not isinstance(entry, Mapping):
        raise PriceTableError(f"{where} must be an object")
    kind = entry.get("kind", "chat")
    if kind not in ("chat", "embedding"):
        raise PriceTableError(f"{where}: 'kind' must be 'chat' or 'embedding'")
    if "input" not in entry:
        raise PriceTableError(f"{where}: 'input' (USD per 1M input tokens) is required")
    if kind == "chat" and "output" not in entry:
        raise PriceTableError(f"{where}: 'output' (USD per 1M output tokens) is required")
    cached = entry.get("cached_input")
    window = entry.get("context_window")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int | Decimal)):
        raise PriceTableError(f"{where}: 'context_window' must be an integer")
    as_of = entry.get("as_of")
    return ModelPrice(
        model=name.lower(),
        kind=cast(ModelKind, kind),
        input_per_mtok=_price(entry["input"], f"{where}: 'input'"),
        cached_input_per_mtok=None
        if cached is None
        else _price(cached, f"{where}: 'cached_input'"),
        output_per_mtok=_price(entry.get("output", 0), f"{where}: 'output'"),
        context_window=None if window is None else int(window),
        source=str(entry.get("source") or origin),
        as_of=None if as_of is None else str(as_of),
    )


def _price(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise PriceTableError(f"{where} must be a number or a numeric string")
    try:
        price = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise PriceTableError(f"{where}: {value!r} is not a number") from exc
    if not price.is_finite() or price < 0:
        raise PriceTableError(f"{where} must be a finite number >= 0, got {value!r}")
    return price
