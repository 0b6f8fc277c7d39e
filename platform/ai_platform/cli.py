"""The ``ai-platform`` command: serve, migrate, manage clients and keys, seed the demo."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

from ai_platform.config import Settings, get_settings

T = TypeVar("T")


class _ArgumentWithoutType(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def _name_placeholders(command: TyperCommand | TyperGroup, ctx: Any) -> None:
    # Typer labels every parameter with its Python type ("<str>", "<bool>"); help reads
    # better with the value's name (CLIENT_ID) and with nothing after a flag.
    for param in command.get_params(ctx):
        if isinstance(param, TyperOption) and param.metavar is None:
            param.metavar = "" if param.is_flag else (param.name or "value").upper()
        elif isinstance(param, TyperArgument) and type(param) is TyperArgument:
            param.__class__ = _ArgumentWithoutType


class _Group(TyperGroup):
    """Names the placeholders of every subcommand it resolves (see above)."""

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if isinstance(command, TyperCommand | TyperGroup):
            _name_placeholders(command, ctx)
        return command

    def format_help(self, ctx: Any, formatter: Any) -> None:
        _name_placeholders(self, ctx)
        super().format_help(ctx, formatter)


def _typer(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True, cls=_Group)


app = typer.Typer(
    help="AI Platform Workbench.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
    cls=_Group,
)
db_app = _typer("Database migrations.")
clients_app = _typer("Clients (tenants).")
keys_app = _typer("API keys.")
app.add_typer(db_app, name="db")
app.add_typer(clients_app, name="clients")
app.add_typer(keys_app, name="keys")

console = Console()
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Machine-readable output (JSON, ISO 8601 times).")
]
ClientIdOpt = Annotated[
    str, typer.Option("--client", metavar="CLIENT_ID", help="Client id (`clients list`).")
]


@dataclass
class _Options:
    debug: bool = False


_options = _Options()


@app.callback()
def _main(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the full traceback when a command fails.")
    ] = False,
) -> None:
    _options.debug = debug


def _settings() -> Settings:
    try:
        return get_settings()
    except Exception as exc:  # pydantic's message names the variable
        console.print(f"[red]invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    return str(value)


def to_json(payload: Any) -> str:
    """JSON for scripts: ISO 8601 times, decimals as numbers."""
    return json.dumps(payload, default=_json_value)


def _emit(as_json: bool, payload: Any, human: Callable[[], None]) -> None:
    if as_json:
        typer.echo(to_json(payload))
    else:
        human()


def _fail(message: str, exc: BaseException) -> NoReturn:
    """One line on stderr and exit 1; the traceback only with ``--debug``."""
    if _options.debug:
        raise exc
    err = Console(stderr=True)
    err.print(f"[red]error:[/red] {message}", highlight=False, markup=True, soft_wrap=True)
    err.print("[dim](rerun with --debug for the full traceback)[/dim]", soft_wrap=True)
    raise typer.Exit(1) from exc


def _explain(exc: Exception, settings: Settings | None, doing: str | None = None) -> str:
    """What went wrong, in one line, naming the setting to check."""
    from ai_platform.db.engine import connection_failure, redact_url
    from ai_platform.db.migrate import migration_failure

    reason = connection_failure(exc)
    redis_error = _redis_failure(exc)
    if redis_error is not None and settings is not None and settings.redis_url:
        return f"cannot reach Redis at {redact_url(settings.redis_url)}: {redis_error} (REDIS_URL)"
    if reason is not None:
        where = redact_url(settings.database_url) if settings is not None else "DATABASE_URL"
        return f"cannot reach the database at {where}: {reason} (DATABASE_URL)"
    prefix = f"{doing} failed" if doing else "failed"
    return f"{prefix}: {migration_failure(exc)}"


def _redis_failure(exc: BaseException) -> str | None:
    try:
        from redis.exceptions import ConnectionError as RedisConnectionError
    except ImportError:  # pragma: no cover - redis is a dependency
        return None
    current: BaseException | None = exc
    while current is not None:
        if isinstance(current, RedisConnectionError):
            return str(current).splitlines()[0] if str(current) else "connection failed"
        current = current.__cause__ or current.__context__
    return None


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


def _run(coro: Awaitable[T], *, doing: str | None = None) -> T:
    from ai_platform.core.errors import AIServiceError

    try:
        return asyncio.run(coro)  # type: ignore[arg-type]
    except AIServiceError as exc:
        console.print(f"[red]{exc.error_code}:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    except typer.Exit:
        raise
    except Exception as exc:
        try:
            settings: Settings | None = get_settings()
        except Exception:
            settings = None
        _fail(_explain(exc, settings, doing), exc)


# The narrowest a wrapped column may get before a table stops being readable.
MIN_WRAPPED_WIDTH = 8


def _show_table(rows: list[dict[str, Any]], columns: dict[str, str], ids: set[str]) -> None:
    """Rows as a table whose ``ids`` columns are never wrapped or cut (they are copied
    into other commands); other columns wrap. A terminal too narrow for that gets one
    record per row instead."""
    widths = {
        key: max((len(_cell(r[key])) for r in rows), default=len(label))
        if key in ids
        else MIN_WRAPPED_WIDTH
        for key, label in columns.items()
    }
    # Borders and padding take 3 characters per column, plus the closing border.
    if rows and sum(widths.values()) + 3 * len(columns) + 1 > console.width:
        for row in rows:
            lines = [f"{label}: {_cell(row[key])}" for key, label in columns.items()]
            typer.echo(lines[0] + "".join(f"\n  {line}" for line in lines[1:]))
        return
    table = Table()
    for key, label in columns.items():
        if key in ids:
            table.add_column(label, no_wrap=True, min_width=widths[key])
        else:
            table.add_column(label, overflow="fold", min_width=min(widths[key], len(label)))
    for row in rows:
        table.add_row(*(_cell(row[key]) for key in columns))
    console.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


class AnnouncingServer(uvicorn.Server):
    """Logs "listening on http://HOST:PORT" through the platform's logger once the
    application has started. uvicorn's own line goes to its ``uvicorn.error`` logger,
    whose level the embedded simulator's server lowers as it starts."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self.servers and self.servers[0].sockets:
            port = self.servers[0].sockets[0].getsockname()[1]
            host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
            logging.getLogger("ai_platform.serve").info(
                "listening on http://%s:%d (API docs at /docs; Ctrl+C stops)", host, port
            )


