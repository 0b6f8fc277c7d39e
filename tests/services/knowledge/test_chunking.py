"""Chunking: size bound, overlap, paragraph and sentence boundaries, nothing lost."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_platform.services.knowledge.chunking import chunk_text, normalise


def sentence(i: int) -> str:
    return f"Sentence number {i} talks about tents and trail number {i}."


def test_short_text_is_one_chunk() -> None:
    assert chunk_text("Hello there.\n\nSecond paragraph.") == ["Hello there.\n\nSecond paragraph."]


def test_empty_text_has_no_chunks() -> None:
    assert chunk_text("  \n\n \t") == []


def test_chunks_respect_size_and_overlap_on_sentence_boundaries() -> None:
    text = " ".join(sentence(i) for i in range(60))
    chunks = chunk_text(text, size=300, overlap=80)
    assert len(chunks) > 5
    assert all(len(c) <= 300 for c in chunks)
    for chunk in chunks:
        # Every chunk starts at a sentence start and ends at a sentence end.
        assert chunk.startswith("Sentence number")
        assert chunk.endswith(".")
    for previous, current in itertools.pairwise(chunks):
        last_sentence = re.findall(r"Sentence number \d+ [^.]*\.", previous)[-1]
        assert current.startswith(last_sentence), "the next chunk repeats the boundary sentence"


def test_every_sentence_is_in_some_chunk() -> None:
    sentences = [sentence(i) for i in range(80)]
    chunks = chunk_text(" ".join(sentences), size=250, overlap=60)
    for s in sentences:
        assert any(s in c for c in chunks), s


def test_paragraph_breaks_are_kept_and_preferred() -> None:
    para_a = "Alpha one. Alpha two. Alpha three."
    para_b = "Beta one. Beta two."
    # Greedy packing would end the first chunk with "Beta one."; the paragraph fits in
    # a chunk of its own, so it moves there whole.
    chunks = chunk_text(f"{para_a}\n\n{para_b}", size=45, overlap=0)
    assert chunks == [para_a, para_b]
    overlapped = chunk_text(f"{para_a}\n\n{para_b}", size=45, overlap=15)
    assert overlapped == [para_a, f"Alpha three.\n\n{para_b}"]
    joined = chunk_text(f"{para_a}\n\n{para_b}", size=500, overlap=0)
    assert joined == [f"{para_a}\n\n{para_b}"]


def test_markdown_heading_starts_a_paragraph_and_stays_with_it() -> None:
    chunks = chunk_text("Intro text here.\n# Care\nWash cold.\n- dry low", size=1000, overlap=0)
    assert chunks == ["Intro text here.\n\n# Care\n\nWash cold.\n\n- dry low"]
    split = chunk_text("Intro text here, rather long.\n# Care\nWash cold.", size=40, overlap=0)
    assert split == ["Intro text here, rather long.", "# Care\n\nWash cold."]


def test_overlong_sentence_and_word_are_split() -> None:
    words = " ".join(f"word{i}" for i in range(200))
    chunks = chunk_text(words, size=100, overlap=20)
    assert all(len(c) <= 100 for c in chunks)
    assert "word0" in chunks[0] and "word199" in chunks[-1]
    giant = chunk_text("x" * 250, size=100, overlap=0)
    assert giant == ["x" * 100, "x" * 100, "x" * 50]


def test_normalise_line_endings_and_blank_runs() -> None:
    assert normalise("a  \r\nb\r\n\r\n\r\n\r\nc\x00") == "a\nb\n\nc"


def test_invalid_sizes_are_refused() -> None:
    with pytest.raises(ValueError):
        chunk_text("x", size=100, overlap=100)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet=st.sampled_from("abcdefgh XYZ.!?\n"), min_size=0, max_size=400),
        max_size=12,
    ),
    st.integers(min_value=40, max_value=400),
)
def test_property_bounded_chunks_cover_every_word(parts: list[str], size: int) -> None:
    text = "\n\n".join(parts)
    chunks = chunk_text(text, size=size, overlap=size // 4)
    assert all(0 < len(c) <= size for c in chunks)
    words_in_chunks = set(" ".join(chunks).split())
    for word in normalise(text).split():
        if len(word) <= size:
            assert word in words_in_chunks
