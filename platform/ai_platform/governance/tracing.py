"""OpenTelemetry tracing, off unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set.

One span per governed request and a child span per LLM call, named and attributed
by the GenAI semantic conventions (``chat gpt-4o-mini`` with ``gen_ai.*``
attributes), exported over OTLP/HTTP. The SDK is the optional ``otel`` extra: it is
imported only when tracing is switched on, and when it is off every hook here is a
check of one attribute.

The platform keeps its own ``TracerProvider`` rather than installing a global one, so
an application embedding it keeps control of its own tracing setup.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ai_platform.config import Settings

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

logger = logging.getLogger("ai_platform.tracing")

GEN_AI_SYSTEMS = {"openai": "openai", "azure": "az.ai.openai", "simulator": "simulator"}


class Tracing:
    """The platform's tracer, or nothing at all when tracing is off."""

    def __init__(self, provider: TracerProvider | None = None, *, system: str = "openai") -> None:
        self.provider = provider
        self.system = system
        self.tracer: Tracer | None = (
            provider.get_tracer("ai_platform.governance") if provider is not None else None
        )

    @property
    def enabled(self) -> bool:
        return self.tracer is not None

    @classmethod
    def from_settings(cls, settings: Settings, exporter: SpanExporter | None = None) -> Tracing:
        """Tracing for these settings; ``exporter`` (tests, custom sinks) forces it on."""
        system = GEN_AI_SYSTEMS.get(settings.llm_provider, settings.llm_provider)
        endpoint = settings.otel_exporter_otlp_endpoint
        if exporter is None and not endpoint:
            return cls(None, system=system)
        try:
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider
            from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
        except ImportError as exc:  # pragma: no cover - depends on the installed extras
            raise RuntimeError(
                "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
                "pip install 'ai-platform-workbench[otel]'"
            ) from exc
        provider = TracerProvider(
            resource=Resource.create(
                {
                    "service.name": settings.service_name,
                    "deployment.environment": settings.environment,
                }
            )
        )
        if exporter is not None:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            assert endpoint is not None
            url = endpoint.rstrip("/")
            if not url.endswith("/v1/traces"):
                url += "/v1/traces"
            provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=url)))
        return cls(provider, system=system)

    def start_request(
        self, *, service: str, route: str, client_id: str, request_id: str, job: bool
    ) -> Span | None:
        if self.tracer is None:
            return None
        from opentelemetry.trace import SpanKind

        return self.tracer.start_span(
            f"{'job' if job else 'governed'} {service} {route}",
            kind=SpanKind.INTERNAL,
            attributes={
                "ai_platform.service": service,
                "ai_platform.route": route,
                "ai_platform.client_id": client_id,
                "ai_platform.request_id": request_id,
            },
        )

    def end_request(
        self,
        span: Span | None,
        *,
        status_code: int,
        outcome: str,
        tokens_in: int,
        tokens_out: int,
        cost_usd: float,
    ) -> None:
        if span is None:
            return
        from opentelemetry.trace import Status, StatusCode

        span.set_attributes(
            {
                "http.response.status_code": status_code,
                "ai_platform.outcome": outcome,
                "gen_ai.usage.input_tokens": tokens_in,
                "gen_ai.usage.output_tokens": tokens_out,
                "ai_platform.cost_usd": cost_usd,
            }
        )
        if status_code >= 500 or outcome == "internal_error":
            span.set_status(Status(StatusCode.ERROR, outcome))
        span.end()

    def start_llm(
        self,
        parent: Span | None,
        *,
        operation: str,
        model: str,
        max_tokens: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> Span | None:
        if self.tracer is None:
            return None
        from opentelemetry import trace
        from opentelemetry.trace import SpanKind

        attributes: dict[str, Any] = {
            "gen_ai.operation.name": operation,
            "gen_ai.system": self.system,
            "gen_ai.provider.name": self.system,
            "gen_ai.request.model": model,
        }
        if max_tokens is not None:
            attributes["gen_ai.request.max_tokens"] = max_tokens
        if extra:
            attributes.update({k: v for k, v in extra.items() if v is not None})
        context = trace.set_span_in_context(parent) if parent is not None else None
        return self.tracer.start_span(
            f"{operation} {model}", context=context, kind=SpanKind.CLIENT, attributes=attributes
        )

    def end_llm(
        self,
        span: Span | None,
        *,
        response_model: str | None = None,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        finish_reason: str | None = None,
        cost_usd: float | None = None,
        ttft_s: float | None = None,
        hops: tuple[str, ...] = (),
        error: BaseException | None = None,
    ) -> None:
        if span is None:
            return
        from opentelemetry.trace import Status, StatusCode

        attributes: dict[str, Any] = {}
        if response_model:
            attributes["gen_ai.response.model"] = response_model
        if input_tokens is not None:
            attributes["gen_ai.usage.input_tokens"] = input_tokens
        if output_tokens is not None:
            attributes["gen_ai.usage.output_tokens"] = output_tokens
        if finish_reason:
            attributes["gen_ai.response.finish_reasons"] = [finish_reason]
        if cost_usd is not None:
            attributes["ai_platform.cost_usd"] = cost_usd
        if ttft_s is not None:
            attributes["ai_platform.time_to_first_token_s"] = ttft_s
        if hops:
            attributes["ai_platform.route.hops"] = list(hops)
        if error is not None:
            code = getattr(error, "error_code", None) or type(error).__name__
            attributes["error.type"] = code
            span.set_status(Status(StatusCode.ERROR, str(code)))
        span.set_attributes(attributes)
        span.end()

    def shutdown(self) -> None:
        if self.provider is not None:
            try:
                self.provider.shutdown()
            except Exception:  # an unreachable collector must not fail shutdown
                logger.warning("tracing shutdown failed", exc_info=True)
