"""The ``ai-platform`` command: serve, migrate, manage clients and keys, seed the demo."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from ai_platform.config import Settings, get_settings

T = TypeVar("T")

app = typer.Typer(
    help="AI Platform Workbench.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
clients_app = typer.Typer(help="Clients (tenants).", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(clients_app, name="clients")
app.add_typer(keys_app, name="keys")

console = Console()
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # pydantic's message names the variable
        console.print(f"[red]invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc


def _emit(as_json: bool, payload: Any, human: Callable[[], None]) -> None:
    if as_json:
        typer.echo(json.dumps(payload, default=str))
    else:
        human()


async def _in_session(fn: Callable[[AsyncSession, Settings], Awaitable[T]]) -> T:
    from ai_platform.db.engine import create_engine, create_sessionmaker

    settings = _settings()
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            result = await fn(session, settings)
            await session.commit()
            return result
    finally:
        await engine.dispose()


def _run(coro: Awaitable[T]) -> T:
    from ai_platform.core.errors import AIServiceError

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except AIServiceError as exc:
        console.print(f"[red]{exc.error_code}:[/red] {exc.message}")
        raise typer.Exit(1) from exc


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    workers: int = typer.Option(1, min=1),
    reload: bool = False,
) -> None:
    """Start the platform with uvicorn (uvloop + httptools)."""
    import uvicorn

    settings = _settings()
    if workers > 1:
        from ai_platform.governance.metrics import prepare_multiprocess_dir

        # Each worker writes its metrics to this directory; /metrics sums them.
        prepare_multiprocess_dir()
    uvicorn.run(
        "ai_platform.gateway.app:app",
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        loop="auto",
        http="auto",
        access_log=False,
        log_level=settings.log_level.lower(),
    )


@db_app.command("upgrade")
def db_upgrade(revision: str = "heads") -> None:
    """Apply Alembic migrations to DATABASE_URL."""
    from ai_platform.db.migrate import upgrade

    settings = _settings()
    asyncio.run(upgrade(settings.database_url, revision))
    console.print(f"database at {_redact(settings.database_url)} is up to date")


def _redact(url: str) -> str:
    from sqlalchemy.engine.url import make_url

    return make_url(url).render_as_string(hide_password=True)


def _client_dict(client: Any) -> dict[str, Any]:
    return {
        "id": client.id,
        "name": client.name,
        "rpm_limit": client.rpm_limit,
        "tpd_limit": client.tpd_limit,
        "monthly_budget_usd": (
            None if client.monthly_budget_usd is None else float(client.monthly_budget_usd)
        ),
        "active": client.active,
    }


@clients_app.command("create")
def clients_create(
    name: str,
    rpm: Annotated[int | None, typer.Option(help="Requests per minute.")] = None,
    tpd: Annotated[int | None, typer.Option(help="Tokens per day.")] = None,
    budget_usd: Annotated[float | None, typer.Option(help="Monthly budget in USD.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a client (tenant)."""
    from ai_platform.governance.tenants import create_client

    async def go(session: AsyncSession, _s: Settings) -> dict[str, Any]:
        client = await create_client(session, name, rpm=rpm, tpd=tpd, budget_usd=budget_usd)
        return _client_dict(client)

    out = _run(_in_session(go))
    _emit(as_json, out, lambda: console.print(f"created client [bold]{out['id']}[/bold] ({name})"))


@clients_app.command("list")
def clients_list(as_json: JsonOpt = False) -> None:
    """List clients."""
    from ai_platform.governance.tenants import list_clients

    async def go(session: AsyncSession, _s: Settings) -> list[dict[str, Any]]:
        return [_client_dict(c) for c in await list_clients(session)]

    rows = _run(_in_session(go))

    def table() -> None:
        t = Table("id", "name", "rpm", "tokens/day", "budget USD", "active")
        for r in rows:
            t.add_row(
                *(
                    str(r[k])
                    for k in (
                        "id",
                        "name",
                        "rpm_limit",
                        "tpd_limit",
                        "monthly_budget_usd",
                        "active",
                    )
                )
            )
        console.print(t)

    _emit(as_json, rows, table)