@app.command()
def serve(
    host: Annotated[str, typer.Option(metavar="HOST", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", help="TCP port.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="Worker processes (metrics are summed); default WEB_CONCURRENCY or 1.",
        ),
    ] = None,
    reload: Annotated[bool, typer.Option(help="Restart on code changes (development).")] = False,
    services: Annotated[
        str | None,
        typer.Option(
            metavar="NAMES",
            help="Serve only these services (comma-separated: knowledge,agent,research,"
            "assistant), behind a gateway; default: the gateway (every service not given "
            "a SERVICES__<NAME>__URL runs in process).",
        ),
    ] = None,
    migrate: Annotated[
        bool,
        typer.Option(
            help="Apply migrations before serving (default MIGRATE_ON_START); in a "
            "deployment run `ai-platform db upgrade` once instead."
        ),
    ] = False,
) -> None:
    """Start the platform with uvicorn (uvloop + httptools).

    Once started, the log says where it listens: "listening on http://HOST:PORT".
    """
    if services is not None:
        from ai_platform.config import parse_service_names

        try:
            names = parse_service_names(services)
        except ValueError as exc:
            console.print(f"[red]--services: {exc}[/red]")
            raise typer.Exit(2) from exc
        # The app is built from settings in each worker: the selection travels in the
        # environment they inherit.
        os.environ["SERVE_SERVICES"] = ",".join(sorted(names))
        get_settings.cache_clear()
    settings = _settings()
    if workers is None:
        concurrency = os.environ.get("WEB_CONCURRENCY", "").strip()
        workers = int(concurrency) if concurrency.isdigit() and int(concurrency) > 0 else 1
    if migrate or settings.migrate_on_start:
        from ai_platform.db.migrate import upgrade

        _run(upgrade(settings.database_url, "heads"), doing="migration")
    if workers > 1:
        from ai_platform.governance.metrics import prepare_multiprocess_dir

        # Each worker writes its metrics to this directory; /metrics sums them.
        prepare_multiprocess_dir()
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "workers": workers,
        "reload": reload,
        "loop": "auto",
        "http": "auto",
        "access_log": False,
        "log_level": settings.log_level.lower(),
    }
    if workers > 1 or reload:
        # The supervising process logs where it listens before it starts the workers.
        uvicorn.run("ai_platform.gateway.app:app", **options)
        return
    server = AnnouncingServer(uvicorn.Config("ai_platform.gateway.app:app", **options))
    # uvicorn shuts down gracefully on Ctrl+C, then raises the signal again for the caller.
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    if not server.started:
        raise typer.Exit(3)  # uvicorn's status for a failed startup


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[
        str, typer.Argument(metavar="REVISION", help="Target revision; all heads by default.")
    ] = "heads",
) -> None:
    """Apply Alembic migrations to DATABASE_URL."""
    from ai_platform.db.engine import redact_url
    from ai_platform.db.migrate import upgrade

    settings = _settings()
    _run(upgrade(settings.database_url, revision), doing="migration")
    console.print(f"database at {redact_url(settings.database_url)} is up to date")


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


