"""The price table: resolution of model names, exact cost arithmetic, user overrides."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from ai_platform.llm.pricing import ModelPrice, PriceTable, PriceTableError

REQUIRED_MODELS = [
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "o1",
    "o3",
    "o3-mini",
    "o4-mini",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "text-embedding-ada-002",
]


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def test_bundled_table_prices_every_required_model_with_source_and_date(table: PriceTable) -> None:
    for name in REQUIRED_MODELS:
        price = table.price_for(name)
        assert price.known, name
        assert price.model == name
        assert price.source == "https://openai.com/api/pricing"
        assert price.as_of is not None and len(price.as_of) == 10
        assert price.context_window and price.context_window > 0


@pytest.mark.parametrize(
    ("model", "input_", "cached", "output"),
    [
        ("gpt-4o", "2.50", "1.25", "10.00"),
        ("gpt-4o-mini", "0.15", "0.075", "0.60"),
        ("gpt-4.1", "2.00", "0.50", "8.00"),
        ("gpt-4.1-mini", "0.40", "0.10", "1.60"),
        ("gpt-4.1-nano", "0.10", "0.025", "0.40"),
        ("o1", "15.00", "7.50", "60.00"),
        ("o3", "2.00", "0.50", "8.00"),
        ("o3-mini", "1.10", "0.55", "4.40"),
        ("o4-mini", "1.10", "0.275", "4.40"),
        ("text-embedding-3-small", "0.02", None, "0"),
        ("text-embedding-3-large", "0.13", None, "0"),
        ("text-embedding-ada-002", "0.10", None, "0"),
    ],
)
def test_published_prices(
    table: PriceTable, model: str, input_: str, cached: str | None, output: str
) -> None:
    price = table.price_for(model)
    assert price.input_per_mtok == Decimal(input_)
    assert price.cached_input_per_mtok == (None if cached is None else Decimal(cached))
    assert price.output_per_mtok == Decimal(output)


@pytest.mark.parametrize(
    ("name", "resolved"),
    [
        ("gpt-4o-2024-08-06", "gpt-4o"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
        ("gpt-4.1-nano-2025-04-14", "gpt-4.1-nano"),
        ("o3-mini-2025-01-31", "o3-mini"),
        ("gpt-3.5-turbo-0125", "gpt-3.5-turbo"),
        ("GPT-4o", "gpt-4o"),
        ("openai/gpt-4.1", "gpt-4.1"),
        ("sim-chat", "gpt-4o-mini"),
        ("sim-embed", "text-embedding-3-small"),
        ("gpt-35-turbo", "gpt-3.5-turbo"),
        ("o3-pro", "o3-pro"),
        ("gpt-4-0613", "gpt-4"),
    ],
)
def test_names_resolve(table: PriceTable, name: str, resolved: str) -> None:
    assert table.resolve(name) == resolved
    assert table.price_for(name).known


@pytest.mark.parametrize(
    "name", ["gpt-4o-audio-preview", "o3-deep-research", "llama3.1:8b", "gpt-4.5", "my-deployment"]
)
def test_only_dated_snapshots_resolve_by_prefix(table: PriceTable, name: str) -> None:
    # "o3-deep-research" must not be priced as o3: suffixes other than dates change the price.
    assert table.resolve(name) is None


def test_unknown_model_gets_the_flagged_fallback_price(table: PriceTable) -> None:
    price = table.price_for("llama3.1:8b")
    assert price.known is False
    assert price.model == "llama3.1:8b"
    fallback = table.price_for(table.fallback_model)
    assert (price.input_per_mtok, price.output_per_mtok) == (
        fallback.input_per_mtok,
        fallback.output_per_mtok,
    )
    assert table.cost_usd("llama3.1:8b", 1000, 1000) == table.cost_usd("gpt-4o", 1000, 1000)


def test_cost_exact_values(table: PriceTable) -> None:
    # 1000 * 2.50 + 500 * 10.00 = 7500 per 1M
    assert table.cost_usd("gpt-4o", 1000, 500) == 0.0075
    # (1034 * 0.15 + 200 * 0.075 + 567 * 0.60) / 1M = 510.3 / 1M
    assert table.cost_decimal("gpt-4o-mini", 1234, 567, 200) == Decimal("0.0005103000")
    assert table.cost_usd("gpt-4o-mini-2024-07-18", 1234, 567, 200) == 0.0005103
    # (900 * 1.10 + 100 * 0.275 + 2000 * 4.40) / 1M = (990 + 27.5 + 8800) / 1M
    assert table.cost_decimal("o4-mini", 1000, 2000, 100) == Decimal("0.0098175000")
    # 1 token of gpt-4.1-nano each way: (0.10 + 0.40) / 1M
    assert table.cost_usd("gpt-4.1-nano", 1, 1) == 5e-7
    # embeddings: input only
    assert table.cost_usd("text-embedding-3-small", 1_000_000, 0) == 0.02
    assert table.cost_usd("text-embedding-3-large", 12_345, 0) == 0.00160485
    # o1: a million of each
    assert table.cost_usd("o1", 1_000_000, 1_000_000) == 75.0
    assert table.cost_usd("sim-chat", 0, 0) == 0.0


def test_cached_tokens_without_a_cached_price_cost_the_input_price(table: PriceTable) -> None:
    assert table.cost_usd("gpt-4-turbo", 1000, 0, cached_tokens=400) == table.cost_usd(
        "gpt-4-turbo", 1000, 0
    )


def test_cached_tokens_are_capped_at_the_prompt(table: PriceTable) -> None:
    assert table.cost_usd("gpt-4o", 100, 0, cached_tokens=500) == table.cost_usd(
        "gpt-4o", 100, 0, cached_tokens=100
    )
    assert table.cost_usd("gpt-4o", 100, 0, cached_tokens=100) == 0.000125


def test_negative_tokens_are_refused(table: PriceTable) -> None:
    with pytest.raises(ValueError, match="prompt_tokens"):
        table.cost_usd("gpt-4o", -1, 0)


def test_max_cost_assumes_no_cache_and_every_output_token(table: PriceTable) -> None:
    # 2000 * 0.15 + 1024 * 0.60 = 914.4 per 1M
    assert table.max_cost_usd("gpt-4o-mini", 2000, 1024) == 0.0009144
    assert table.max_cost_usd("gpt-4o-mini", 2000, 1024) >= table.cost_usd(
        "gpt-4o-mini", 2000, 1024, cached_tokens=2000
    )


def test_rounding_is_half_up_at_ten_places() -> None:
    table = PriceTable.from_dict(
        {"models": {"tiny": {"input": "0.00001", "output": "0.00003"}}, "fallback": "tiny"}
    )
    assert table.cost_decimal("tiny", 4, 0) == Decimal("0E-10")  # 4e-11 rounds down
    assert table.cost_decimal("tiny", 5, 0) == Decimal("1E-10")  # 5e-11 rounds up
    assert table.cost_usd("tiny", 0, 5) == 2e-10  # 1.5e-10 rounds up


def test_user_file_overrides_fields_and_adds_models(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "models": {
                    "gpt-4o": {"input": 2.0},
                    "llama-3.1-8b": {"input": "0.05", "output": "0.08", "context_window": 131072},
                },
                "aliases": {"my-deployment": "gpt-4o"},
            }
        )
    )
    table = PriceTable.load(path)
    gpt4o = table.price_for("gpt-4o")
    assert gpt4o.input_per_mtok == Decimal("2.0")
    assert gpt4o.output_per_mtok == Decimal("10.00")  # kept from the bundled table
    assert gpt4o.source == str(path)  # a changed price is attributed to the file
    assert gpt4o.as_of is None
    assert table.price_for("gpt-4o-mini").source == "https://openai.com/api/pricing"
    assert table.cost_usd("llama-3.1-8b", 1_000_000, 1_000_000) == 0.13
    assert table.price_for("my-deployment").model == "gpt-4o"
    assert table.sources == ("ai_platform/llm/prices.json", str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid JSON"),
        ('{"models": {"x": {"output": 1}}}', "'input'"),
        ('{"models": {"x": {"input": -1, "output": 1}}}', ">= 0"),
        ('{"models": {"x": {"input": "cheap", "output": 1}}}', "not a number"),
        ('{"models": {"x": {"input": 1, "output": 1, "kind": "audio"}}}', "'kind'"),
        ('{"aliases": {"a": "nowhere"}}', "unpriced model"),
        ('{"fallback": "nowhere"}', "fallback"),
    ],
)
def test_bad_user_file_fails_with_a_clear_message(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(PriceTableError, match=message):
        PriceTable.load(path)


def test_missing_user_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(PriceTableError, match=r"nope\.json"):
        PriceTable.load(tmp_path / "nope.json")


def test_as_dict_is_json_ready_and_complete(table: PriceTable) -> None:
    data = table.as_dict()
    encoded = json.loads(json.dumps(data))
    assert encoded["currency"] == "USD"
    assert encoded["fallback"]["model"] == "gpt-4o"
    assert encoded["aliases"]["sim-chat"] == "gpt-4o-mini"
    mini = encoded["models"]["gpt-4o-mini"]
    assert mini == {
        "kind": "chat",
        "input_per_1m": 0.15,
        "cached_input_per_1m": 0.075,
        "output_per_1m": 0.6,
        "context_window": 128000,
        "source": "https://openai.com/api/pricing",
        "as_of": mini["as_of"],
    }
    assert set(REQUIRED_MODELS) <= set(encoded["models"])


def test_model_price_is_immutable(table: PriceTable) -> None:
    price = table.price_for("gpt-4o")
    assert isinstance(price, ModelPrice)
    with pytest.raises(AttributeError):
        price.input_per_mtok = Decimal(0)  # type: ignore[misc]