@keys_app.command("create")
def keys_create(
    client: Annotated[str, typer.Option("--client", help="Client id.")],
    admin: Annotated[bool, typer.Option("--admin", help="Grant the admin scope.")] = False,
    name: str = "default",
    expires_days: Annotated[int | None, typer.Option(help="Expire after N days.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue an API key. The key is printed once and never stored."""
    from ai_platform.governance.keys import ADMIN_SCOPE, DEFAULT_SCOPES
    from ai_platform.governance.tenants import issue_key

    scopes = [*DEFAULT_SCOPES, *([ADMIN_SCOPE] if admin else [])]
    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days else None

    async def go(session: AsyncSession, s: Settings) -> dict[str, Any]:
        issued = await issue_key(
            session,
            s.secret_key.get_secret_value(),
            client,
            name=name,
            scopes=scopes,
            expires_at=expires,
        )
        return {
            "id": issued.key.id,
            "client_id": client,
            "prefix": issued.key.prefix,
            "scopes": issued.key.scopes,
            "key": issued.plaintext,
        }

    out = _run(_in_session(go))
    _emit(
        as_json,
        out,
        lambda: console.print(
            f"key {out['id']} for {client} (scopes: {', '.join(out['scopes'])}) — shown once:\n"
            f"[bold]{out['key']}[/bold]"
        ),
    )


@keys_app.command("list")
def keys_list(
    client: Annotated[str, typer.Option("--client", help="Client id.")], as_json: JsonOpt = False
) -> None:
    """List a client's keys (prefix only)."""
    from ai_platform.governance.tenants import list_keys

    async def go(session: AsyncSession, _s: Settings) -> list[dict[str, Any]]:
        return [
            {
                "id": k.id,
                "prefix": k.prefix,
                "name": k.name,
                "scopes": k.scopes,
                "revoked": k.revoked_at is not None,
                "expires_at": k.expires_at,
            }
            for k in await list_keys(session, client)
        ]

    rows = _run(_in_session(go))

    def human() -> None:
        for r in rows:
            console.print(r)

    _emit(as_json, rows, human)


@keys_app.command("revoke")
def keys_revoke(key_id: str, as_json: JsonOpt = False) -> None:
    """Revoke an API key."""
    from ai_platform.governance.tenants import revoke_key

    async def go(session: AsyncSession, _s: Settings) -> dict[str, Any]:
        key = await revoke_key(session, key_id)
        return {"id": key.id, "revoked_at": key.revoked_at}

    out = _run(_in_session(go))
    _emit(as_json, out, lambda: console.print(f"revoked {key_id}"))


def demo_key_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / "demo_api_key"


@app.command()
def demo(as_json: JsonOpt = False) -> None:
    """Seed the demo client, its API key and the sample data (idempotent).

    The demo key is kept in ``data/demo_api_key`` (a local development file) so the
    quick start can print it on every run; the database holds only its hash.
    """
    from ai_platform.governance.demo import seed_demo

    key_file = demo_key_path(_settings())
    known = key_file.read_text().strip() if key_file.exists() else None
    out = _run(_in_session(lambda session, s: seed_demo(session, s, known)))
    key = out["key"]
    if out["new_key"]:
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(key + "\n")
        key_file.chmod(0o600)

    def human() -> None:
        # Plain echo, not rich: a wrapped key cannot be copied.
        typer.echo(f"demo client {out['client_id']}; API key (also in {key_file}):")
        typer.echo(f"  {key}")
        typer.echo("Try it once the server is up (default http://127.0.0.1:8000):")
        typer.echo(f"  curl -s -H 'X-API-Key: {key}' http://127.0.0.1:8000/api/v1/me")
        typer.echo("  open http://127.0.0.1:8000/docs")

    _emit(as_json, out, human)


@app.command()
def simulator(
    host: str = "127.0.0.1",
    port: int = 8100,
    ttft_ms: Annotated[float | None, typer.Option(help="Time to first token (ms).")] = None,
    tokens_per_s: Annotated[float | None, typer.Option(help="Token rate; 0 = unpaced.")] = None,
    jitter: Annotated[float | None, typer.Option(help="Latency jitter, 0..1.")] = None,
    seed: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Run the bundled simulator (an OpenAI-compatible stand-in, not a model) on its own."""
    from ai_platform.llm.simulator import SimulatorConfig, serve

    config = SimulatorConfig.from_env()
    overrides = {"ttft_ms": ttft_ms, "tokens_per_s": tokens_per_s, "jitter": jitter, "seed": seed}
    config = config.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    console.print(f"simulator (a stand-in, not a model) on http://{host}:{port}/v1")
    serve(host, port, config, log_level="warning")


llm_app = typer.Typer(help="Talk to the configured LLM provider.", no_args_is_help=True)
app.add_typer(llm_app, name="llm")


@llm_app.command("chat")
def llm_chat(
    question: str,
    stream: Annotated[bool, typer.Option("--stream", help="Print tokens as they arrive.")] = False,
    model: Annotated[str | None, typer.Option("--model")] = None,
    max_tokens: Annotated[int | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask one question; print the answer, the usage and the cost."""
    out = _run(
        _llm_chat(
            question,
            stream=stream and not as_json,
            model=model,
            max_tokens=max_tokens,
            echo=not as_json,
        )
    )
    _emit(
        as_json,
        out,
        lambda: console.print(
            f"\n[dim]model {out['model']} · {out['prompt_tokens']} in / "
            f"{out['completion_tokens']} out tokens · ${out['cost_usd']:.8f}"
            f" · {out['latency_ms']:.0f} ms[/dim]"
        ),
    )


async def _llm_chat(
    question: str, *, stream: bool, model: str | None, max_tokens: int | None, echo: bool
) -> dict[str, Any]:
    from ai_platform.llm.client import LLMClient
    from ai_platform.llm.pricing import PriceTable
    from ai_platform.llm.simulator import EmbeddedSimulator, SimulatorConfig
    from ai_platform.llm.types import ContentDelta, StreamDone

    settings = _settings()
    sim = (
        EmbeddedSimulator(SimulatorConfig.from_settings(settings))
        if (settings.embedded_simulator)
        else None
    )
    base_url = await sim.start() if sim else settings.llm_base_url
    llm = LLMClient.from_settings(
        settings, base_url=base_url, prices=PriceTable.load(settings.price_table_path)
    )
    messages = [{"role": "user", "content": question}]
    try:
        if stream:
            result = None
            async for event in llm.stream_chat(messages, model=model, max_tokens=max_tokens):
                if isinstance(event, ContentDelta):
                    typer.echo(event.text, nl=False)
                elif isinstance(event, StreamDone):
                    result = event.result
            assert result is not None
        else:
            result = await llm.chat(messages, model=model, max_tokens=max_tokens)
            if echo:
                typer.echo(result.content or "")
    finally:
        await llm.aclose()
        if sim:
            await sim.stop()
    return {
        "answer": result.content,
        "model": result.model,
        "prompt_tokens": result.usage.prompt_tokens,
        "completion_tokens": result.usage.completion_tokens,
        "cost_usd": result.cost_usd,
        "latency_ms": result.latency_ms,
        "ttft_ms": result.ttft_ms,
        "simulated": settings.llm_provider == "simulator",
    }


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
) -> None:
    """Run a research-job worker (arq on REDIS_URL); start as many as you need."""
    from ai_platform.services.research.worker import run_worker

    settings = _settings()
    if not settings.redis_url:
        console.print(
            "[red]REDIS_URL is not set:[/red] without Redis, research jobs run inside "
            "the platform process and no separate worker is needed"
        )
        raise typer.Exit(2)
    run_worker(settings, burst=burst)


@app.command()
def screen(
    eval_set: Annotated[
        bool, typer.Option("--eval", help="Report precision/recall on the shipped labelled set.")
    ] = False,
    threshold: Annotated[float | None, typer.Option(help="Flag at this score or above.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Screen JSON lines {"text": ...} from stdin for prompt injection, one result per line."""
    import sys

    from ai_platform.governance.screening import (
        InjectionDetector,
        evaluate,
        format_report,
        screen_lines,
    )

    chosen = threshold if threshold is not None else _settings().injection_threshold
    if eval_set:
        report = evaluate(threshold=chosen)
        _emit(as_json, report.to_dict(), lambda: typer.echo(format_report(report)))
        return
    screen_lines(sys.stdin, sys.stdout, InjectionDetector(threshold=chosen))


def main() -> None:
    os.environ.setdefault("PYTHONUTF8", "1")
    app()


if __name__ == "__main__":
    main()