CLIENT_COLUMNS = {
    "id": "id",
    "name": "name",
    "rpm_limit": "rpm",
    "tpd_limit": "tokens/day",
    "monthly_budget_usd": "budget USD",
    "active": "active",
}


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A unique name for the client.")],
    rpm: Annotated[
        int | None, typer.Option(metavar="N", help="Requests per minute (default: DEFAULT_RPM).")
    ] = None,
    tpd: Annotated[
        int | None, typer.Option(metavar="N", help="Tokens per day (default: DEFAULT_TPD).")
    ] = None,
    budget_usd: Annotated[
        float | None,
        typer.Option(metavar="USD", help="Monthly budget (default: DEFAULT_MONTHLY_BUDGET_USD)."),
    ] = None,
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
    """List clients with their full ids (what `keys create --client` takes)."""
    from ai_platform.governance.tenants import list_clients

    async def go(session: AsyncSession, _s: Settings) -> list[dict[str, Any]]:
        return [_client_dict(c) for c in await list_clients(session)]

    rows = _run(_in_session(go))
    _emit(
        as_json,
        rows,
        lambda: _show_table(rows, CLIENT_COLUMNS, {"id"}),
    )


@clients_app.command("show")
def clients_show(
    client_id: Annotated[str, typer.Argument(metavar="CLIENT_ID", help="Client id.")],
    as_json: JsonOpt = False,
) -> None:
    """One client, its limits and its keys (prefix only)."""
    from ai_platform.governance.tenants import get_client, list_keys

    async def go(session: AsyncSession, _s: Settings) -> dict[str, Any]:
        client = _client_dict(await get_client(session, client_id))
        client["keys"] = [_key_dict(k) for k in await list_keys(session, client_id)]
        return client

    out = _run(_in_session(go))

    def human() -> None:
        _show_table([out], CLIENT_COLUMNS, {"id"})
        _show_table(out["keys"], KEY_COLUMNS, KEY_IDS)

    _emit(as_json, out, human)


ADMIN_HELP = (
    "Add the admin scope. An admin key is platform-wide, whichever client it belongs to: "
    "it can create, change and deactivate every client, issue, rotate and revoke any "
    "client's keys, and read every client's usage and the price table (/api/v1/admin). "
    "Give it to operators only, never to a tenant."
)


