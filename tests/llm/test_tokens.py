"""The offline token estimator: exact values of the documented heuristic."""

from __future__ import annotations

import pytest

from ai_platform.llm.images import image_part
from ai_platform.llm.simulator import estimate
from ai_platform.llm.simulator.images import ImageFacts
from ai_platform.llm.tokens import (
    estimate_messages_tokens,
    estimate_text_tokens,
    image_tokens,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("a", 2),  # chars: ceil(1/4)=1; words: ceil(1.3)=2
        ("hello world", 3),  # chars: ceil(11/4)=3; words: ceil(2*1.3)=3
        ("x" * 400, 100),  # one long "word": chars win
        ("a b c d e f g h i j", 13),  # 19 chars -> 5; 10 words -> 13: words win
        ("日本語のテキスト", 8),  # every non-ASCII character counts as one
        ("café", 2),  # 3 ASCII chars / 4 + 1
    ],
)
def test_text_estimate(text: str, expected: int) -> None:
    assert estimate_text_tokens(text) == expected


def test_text_estimate_grows_with_text() -> None:
    short = estimate_text_tokens("The quick brown fox.")
    assert estimate_text_tokens("The quick brown fox. " * 10) > 8 * short


def test_messages_overhead() -> None:
    # 3 priming + per message 3 + content
    assert estimate_messages_tokens([]) == 3
    assert estimate_messages_tokens([{"role": "user", "content": ""}]) == 6
    assert estimate_messages_tokens([{"role": "user", "content": "hello world"}]) == 9
    two = [
        {"role": "system", "content": "hello world"},
        {"role": "user", "content": "hello world"},
    ]
    assert estimate_messages_tokens(two) == 3 + 2 * (3 + 3)


def test_name_adds_one_plus_its_text() -> None:
    base = estimate_messages_tokens([{"role": "user", "content": "hi"}])
    named = estimate_messages_tokens([{"role": "user", "content": "hi", "name": "ann"}])
    assert named == base + 1 + 2  # "ann": one word -> ceil(1.3)


def test_image_parts_cost_a_fixed_amount_by_detail() -> None:
    text = {"type": "text", "text": "what is this?"}  # 13 chars -> 4; 3 words -> 4
    low = [{"role": "user", "content": [text, image_part(b"\x89PNG", "image/png", "low")]}]
    high = [{"role": "user", "content": [text, image_part(b"\x89PNG", "image/png", "high")]}]
    auto = [{"role": "user", "content": [text, image_part(b"\x89PNG" * 10_000, "image/png")]}]
    assert estimate_messages_tokens(low) == 3 + 3 + 4 + 85
    assert estimate_messages_tokens(high) == 3 + 3 + 4 + 765
    # The size of the inline image data does not count as text.
    assert estimate_messages_tokens(auto) == 3 + 3 + 4 + 765


@pytest.mark.parametrize(
    ("size", "detail", "expected"),
    [
        ((1024, 1024), "high", 765),  # 768x768 -> 2x2 tiles
        ((2048, 4096), "high", 1105),  # 1024x2048 -> 768x1536 -> 2x3 tiles
        ((512, 512), "high", 255),  # one tile
        ((4000, 3000), "low", 85),
    ],
)
def test_image_tokens_from_size(size: tuple[int, int], detail: str, expected: int) -> None:
    assert image_tokens(*size, detail=detail) == expected


def test_tools_and_tool_calls_count() -> None:
    messages = [{"role": "user", "content": "weather in Paris?"}]
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
    assert estimate_messages_tokens(messages, tools=[tool]) > estimate_messages_tokens(messages)
    with_call = [
        *messages,
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},
    ]
    assert estimate_messages_tokens(with_call) > estimate_messages_tokens(messages) + 2 * 3


def test_the_simulator_prices_images_with_the_same_rule() -> None:
    """One tiling rule: the simulator's usage and the gateway's estimate agree."""
    assert estimate.image_tokens is image_tokens
    for detail in ("low", "high", "auto"):
        facts = ImageFacts("PNG", 2048, 4096, "RGB", ())
        assert facts.tokens(detail) == image_tokens(2048, 4096, detail)
    # A remote image is not fetched, so its size is unknown: the low-detail price.
    remote = ImageFacts("remote", 0, 0, "", (), remote_url="https://example.com/a.png")
    assert remote.tokens("high") == estimate.IMAGE_LOW_TOKENS == 85
    with pytest.raises(ValueError):
        image_tokens(0, 0, "high")
