"""Ordinary customer-support and policy prose must pass the learned screen.

The demo knowledge base's documents are a benign set the model never trained on:
every one of them, and every chunk ingest would cut from it, must pass the default
detector, and none of their sentences may appear in the training corpus.
"""

from __future__ import annotations

import re

import pytest

from ai_platform.governance.screening import InjectionDetector
from ai_platform.governance.screening.corpus import CORPUS_PATH
from ai_platform.governance.screening.support_prose import FOREIGN, support_documents
from ai_platform.governance.screening.train import load_corpus
from ai_platform.services.knowledge.chunking import chunk_text
from ai_platform.services.knowledge.demo import corpus as demo_corpus

DEMO = demo_corpus()


@pytest.fixture(scope="module")
def detector() -> InjectionDetector:
    return InjectionDetector()


def test_demo_knowledge_base_is_the_expected_unseen_set() -> None:
    assert len(DEMO) == 37
    titles = {doc["title"] for doc in DEMO}
    assert {"Privacy policy", "Email and text message preferences"} <= titles


@pytest.mark.parametrize("doc", DEMO, ids=[str(doc["id"]) for doc in DEMO])
def test_demo_document_and_its_chunks_are_not_flagged(
    detector: InjectionDetector, doc: dict[str, str]
) -> None:
    for part in (doc["text"], *chunk_text(doc["text"])):
        result = detector.screen(part, explain=True)
        assert not result.flagged, (doc["title"], result.to_dict())


def test_demo_sentences_never_reach_the_training_corpus() -> None:
    corpus = "\n".join(row.text.lower() for row in load_corpus(CORPUS_PATH))
    sentences = {
        sentence.strip().lower()
        for doc in DEMO
        for sentence in re.split(r"(?<=[.!?])\s+", doc["text"])
        if len(sentence.strip()) >= 40
    }
    assert len(sentences) > 100
    assert [s for s in sentences if s in corpus] == []


def test_support_prose_is_deterministic_and_varied() -> None:
    first = support_documents(120, seed=3)
    assert first == support_documents(120, seed=3)
    assert first != support_documents(120, seed=4)
    texts = [text for text, _ in first]
    assert len(set(texts)) == len(texts)
    assert {lang for _, lang in first} == {"en", *FOREIGN}
    lengths = {text.count(". ") + 1 for text in texts}
    assert min(lengths) == 1 and max(lengths) >= 6
    words = " ".join(texts).lower()
    for word in ("your", "order", "refund", "account", "email", "never", "data"):
        assert words.count(word) >= 10, word


def test_shipped_corpus_carries_the_support_prose() -> None:
    rows = [r for r in load_corpus(CORPUS_PATH) if r.category == "benign_support_docs"]
    assert len(rows) >= 300
    assert all(r.label == 0 for r in rows)
    assert {r.lang for r in rows} >= {"en", "es", "de", "fr"}
