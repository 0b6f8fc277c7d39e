"""What the simulator says, tested on its pure functions (no server)."""

from __future__ import annotations

import base64
import io
import math

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from ai_platform.llm.simulator import embeddings, estimate, grounded, images, replies
from ai_platform.llm.simulator.arguments import Context, fill, sentiment
from ai_platform.llm.simulator.errors import APIError
from ai_platform.llm.simulator.parse import chat_request
from ai_platform.llm.simulator.tools import choose, score

from .conftest import png_data_url


def request(messages: list[dict[str, object]], **extra: object) -> replies.ChatRequest:
    return chat_request({"model": "sim-chat", "messages": messages, **extra}, "sim-chat")


def reply(messages: list[dict[str, object]], **extra: object) -> str:
    draft = replies.compose(request(messages, **extra), 0, 1)
    assert draft.content is not None
    return draft.content


# -- the token estimator -------------------------------------------------------------------


@given(st.text())
def test_pieces_rebuild_the_text_exactly(text: str) -> None:
    assert "".join(estimate.pieces(text)) == text
    assert estimate.count(text) == len(estimate.pieces(text))


def test_estimate_is_near_four_characters_per_token_for_prose() -> None:
    prose = (
        "The platform governs every request with API keys, rate limits and budgets, "
        "then forwards it to a provider and records what it cost in a ledger."
    )
    tokens = estimate.count(prose)
    assert len(prose) / 5.5 < tokens < len(prose) / 3
    assert estimate.count("12345678") == 3  # digits go in groups of three


def test_image_tokens_follow_the_tiling_rule() -> None:
    assert estimate.image_tokens(4000, 3000, "low") == 85
    assert estimate.image_tokens(512, 512) == 85 + 170
    assert estimate.image_tokens(1024, 1024) == 85 + 170 * 4  # scaled to 768x768: 2x2 tiles


# -- embeddings ----------------------------------------------------------------------------


def test_embeddings_are_deterministic_unit_vectors() -> None:
    a = embeddings.embed("Refunds are paid within five days", 512)
    assert a == embeddings.embed("Refunds are paid within five days", 512)
    assert len(a) == 512
    assert math.isclose(embeddings.cosine(a, a), 1.0, rel_tol=1e-9)


def test_shared_words_mean_higher_similarity() -> None:
    query = embeddings.embed("How long do refunds take?", 1536)
    related = embeddings.embed("Refunds take up to five business days.", 1536)
    unrelated = embeddings.embed("The office kitchen closes at noon on Fridays.", 1536)
    assert embeddings.cosine(query, related) > embeddings.cosine(query, unrelated) + 0.3


def test_base64_is_little_endian_float32() -> None:
    vector = embeddings.embed("pack me", 8)
    raw = base64.b64decode(embeddings.to_base64(vector))
    assert len(raw) == 8 * 4
    import struct

    assert list(struct.unpack("<8f", raw)) == pytest.approx(vector, abs=1e-7)


def test_symbol_only_and_token_inputs_still_embed() -> None:
    for item in ("?!", [1, 2, 3]):
        vector = embeddings.embed(item, 16)
        assert math.isclose(sum(x * x for x in vector), 1.0, rel_tol=1e-9)


# -- images --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((255, 0, 0), "red"),
        ((0, 200, 0), "green"),
        ((0, 0, 255), "blue"),
        ((255, 255, 0), "yellow"),
        ((255, 165, 0), "orange"),
        ((128, 0, 128), "purple"),
        ((255, 255, 255), "white"),
        ((0, 0, 0), "black"),
        ((128, 128, 128), "gray"),
        ((0, 255, 255), "cyan"),
        ((255, 182, 193), "pink"),
        ((120, 70, 20), "brown"),
    ],
)
def test_colour_names(rgb: tuple[int, int, int], name: str) -> None:
    assert images.colour_name(*rgb) == name


