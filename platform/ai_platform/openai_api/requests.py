"""Reading OpenAI request bodies: checked by hand, once, with orjson.

Only what governance needs is checked closely (model, messages and the text in them,
the output ceiling, streaming options); every other field travels to the provider
untouched, so parameters newer than this code still work. A body that fails a check
is refused with the field named, before anything is counted or billed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ai_platform.llm.tokens import estimate_messages_tokens, estimate_text_tokens
from ai_platform.openai_api.errors import OpenAIRequestError

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
SCREENED_ROLES = frozenset({"user", "tool", "function"})
"""Text from outside the platform's own prompts: what a person or a tool wrote."""
MAX_MESSAGES = 1000
MAX_EMBEDDING_INPUTS = 2048
MAX_N = 16
MAX_MODEL_CHARS = 256


@dataclass(slots=True)
class ChatRequest:
    params: dict[str, Any]
    """The body to forward: the caller's, with an output ceiling always set."""
    model: str
    stream: bool
    wants_usage: bool
    """The caller asked for the usage chunk (``stream_options.include_usage``)."""
    screened: list[str]
    """User and tool-result text, in order, for the injection screen."""
    prompt_tokens: int
    max_output: int
    """What the budget reserves for: the ceiling times ``n``."""


@dataclass(slots=True)
class EmbeddingRequest:
    params: dict[str, Any]
    model: str
    prompt_tokens: int


def _object(body: bytes) -> dict[str, Any]:
    if not body:
        raise OpenAIRequestError("the request body is empty; send a JSON object")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise OpenAIRequestError(f"the request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise OpenAIRequestError("the request body must be a JSON object")
    return data


def _model(data: dict[str, Any], default: str | None) -> str:
    model = data.get("model", default)
    if not isinstance(model, str) or not model.strip():
        raise OpenAIRequestError("'model' is required and must be a string", param="model")
    if len(model) > MAX_MODEL_CHARS or "\x00" in model:
        raise OpenAIRequestError("'model' is not a model name", param="model")
    return model


def _positive_int(data: dict[str, Any], name: str, *, limit: int | None = None) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise OpenAIRequestError(f"'{name}' must be a positive integer", param=name)
    if limit is not None and value > limit:
        raise OpenAIRequestError(f"'{name}' must be at most {limit}", param=name)
    return value


def _texts(content: Any, where: str) -> list[str]:
    """The text parts of a message's content (a string, or a list of parts)."""
    if content is None:
        return []
    if isinstance(content, str):
        if "\x00" in content:
            raise OpenAIRequestError(f"{where} contains a NUL character", param=where)
        return [content]
    if not isinstance(content, list):
        raise OpenAIRequestError(f"{where} must be a string or a list of parts", param=where)
    texts = []
    for part in content:
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise OpenAIRequestError(f"{where}: each part needs a 'type'", param=where)
        if part["type"] == "text":
            text = part.get("text")
            if not isinstance(text, str):
                raise OpenAIRequestError(f"{where}: a text part needs 'text'", param=where)
            if "\x00" in text:
                raise OpenAIRequestError(f"{where} contains a NUL character", param=where)
            texts.append(text)
    return texts


def parse_chat(
    body: bytes, *, default_model: str, default_ceiling: int, max_message_chars: int
) -> ChatRequest:
    data = _object(body)
    model = _model(data, default_model)
    data["model"] = model
    messages = data.get("messages")
    if not isinstance(messages, list) or not messages:
        raise OpenAIRequestError("'messages' must be a non-empty list", param="messages")
    if len(messages) > MAX_MESSAGES:
        raise OpenAIRequestError(f"at most {MAX_MESSAGES} messages", param="messages")
    screened: list[str] = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise OpenAIRequestError(f"{where} must be an object", param=where)
        role = message.get("role")
        if role not in ROLES:
            raise OpenAIRequestError(
                f"{where}.role must be one of {', '.join(sorted(ROLES))}", param=f"{where}.role"
            )
        texts = _texts(message.get("content"), f"{where}.content")
        if sum(len(t) for t in texts) > max_message_chars:
            raise OpenAIRequestError(
                f"{where}.content is longer than {max_message_chars} characters",
                param=f"{where}.content",
            )
        if role in SCREENED_ROLES:
            screened.extend(texts)
    tools = data.get("tools")
    if tools is not None and not isinstance(tools, list):
        raise OpenAIRequestError("'tools' must be a list", param="tools")
    n = _positive_int(data, "n", limit=MAX_N) or 1
    completion = _positive_int(data, "max_completion_tokens")
    legacy = _positive_int(data, "max_tokens")
    ceiling = completion or legacy
    if ceiling is None:
        # The reservation must bound what the provider may produce: an uncapped call
        # could cost more than the budget held for it.
        ceiling = default_ceiling
        data["max_tokens"] = ceiling
    stream = data.get("stream", False)
    if not isinstance(stream, bool):
        raise OpenAIRequestError("'stream' must be a boolean", param="stream")
    options = data.get("stream_options")
    if options is not None and not isinstance(options, dict):
        raise OpenAIRequestError("'stream_options' must be an object", param="stream_options")
    wants_usage = bool(options and options.get("include_usage"))
    return ChatRequest(
        params=data,
        model=model,
        stream=stream,
        wants_usage=wants_usage,
        screened=screened,
        prompt_tokens=estimate_messages_tokens(messages, tools=tools),
        max_output=ceiling * n,
    )


def parse_embeddings(body: bytes, *, default_model: str) -> EmbeddingRequest:
    data = _object(body)
    model = _model(data, default_model)
    data["model"] = model
    inputs = data.get("input")
    if isinstance(inputs, str):
        items: list[Any] = [inputs]
    elif isinstance(inputs, list) and inputs:
        items = inputs
    else:
        raise OpenAIRequestError("'input' must be a string or a non-empty list", param="input")
    if len(items) > MAX_EMBEDDING_INPUTS:
        raise OpenAIRequestError(f"at most {MAX_EMBEDDING_INPUTS} inputs", param="input")
    tokens = 0
    for item in items:
        if isinstance(item, str):
            if not item:
                raise OpenAIRequestError("'input' must not contain empty strings", param="input")
            tokens += estimate_text_tokens(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            tokens += 1  # a list of token ids
        elif isinstance(item, list) and all(
            isinstance(t, int) and not isinstance(t, bool) for t in item
        ):
            tokens += len(item)
        else:
            raise OpenAIRequestError(
                "'input' items must be strings or lists of token ids", param="input"
            )
    return EmbeddingRequest(params=data, model=model, prompt_tokens=tokens)