@keys_app.command("create")
def keys_create(
    client: ClientIdOpt,
    admin: Annotated[bool, typer.Option("--admin", help=ADMIN_HELP)] = False,
    name: Annotated[str, typer.Option(metavar="NAME", help="A label for the key.")] = "default",
    expires_days: Annotated[
        int | None, typer.Option(metavar="DAYS", help="Expire after DAYS days (default: never).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Issue an API key. The key is printed once and never stored.

    Without --admin a key calls the services as its client, within its limits and budget.
    """
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
            "expires_at": issued.key.expires_at,
            "key": issued.plaintext,
        }

    out = _run(_in_session(go))

    def human() -> None:
        # Plain echo, not rich: a wrapped key cannot be copied.
        typer.echo(f"key {out['id']} for {client} (scopes: {', '.join(out['scopes'])})")
        if admin:
            typer.echo("admin scope: this key administers every client on the platform")
        typer.echo("shown once:")
        typer.echo(out["key"])

    _emit(as_json, out, human)


def _key_dict(key: Any) -> dict[str, Any]:
    return {
        "id": key.id,
        "prefix": key.prefix,
        "name": key.name,
        "scopes": key.scopes,
        "revoked": key.revoked_at is not None,
        "revoked_at": key.revoked_at,
        "expires_at": key.expires_at,
        "status": _key_status(key),
    }


KEY_COLUMNS = {
    "id": "id",
    "prefix": "prefix",
    "name": "name",
    "scopes": "scopes",
    "status": "status",
}


# The prefix is what the ledger and the logs show of a key: keep it whole too.
KEY_IDS = {"id", "prefix"}


def _key_status(key: Any) -> str:
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None:
        return f"expires {key.expires_at.date().isoformat()}"
    return "active"


@keys_app.command("list")
def keys_list(client: ClientIdOpt, as_json: JsonOpt = False) -> None:
    """List a client's keys (prefix only; the key itself is never stored)."""
    from ai_platform.governance.tenants import list_keys

    async def go(session: AsyncSession, _s: Settings) -> list[dict[str, Any]]:
        return [_key_dict(k) for k in await list_keys(session, client)]

    rows = _run(_in_session(go))
    _emit(
        as_json,
        rows,
        lambda: _show_table(rows, KEY_COLUMNS, KEY_IDS),
    )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(metavar="KEY_ID", help="Key id (`keys list`).")],
    as_json: JsonOpt = False,
) -> None:
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
def demo(
    host: Annotated[
        str, typer.Option(metavar="HOST", help="Where `serve` listens, for the examples.")
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(metavar="PORT", help="Where `serve` listens, for the examples.")
    ] = 8000,
    as_json: JsonOpt = False,
) -> None:
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
    base = f"http://{host}:{port}"

    def human() -> None:
        # Plain echo, not rich: a wrapped key cannot be copied.
        typer.echo(f"demo client {out['client_id']}; API key (also in {key_file}):")
        typer.echo(f"  {key}")
        typer.echo(f"Try it once the server is up on {base}:")
        typer.echo(f"  curl -s -H 'X-API-Key: {key}' {base}/api/v1/me")
        typer.echo(f"  open {base}/docs")

    _emit(as_json, {**out, "base_url": base}, human)


@app.command()
def simulator(
    host: Annotated[str, typer.Option(metavar="HOST", help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(metavar="PORT", help="TCP port.")] = 8100,
    ttft_ms: Annotated[
        float | None, typer.Option(metavar="MS", help="Time to first token (ms).")
    ] = None,
    tokens_per_s: Annotated[
        float | None, typer.Option(metavar="RATE", help="Token rate; 0 = unpaced.")
    ] = None,
    jitter: Annotated[
        float | None, typer.Option(metavar="FRACTION", help="Latency jitter, 0..1.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(metavar="N", help="Random seed (repeatable answers).")
    ] = None,
) -> None:
    """Run the bundled simulator (an OpenAI-compatible stand-in, not a model) on its own."""
    from ai_platform.llm.simulator import SimulatorConfig, serve

    config = SimulatorConfig.from_env()
    overrides = {"ttft_ms": ttft_ms, "tokens_per_s": tokens_per_s, "jitter": jitter, "seed": seed}
    config = config.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    console.print(f"simulator (a stand-in, not a model) on http://{host}:{port}/v1")
    serve(host, port, config, log_level="warning")


llm_app = _typer("Talk to the configured LLM provider.")
app.add_typer(llm_app, name="llm")


@llm_app.command("chat")
def llm_chat(
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="What to ask.")],
    stream: Annotated[bool, typer.Option("--stream", help="Print tokens as they arrive.")] = False,
    model: Annotated[
        str | None, typer.Option("--model", metavar="MODEL", help="Model (default: DEFAULT_MODEL).")
    ] = None,
    max_tokens: Annotated[
        int | None, typer.Option(metavar="N", help="Most tokens in the answer.")
    ] = None,
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
    try:
        run_worker(settings, burst=burst)
    except (KeyboardInterrupt, typer.Exit):
        raise
    except Exception as exc:
        _fail(_explain(exc, settings, "the worker"), exc)


@app.command()
def screen(
    eval_set: Annotated[
        bool,
        typer.Option(
            "--eval",
            help="Report on the held-out labelled set, then measure the learned screen on the"
            " training corpus (validation threshold, leave-one-category/batch-out, calibration).",
        ),
    ] = False,
    threshold: Annotated[float | None, typer.Option(help="Flag at this score or above.")] = None,
    corpus: Annotated[
        Path | None, typer.Option(help="Training corpus JSONL for --eval (default: bundled).")
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Held-out labelled JSONL for --eval (default: bundled).")
    ] = None,
    target_fpr: Annotated[
        float | None, typer.Option(help="FPR the model threshold is chosen for on validation.")
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write the calibration curve PNG here (--eval).")
    ] = None,
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
        from ai_platform.governance.screening.corpus import CORPUS_PATH
        from ai_platform.governance.screening.measure import (
            format_honest_report,
            measure,
            plot_calibration,
        )
        from ai_platform.governance.screening.train import TARGET_FPR

        if target_fpr is not None and not 0.0 <= target_fpr < 1.0:
            raise typer.BadParameter("--target-fpr must be in [0, 1)")
        report = evaluate(data, threshold=chosen)
        honest = measure(
            corpus or CORPUS_PATH,
            target_fpr=target_fpr if target_fpr is not None else TARGET_FPR,
            progress=None if as_json else (lambda line: typer.echo(f"… {line}", err=True)),
        )
        if plot is not None:
            plot_calibration(honest, plot)

        def human() -> None:
            typer.echo(format_report(report))
            typer.echo("")
            typer.echo(format_honest_report(honest))

        _emit(as_json, {"held_out": report.to_dict(), "corpus": honest.to_dict()}, human)
        return
    screen_lines(sys.stdin, sys.stdout, InjectionDetector(threshold=chosen))


def main() -> None:
    os.environ.setdefault("PYTHONUTF8", "1")
    app()


if __name__ == "__main__":
    main()
