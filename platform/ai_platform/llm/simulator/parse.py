"""Hand-written validation of request bodies (no model classes on the hot path).

Checks follow the provider's: a missing or mistyped field is a 400 naming the
parameter, in the provider's wording, so client code sees the same errors it would
see in production.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from .errors import APIError, invalid, missing, wrong_type
from .images import ImageFacts

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
MAX_N = 128


@dataclass(slots=True)
class ImagePart:
    url: str
    detail: str
    param: str
    facts: ImageFacts | None = None  # filled in by the app before the reply is composed


@dataclass(slots=True)
class Message:
    role: str
    text: str
    images: list[ImagePart] = field(default_factory=list)
    name: str | None = None
    tool_call_id: str | None = None
    tool_calls: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(slots=True)
class ChatRequest:
    model: str
    messages: list[Message]
    max_tokens: int | None
    n: int
    stream: bool
    include_usage: bool
    tools: list[Tool]
    tool_choice: str  # "auto" | "none" | "required" | "function"
    forced_tool: str | None
    parallel_tool_calls: bool
    response_format: str  # "text" | "json_object" | "json_schema"
    json_schema: dict[str, Any] | None
    stop: list[str]


def load_object(body: bytes) -> dict[str, Any]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise invalid(
            "We could not parse the JSON body of your request. (HINT: This likely means "
            "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
            "payload, but what was sent was not valid JSON.)"
        ) from None
    if not isinstance(data, dict):
        raise wrong_type("body", "an object", data)
    return data


def model_name(data: dict[str, Any]) -> str:
    model = data.get("model")
    if model is None:
        raise missing("model")
    if not isinstance(model, str) or not model:
        raise wrong_type("model", "a string", model)
    return model


def _int(data: dict[str, Any], key: str, low: int, high: int | None = None) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise wrong_type(key, "an integer", value)
    if value < low or (high is not None and value > high):
        bound = f"at least {low}" if high is None else f"between {low} and {high}"
        raise invalid(f"Invalid '{key}': must be {bound}, got {value}.", key, "invalid_value")
    return value


def _number(data: dict[str, Any], key: str, low: float, high: float) -> None:
    value = data.get(key)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise wrong_type(key, "a number", value)
    if not low <= value <= high:
        raise invalid(
            f"Invalid '{key}': decimal above maximum value. Expected a value <= {high:g}, "
            f"but got {value} instead."
            if value > high
            else f"Invalid '{key}': expected a value >= {low:g}, but got {value} instead.",
            key,
            "invalid_value",
        )


def _bool(data: dict[str, Any], key: str) -> bool:
    value = data.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise wrong_type(key, "a boolean", value)
    return value


def chat_request(data: dict[str, Any], model: str) -> ChatRequest:
    raw_messages = data.get("messages")
    if raw_messages is None:
        raise missing("messages")
    if not isinstance(raw_messages, list):
        raise wrong_type("messages", "an array", raw_messages)
    if not raw_messages:
        raise invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, "
            "but got an empty array instead.",
            "messages",
            "empty_array",
        )
    messages = [_message(m, i) for i, m in enumerate(raw_messages)]

    max_tokens = _int(data, "max_completion_tokens", 1)
    if max_tokens is None:
        max_tokens = _int(data, "max_tokens", 1)
    n = _int(data, "n", 1, MAX_N) or 1
    stream = _bool(data, "stream")
    _number(data, "temperature", 0.0, 2.0)
    _number(data, "top_p", 0.0, 1.0)
    _number(data, "presence_penalty", -2.0, 2.0)
    _number(data, "frequency_penalty", -2.0, 2.0)

    include_usage = False
    options = data.get("stream_options")
    if options is not None:
        if not isinstance(options, dict):
            raise wrong_type("stream_options", "an object", options)
        if not stream:
            raise invalid(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "stream_options",
                "invalid_value",
            )
        include_usage = bool(options.get("include_usage"))

    tools = _tools(data.get("tools"))
    tool_choice, forced = _tool_choice(data.get("tool_choice"), tools)
    parallel = data.get("parallel_tool_calls")
    fmt, schema = _response_format(data.get("response_format"))
    if fmt == "json_object" and not any(
        "json" in (m.text or "").lower() for m in messages if m.role != "assistant"
    ):
        raise invalid(
            "'messages' must contain the word 'json' in some form, to use 'response_format' "
            "of type 'json_object'.",
            "messages",
        )
    return ChatRequest(
        model=model,
        messages=messages,
        max_tokens=max_tokens,
        n=n,
        stream=stream,
        include_usage=include_usage,
        tools=tools,
        tool_choice=tool_choice,
        forced_tool=forced,
        parallel_tool_calls=parallel is not False,
        response_format=fmt,
        json_schema=schema,
        stop=_stop(data.get("stop")),
    )


def _message(raw: Any, i: int) -> Message:
    where = f"messages[{i}]"
    if not isinstance(raw, dict):
        raise wrong_type(where, "an object", raw)
    role = raw.get("role")
    if role is None:
        raise missing(f"{where}.role")
    if role not in ROLES:
        raise invalid(
            f"Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', "
            "'function', 'tool', and 'developer'.",
            f"{where}.role",
            "invalid_value",
        )
    content = raw.get("content")
    text = ""
    images: list[ImagePart] = []
    if isinstance(content, str):
        text = content
    elif isinstance(content, list):
        texts: list[str] = []
        for j, part in enumerate(content):
            ppath = f"{where}.content[{j}]"
            if not isinstance(part, dict):
                raise wrong_type(ppath, "an object", part)
            kind = part.get("type")
            if kind in ("text", "input_text", "refusal"):
                value = part.get("text", part.get("refusal"))
                if not isinstance(value, str):
                    raise wrong_type(f"{ppath}.text", "a string", value)
                texts.append(value)
            elif kind == "image_url":
                if role not in ("user", "system", "developer"):
                    raise invalid("Image content parts are only allowed in user messages.", ppath)
                image = part.get("image_url")
                url = image.get("url") if isinstance(image, dict) else image
                if not isinstance(url, str) or not url:
                    raise missing(f"{ppath}.image_url.url")
                detail = image.get("detail", "auto") if isinstance(image, dict) else "auto"
                images.append(ImagePart(url, str(detail), f"{ppath}.image_url.url"))
            else:
                raise invalid(
                    f"Invalid value: '{kind}'. Supported values are: 'text' and 'image_url'.",
                    f"{ppath}.type",
                    "invalid_value",
                )
        text = "\n".join(texts)
    elif content is None:
        if role != "assistant" and role != "function":
            raise missing(f"{where}.content")
    else:
        raise wrong_type(f"{where}.content", "one of a string or array of objects", content)

    tool_calls: list[dict[str, Any]] = []
    if role == "assistant" and raw.get("tool_calls") is not None:
        calls = raw["tool_calls"]
        if not isinstance(calls, list):
            raise wrong_type(f"{where}.tool_calls", "an array", calls)
        tool_calls = [c for c in calls if isinstance(c, dict)]
    tool_call_id = raw.get("tool_call_id")
    if role == "tool" and not isinstance(tool_call_id, str):
        raise missing(f"{where}.tool_call_id")
    name = raw.get("name")
    return Message(
        role=role,
        text=text,
        images=images,
        name=name if isinstance(name, str) else None,
        tool_call_id=tool_call_id if isinstance(tool_call_id, str) else None,
        tool_calls=tool_calls,
    )


def _tools(raw: Any) -> list[Tool]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise wrong_type("tools", "an array", raw)
    tools: list[Tool] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict) or item.get("type", "function") != "function":
            raise invalid(f"Invalid 'tools[{i}]': expected a function tool.", f"tools[{i}]")
        fn = item.get("function")
        if not isinstance(fn, dict):
            raise missing(f"tools[{i}].function")
        name = fn.get("name")
        if not isinstance(name, str) or not name:
            raise missing(f"tools[{i}].function.name")
        params = fn.get("parameters") or {}
        if not isinstance(params, dict):
            raise wrong_type(f"tools[{i}].function.parameters", "an object", params)
        description = fn.get("description") or ""
        tools.append(Tool(name, description if isinstance(description, str) else "", params))
    return tools


def _tool_choice(raw: Any, tools: list[Tool]) -> tuple[str, str | None]:
    if raw is None:
        return ("auto" if tools else "none"), None
    if isinstance(raw, str):
        if raw not in ("auto", "none", "required"):
            raise invalid(
                f"Invalid value: '{raw}'. Supported values are: 'none', 'auto', and 'required'.",
                "tool_choice",
                "invalid_value",
            )
        if raw != "none" and not tools:
            raise invalid(
                "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' "
                "are specified.",
                "tool_choice",
            )
        return raw, None
    if isinstance(raw, dict):
        fn = raw.get("function")
        name = fn.get("name") if isinstance(fn, dict) else None
        if not isinstance(name, str):
            raise missing("tool_choice.function.name")
        if name not in {t.name for t in tools}:
            raise invalid(
                f"Invalid value for 'tool_choice': tool '{name}' is not among 'tools'.",
                "tool_choice",
            )
        return "function", name
    raise wrong_type("tool_choice", "a string or object", raw)


def _response_format(raw: Any) -> tuple[str, dict[str, Any] | None]:
    if raw is None:
        return "text", None
    if not isinstance(raw, dict):
        raise wrong_type("response_format", "an object", raw)
    kind = raw.get("type")
    if kind in ("text", "json_object"):
        return str(kind), None
    if kind == "json_schema":
        spec = raw.get("json_schema")
        if not isinstance(spec, dict):
            raise missing("response_format.json_schema")
        schema = spec.get("schema")
        return "json_schema", schema if isinstance(schema, dict) else {}
    raise invalid(
        f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object' and 'json_schema'.",
        "response_format.type",
        "invalid_value",
    )


def _stop(raw: Any) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if raw else []
    if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
        if len(raw) > 4:
            raise invalid("Invalid 'stop': at most 4 stop sequences.", "stop")
        return [s for s in raw if s]
    raise wrong_type("stop", "a string or array of strings", raw)


@dataclass(slots=True)
class EmbeddingRequest:
    model: str
    inputs: list[str | list[int]]
    dimensions: int | None
    encoding: str


def embedding_request(data: dict[str, Any], model: str) -> EmbeddingRequest:
    raw = data.get("input")
    if raw is None:
        raise missing("input")
    inputs: list[str | list[int]]
    if isinstance(raw, str):
        inputs = [raw]
    elif isinstance(raw, list) and raw and all(isinstance(x, int) for x in raw):
        inputs = [list(raw)]
    elif isinstance(raw, list):
        if not raw:
            raise invalid("'$.input' is invalid. Please check the API reference.", "input")
        inputs = []
        for item in raw:
            if isinstance(item, str) or (
                isinstance(item, list) and item and all(isinstance(x, int) for x in item)
            ):
                inputs.append(item)
            else:
                raise invalid("'$.input' is invalid. Please check the API reference.", "input")
        if len(inputs) > 2048:
            raise invalid("'$.input' is too long: at most 2048 inputs per request.", "input")
    else:
        raise wrong_type("input", "a string or array", raw)
    if any(isinstance(x, str) and not x for x in inputs):
        raise invalid("'$.input' is invalid. Please check the API reference.", "input")
    dimensions = _int(data, "dimensions", 1, 8192)
    encoding = data.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise invalid(
            f"Invalid value: '{encoding}'. Supported values are: 'float' and 'base64'.",
            "encoding_format",
            "invalid_value",
        )
    return EmbeddingRequest(model, inputs, dimensions, str(encoding))


__all__ = [
    "APIError",
    "ChatRequest",
    "EmbeddingRequest",
    "ImagePart",
    "Message",
    "Tool",
    "chat_request",
    "embedding_request",
    "load_object",
    "model_name",
]