def test_image_facts_come_from_the_pixels() -> None:
    facts = images.inspect(png_data_url((400, 100), (0, 180, 0), stripe=(250, 250, 250)), "p")
    assert (facts.format, facts.width, facts.height, facts.mode) == ("PNG", 400, 100, "RGB")
    assert facts.dominant == "green"
    shares = dict(facts.colours)
    assert shares["green"] == pytest.approx(0.75, abs=0.05)
    assert shares["white"] == pytest.approx(0.25, abs=0.05)
    assert "400x100" in facts.describe() and "green (75%)" in facts.describe()


def test_jpeg_and_transparency() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (90, 60), (10, 10, 200)).save(buffer, format="JPEG")
    url = "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()
    facts = images.inspect(url, "p")
    assert facts.format == "JPEG" and facts.dominant == "blue"

    buffer = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(buffer, format="PNG")
    url = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    assert images.inspect(url, "p").dominant == "transparent"


def test_remote_images_are_not_fetched_and_garbage_is_refused() -> None:
    remote = images.inspect("https://example.com/cat.png", "p")
    assert "does not fetch" in remote.describe()
    with pytest.raises(APIError) as caught:
        images.inspect("data:image/png;base64,AAAA", "messages[0].content[1].image_url.url")
    assert caught.value.status == 400
    assert caught.value.param == "messages[0].content[1].image_url.url"


# -- grounded answers ----------------------------------------------------------------------

CONTEXT = (
    "Use only the context below and cite it.\n"
    "Context:\n"
    "[1] Refunds are issued to the original payment method. They take five business days.\n"
    "[2] Orders ship from the Leipzig warehouse. Express shipping costs 9 euros.\n"
    "[3] Support is open Monday to Friday.\n"
)


def test_extractive_answer_cites_the_matching_passage() -> None:
    answer = reply(
        [
            {"role": "system", "content": CONTEXT},
            {"role": "user", "content": "How much is express shipping?"},
        ]
    )
    assert answer == "Express shipping costs 9 euros [2]."


def test_context_and_question_in_one_message() -> None:
    answer = reply([{"role": "user", "content": CONTEXT + "\nQuestion: How long do refunds take?"}])
    assert "[1]" in answer and "five business days" in answer
    assert "[2]" not in answer


def test_unanswerable_question_says_so() -> None:
    answer = reply(
        [
            {"role": "system", "content": CONTEXT},
            {"role": "user", "content": "Who won the chess final?"},
        ]
    )
    assert answer == grounded.NOT_FOUND


# -- tools and arguments -------------------------------------------------------------------

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["city", "unit"],
        },
    },
}
EMAIL = {
    "type": "function",
    "function": {
        "name": "send_email",
        "description": "Send an email message to a recipient",
        "parameters": {
            "type": "object",
            "properties": {
                "to": {"type": "string", "format": "email"},
                "subject": {"type": "string"},
            },
            "required": ["to", "subject"],
        },
    },
}


def test_the_best_overlapping_tool_is_chosen_with_arguments() -> None:
    req = request(
        [{"role": "user", "content": "What's the weather in San Francisco in fahrenheit?"}],
        tools=[EMAIL, WEATHER],
    )
    draft = replies.compose(req, 0, 1)
    assert draft.content is None
    call = draft.tool_calls[0]
    assert call.name == "get_weather"
    assert call.arguments == '{"city":"San Francisco","unit":"fahrenheit"}'


def test_required_enum_falls_back_to_its_first_value() -> None:
    req = request([{"role": "user", "content": "Weather in Oslo?"}], tools=[WEATHER])
    call = replies.compose(req, 0, 1).tool_calls[0]
    assert call.arguments == '{"city":"Oslo","unit":"celsius"}'


def test_email_arguments() -> None:
    req = request(
        [
            {
                "role": "user",
                "content": "Send an email to bo@example.org with subject Invoice overdue",
            }
        ],
        tools=[WEATHER, EMAIL],
    )
    call = replies.compose(req, 0, 1).tool_calls[0]
    assert call.name == "send_email"
    assert call.arguments == '{"to":"bo@example.org","subject":"Invoice overdue"}'


