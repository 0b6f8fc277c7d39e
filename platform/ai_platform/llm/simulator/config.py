"""The simulator's run-time knobs: latency (global and per model) and injected faults.

The app reads its ``SimulatorConfig`` object on every request, so changing it — in
place from a test, or through ``POST /_simulator/config`` on a running server —
takes effect on the next request. Defaults are zero latency and no faults.

Environment variables for a standalone server (all optional)::

    SIMULATOR_TTFT_MS  SIMULATOR_TOKENS_PER_S  SIMULATOR_JITTER  SIMULATOR_SEED
    SIMULATOR_RATE_429  SIMULATOR_RATE_500  SIMULATOR_RATE_503  SIMULATOR_RATE_STALL
    SIMULATOR_STALL_S  SIMULATOR_RETRY_AFTER_S  SIMULATOR_EXTRA_MODELS (comma-separated)
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from ai_platform.config import Settings


class Latency(NamedTuple):
    """The latency that applies to one request's model."""

    ttft_ms: float
    tokens_per_s: float
    jitter: float


class ModelLatency(BaseModel):
    """Per-model override; a field left as None falls back to the global value."""

    model_config = ConfigDict(extra="forbid")

    ttft_ms: float | None = Field(default=None, ge=0)
    tokens_per_s: float | None = Field(default=None, ge=0)
    jitter: float | None = Field(default=None, ge=0, le=1)


class FailNext(BaseModel):
    """Fail the next ``count`` chat/embedding requests with ``status``, then recover."""

    model_config = ConfigDict(extra="forbid")

    count: int = Field(default=0, ge=0)
    status: int = Field(default=503, ge=400, le=599)


class FaultConfig(BaseModel):
    """Injected failures. Rates are probabilities per request and must sum to at most 1.

    A stall sleeps ``stall_s`` before answering normally, to push a client past its
    timeout. ``stall_next`` stalls the next N requests regardless of the rates.
    """

    model_config = ConfigDict(extra="forbid")

    rate_429: float = Field(default=0.0, ge=0, le=1)
    rate_500: float = Field(default=0.0, ge=0, le=1)
    rate_503: float = Field(default=0.0, ge=0, le=1)
    rate_stall: float = Field(default=0.0, ge=0, le=1)
    stall_s: float = Field(default=30.0, ge=0)
    retry_after_s: float = Field(default=1.0, ge=0)
    fail_next: FailNext = Field(default_factory=FailNext)
    stall_next: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _rates_fit(self) -> FaultConfig:
        if self.total_rate > 1.0 + 1e-9:
            raise ValueError("fault rates must sum to at most 1")
        return self

    @property
    def total_rate(self) -> float:
        return self.rate_429 + self.rate_500 + self.rate_503 + self.rate_stall


class SimulatorConfig(BaseModel):
    """Latency model, fault injection and extra model names for the simulator.

    ``tokens_per_s = 0`` means unpaced (the reply is produced at once); with
    ``ttft_ms = 0`` too the simulator answers with no added latency. ``jitter`` is a
    fraction: each request's time to first token and token rate are scaled by a factor
    drawn uniformly from [1 - jitter, 1 + jitter] with a generator seeded from ``seed``,
    the request's body and its sequence number, so a rerun of the same requests in the
    same order sees the same delays and faults.
    """

    model_config = ConfigDict(extra="forbid")

    ttft_ms: float = Field(default=0.0, ge=0)
    tokens_per_s: float = Field(default=0.0, ge=0)
    jitter: float = Field(default=0.0, ge=0, le=1)
    seed: int = 7
    models: dict[str, ModelLatency] = Field(default_factory=dict)
    faults: FaultConfig = Field(default_factory=FaultConfig)
    extra_models: list[str] = Field(default_factory=list)

    def latency_for(self, model: str) -> Latency:
        override = self.models.get(model)
        if override is None:
            return Latency(self.ttft_ms, self.tokens_per_s, self.jitter)
        return Latency(
            self.ttft_ms if override.ttft_ms is None else override.ttft_ms,
            self.tokens_per_s if override.tokens_per_s is None else override.tokens_per_s,
            self.jitter if override.jitter is None else override.jitter,
        )

    def update(self, patch: Mapping[str, Any]) -> None:
        """Merge a partial config into this one, in place; raises ValidationError.

        Nested objects (``faults``, ``faults.fail_next``, each entry of ``models``) are
        merged key by key; a ``models`` entry set to null is removed.
        """
        merged = _merge(self.model_dump(), dict(patch))
        fresh = SimulatorConfig.model_validate(merged)
        self.replace_with(fresh)

    def replace_with(self, other: SimulatorConfig) -> None:
        for name in type(self).model_fields:
            value = getattr(other, name)
            setattr(self, name, dict(value) if name == "models" else value)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SimulatorConfig:
        """Latency from the platform's settings (``SIMULATOR_*`` variables)."""
        values: dict[str, Any] = {
            "ttft_ms": settings.simulator_ttft_ms,
            "tokens_per_s": settings.simulator_tokens_per_s,
            "jitter": settings.simulator_jitter,
            "seed": settings.simulator_seed,
        }
        values.update(overrides)
        return cls.model_validate(values)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SimulatorConfig:
        env = os.environ if environ is None else environ
        top = {"ttft_ms": float, "tokens_per_s": float, "jitter": float, "seed": int}
        fault_fields = (
            "rate_429", "rate_500", "rate_503", "rate_stall", "stall_s", "retry_after_s"
        )  # fmt: skip
        values: dict[str, Any] = {}
        for name, kind in top.items():
            raw = env.get(f"SIMULATOR_{name.upper()}")
            if raw is not None and raw.strip():
                values[name] = kind(raw)
        faults = {
            name: float(env[f"SIMULATOR_{name.upper()}"])
            for name in fault_fields
            if env.get(f"SIMULATOR_{name.upper()}", "").strip()
        }
        if faults:
            values["faults"] = faults
        extra = env.get("SIMULATOR_EXTRA_MODELS", "")
        if extra.strip():
            values["extra_models"] = [n.strip() for n in extra.split(",") if n.strip()]
        return cls.model_validate(values)


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in patch.items():
        if key == "models" and isinstance(value, dict) and isinstance(out.get(key), dict):
            models = dict(out[key])
            for name, entry in value.items():
                if entry is None:
                    models.pop(name, None)
                elif isinstance(entry, dict) and isinstance(models.get(name), dict):
                    models[name] = {**models[name], **entry}
                else:
                    models[name] = entry
            out[key] = models
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
