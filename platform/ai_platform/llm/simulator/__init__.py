"""An OpenAI-compatible simulator: a stand-in for a provider, for teaching and load tests.

It is NOT a model. It does not understand language; it produces deterministic,
plausible replies from the request itself — extractive answers with ``[n]`` citations
when the prompt carries numbered passages, tool calls with arguments pulled from the
message, JSON when asked, facts read from attached images, hashed embeddings — with a
configurable latency model (time to first token, tokens per second, jitter, seed) and
injected faults (429 with Retry-After, 500, 503, stalls, "fail the next N").

Use it embedded (``EmbeddedSimulator``, real HTTP on a loopback port inside the
current event loop) or as its own server (``serve`` / ``python -m
ai_platform.llm.simulator``). Token counts come from an offline estimator
(``estimate``), not a real tokenizer.
"""

from .app import SimulatorApp, create_app, create_app_from_env
from .config import FailNext, FaultConfig, ModelLatency, SimulatorConfig
from .models import MODELS, SimModel
from .server import EmbeddedSimulator, main, serve

__all__ = [
    "MODELS",
    "EmbeddedSimulator",
    "FailNext",
    "FaultConfig",
    "ModelLatency",
    "SimModel",
    "SimulatorApp",
    "SimulatorConfig",
    "create_app",
    "create_app_from_env",
    "main",
    "serve",
]
