"""Knowledge base suites: retrieval (``/search``) and grounded answers (``/answer``).

Both read ``suites/knowledge_search.jsonl`` (see ``suites/README.md``). A search hit
is matched to a label by the corpus id its document carries in
``metadata.corpus_id``; an answer's citation by its document title.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from evals.metrics import fact_recall, hit_at_k, mrr, ndcg_at_k, recall_at_k, says_unknown
from evals.results import CaseResult
from evals.suite import Case, Suite, SuiteContext, from_reply, mean_scores, read_jsonl

SEARCH = "/api/v1/knowledge/search"
ANSWER = "/api/v1/knowledge/answer"
FILE = "knowledge_search.jsonl"


def load(suites_dir: Path) -> list[Case]:
    return read_jsonl(suites_dir / FILE)


def _with_filters(body: dict[str, Any], case: Case) -> dict[str, Any]:
    if case.get("filters"):
        body["filters"] = case["filters"]
    return body


# -- search ------------------------------------------------------------------------------


def search_scores(ranked: list[str | None], relevant: list[str], k: int) -> dict[str, float]:
    return {
        "hit@1": hit_at_k(ranked, relevant, 1),
        f"recall@{k}": recall_at_k(ranked, relevant, k),
        f"mrr@{k}": mrr(ranked, relevant, k),
        f"ndcg@{k}": ndcg_at_k(ranked, relevant, k),
    }


async def run_search(ctx: SuiteContext, case: Case) -> CaseResult:
    k = ctx.settings.max_results
    body = _with_filters({"query": case["question"], "max_results": k}, case)
    reply = await ctx.client.post(SEARCH, json=body)
    if not reply.ok or not isinstance(reply.data, list):
        return from_reply(KNOWLEDGE_SEARCH, case, reply, ok=False)
    ranked = [(hit.get("metadata") or {}).get("corpus_id") for hit in reply.data]
    relevant = list(case.get("relevant_ids") or [])
    scores = search_scores(ranked, relevant, k) if relevant else {}
    return from_reply(
        KNOWLEDGE_SEARCH,
        case,
        reply,
        scores=scores,
        details={"ranked": ranked, "relevant": relevant, "k": k},
    )


def search_quality(results: list[CaseResult]) -> dict[str, float]:
    names = sorted({name for r in results for name in r.scores})
    return mean_scores(results, names)


KNOWLEDGE_SEARCH = Suite(
    name="knowledge_search",
    service="knowledge",
    endpoint=f"POST {SEARCH}",
    description="Northwind questions with labelled relevant documents; ranked results "
    "scored against the labels",
    load=load,
    run_case=run_search,
    quality=search_quality,
    quality_labels={
        "hit@1": "a relevant document is ranked first",
        "recall@k": "share of the relevant documents among the first k",
        "mrr@k": "1 / rank of the first relevant document (0 if not in the first k)",
        "ndcg@k": "binary-relevance nDCG over the first k documents",
    },
)


# -- answers -----------------------------------------------------------------------------


def answer_scores(case: Case, answer: str, cited_titles: list[str]) -> dict[str, float]:
    if not case.get("answerable", True):
        return {"declined_unanswerable": 1.0 if says_unknown(answer) else 0.0}
    relevant = set(case.get("relevant_titles") or [])
    good = [t for t in cited_titles if t in relevant]
    scores = {
        "cites_relevant": 1.0 if good else 0.0,
        "citation_precision": len(good) / len(cited_titles) if cited_titles else 0.0,
    }
    facts = case.get("expected_facts") or []
    if facts:
        scores["fact_recall"] = fact_recall(answer, facts)
    return scores


async def run_answer(ctx: SuiteContext, case: Case) -> CaseResult:
    body = _with_filters({"question": case["question"]}, case)
    if ctx.settings.model:
        body["model"] = ctx.settings.model
    reply = await ctx.client.post(ANSWER, json=body)
    data = reply.data
    if not reply.ok or not isinstance(data, dict):
        return from_reply(KNOWLEDGE_ANSWER, case, reply, ok=False)
    answer = str(data.get("answer") or "")
    titles = [str(c.get("title")) for c in data.get("citations") or []]
    return from_reply(
        KNOWLEDGE_ANSWER,
        case,
        reply,
        scores=answer_scores(case, answer, titles),
        details={"answer": answer[:500], "cited": titles, "model": data.get("model")},
    )


def answer_quality(results: list[CaseResult]) -> dict[str, float]:
    return mean_scores(
        results, ["fact_recall", "cites_relevant", "citation_precision", "declined_unanswerable"]
    )


KNOWLEDGE_ANSWER = Suite(
    name="knowledge_answer",
    service="knowledge",
    endpoint=f"POST {ANSWER}",
    description="The same questions answered with citations; the answer must contain the "
    "expected facts and cite the labelled documents",
    load=load,
    run_case=run_answer,
    quality=answer_quality,
    quality_labels={
        "fact_recall": "share of the expected facts found in the answer",
        "cites_relevant": "the answer cites at least one labelled document",
        "citation_precision": "share of the citations that are labelled documents",
        "declined_unanswerable": "unanswerable questions answered with 'I don't know'",
    },
)