def test_tool_scores() -> None:
    tools = request([{"role": "user", "content": "x"}], tools=[WEATHER, EMAIL]).tools
    assert score(tools[0], "weather tomorrow") >= 2
    assert score(tools[0], "knit a scarf") == 0
    assert choose(tools, "knit a scarf", required=False) is None
    assert choose(tools, "knit a scarf", required=True) is not None


def test_fill_handles_nested_objects_numbers_and_patterns() -> None:
    schema = {
        "type": "object",
        "properties": {
            "ticket": {"type": "string", "pattern": "^TCK-[0-9]{4}$"},
            "refund": {
                "type": "object",
                "properties": {"amount": {"type": "number"}, "currency": {"enum": ["EUR", "USD"]}},
                "required": ["amount", "currency"],
            },
            "urgent": {"type": "boolean"},
        },
        "required": ["ticket", "refund"],
    }
    ctx = Context("Ticket TCK-0042: refund amount 19.90 in USD")
    assert fill(schema, ctx) == {
        "ticket": "TCK-0042",
        "refund": {"amount": 19.9, "currency": "USD"},
    }


def test_sentiment_lexicon_with_negation() -> None:
    assert sentiment("I love it, fast delivery") == "positive"
    assert sentiment("The item arrived broken") == "negative"
    assert sentiment("It was not good") == "negative"
    assert sentiment("The box is blue") == "neutral"


# -- other replies -------------------------------------------------------------------------


def test_echo_instruction() -> None:
    assert reply([{"role": "user", "content": "Repeat exactly: The quick brown fox."}]) == (
        "The quick brown fox."
    )


def test_label_choice() -> None:
    system = "Classify the customer's message into one of: billing, shipping, technical, other."
    assert (
        reply(
            [
                {"role": "system", "content": system},
                {"role": "user", "content": "My shipping label is wrong"},
            ]
        )
        == "shipping"
    )
    assert (
        reply(
            [{"role": "system", "content": system}, {"role": "user", "content": "I like turtles"}]
        )
        == "other"
    )
    moods = "Answer with one of: positive, negative, neutral."
    assert (
        reply(
            [
                {"role": "system", "content": moods},
                {"role": "user", "content": "Terrible, it broke"},
            ]
        )
        == "negative"
    )


def test_generic_reply_is_deterministic_and_on_topic() -> None:
    text = "How should I index a PostgreSQL table for range queries?"
    first = replies.generic(text)
    assert first == replies.generic(text)
    assert "PostgreSQL table" in first
    assert replies.generic(text, 1) != first
    assert replies.generic("hi!") == "Hello! How can I help you today?"


def test_requested_lengths_are_honoured() -> None:
    essay = replies.generic("Write a 120 word essay about lighthouses")
    assert len(essay.split()) == 120
    listed = replies.generic("Give me 4 tips for faster pytest runs")
    assert [line[:2] for line in listed.splitlines()[1:]] == ["1.", "2.", "3.", "4."]


def test_json_keys_named_in_the_prompt() -> None:
    messages = request(
        [{"role": "user", "content": 'Return JSON like {"name": ..., "age": ...} for: Ada, 36'}]
    ).messages
    assert replies.json_keys(messages) == ["name", "age"]


def test_untrusted_delimiters_are_markup_not_schema_values() -> None:
    from ai_platform.governance.guardrails import wrap_untrusted

    schema = {
        "type": "json_schema",
        "json_schema": {
            "name": "review",
            "schema": {
                "type": "object",
                "properties": {"issues": {"type": "array", "items": {"type": "string"}}},
                "required": ["issues"],
            },
        },
    }
    plain = "Unused items can be returned within 60 days [1]."
    wrapped = wrap_untrusted(plain, "writer")
    assert 'source="writer"' in wrapped
    data = orjson.loads(
        reply([{"role": "user", "content": f"Report:\n{wrapped}"}], response_format=schema)
    )
    assert data["issues"] == []
    # The data inside the delimiters is still read: a quoted claim in it is an item.
    quoted = wrap_untrusted('The report says "refunds take 5 days".', "writer")
    data = orjson.loads(reply([{"role": "user", "content": quoted}], response_format=schema))
    assert data["issues"] == ["refunds take 5 days"]
