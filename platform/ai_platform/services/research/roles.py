"""The four roles of the research team, each one governed LLM call.

- planner: the question → sub-questions (JSON mode; a rule split when the JSON is
  unusable, see ``planner``);
- researcher: one sub-question → knowledge-base passages → an answer citing them;
- writer: the findings → one report: a cited summary, a section per sub-question and
  the merged source list;
- reviewer: the report checked against its sources, by the model (a JSON verdict) and
  by rules that need no model (citations that point nowhere, cited sentences that
  share nothing with their source, sections without sources).

Each role returns a plain dict: it is stored as the step's result and must read back
identically when a re-run job skips the step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ai_platform.governance.context import RequestContext
from ai_platform.governance.guardrails import UNTRUSTED_NOTICE, wrap_untrusted
from ai_platform.services.research.citations import (
    cited,
    invalid_citations,
    merge_sources,
    passage_block,
    renumber,
)
from ai_platform.services.research.config import (
    PASSAGES_PER_SUB_QUESTION,
    PLANNER_MAX_TOKENS,
    RESEARCHER_MAX_TOKENS,
    REVIEWER_MAX_TOKENS,
    WRITER_MAX_TOKENS,
)
from ai_platform.services.research.knowledge import find_passages
from ai_platform.services.research.planner import make_plan, planner_messages

JSON_MODE = {"type": "json_object"}

RESEARCHER_SYSTEM = (
    "You are a researcher on a research team. Answer the question using only the "
    "numbered passages, and cite every claim with its passage number like [1]. If the "
    "passages do not answer the question, say so. " + UNTRUSTED_NOTICE
)
RESEARCHER_UNGROUNDED = (
    "You are a researcher on a research team. The knowledge base has no passages on "
    "this question. Answer in two sentences at most and say that the answer is not "
    "backed by the knowledge base."
)
WRITER_SYSTEM = (
    "You are the writer of a research team. Using only the numbered sources, write a "
    "short summary that answers the question, citing every claim with its source "
    "number like [1]. The findings below are the researchers' answers to its parts. "
    + UNTRUSTED_NOTICE
)
REVIEWER_SYSTEM = (
    "You are the reviewer of a research team. Check every claim of the report against "
    "the numbered sources it cites. Reply with a JSON object: verdict is 'supported' "
    "when every claim is backed by its cited source, else 'unsupported'; issues lists "
    "each unsupported or miscited claim. " + UNTRUSTED_NOTICE
)
REVIEW_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "review",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {
                "verdict": {"type": "string", "enum": ["supported", "unsupported"]},
                "issues": {"type": "array", "items": {"type": "string"}},
            },
            "required": ["verdict", "issues"],
            "additionalProperties": False,
        },
    },
}
MAX_ISSUES = 20


# -- planner -------------------------------------------------------------------------------


async def plan(ctx: RequestContext, question: str, n: int, model: str | None) -> dict[str, Any]:
    result = await ctx.chat(
        planner_messages(question, n),
        model=model,
        max_tokens=PLANNER_MAX_TOKENS,
        response_format=JSON_MODE,
    )
    made = make_plan(result.content, question, n)
    return {"sub_questions": made.sub_questions, "planner": made.source}


# -- researcher ----------------------------------------------------------------------------


def researcher_messages(
    sub_question: str, passages: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    if not passages:
        return [
            {"role": "system", "content": RESEARCHER_UNGROUNDED},
            {"role": "user", "content": sub_question},
        ]
    return [
        {"role": "system", "content": RESEARCHER_SYSTEM},
        {
            "role": "user",
            "content": f"Passages:\n{passage_block(passages)}\n\nQuestion: {sub_question}",
        },
    ]


async def research(
    ctx: RequestContext,
    sessionmaker: async_sessionmaker[AsyncSession],
    index: int,
    sub_question: str,
    model: str | None,
) -> dict[str, Any]:
    async with sessionmaker() as session:
        passages = await find_passages(ctx, session, sub_question, PASSAGES_PER_SUB_QUESTION)
    result = await ctx.chat(
        researcher_messages(sub_question, passages), model=model, max_tokens=RESEARCHER_MAX_TOKENS
    )
    answer = (result.content or "").strip()
    return {
        "index": index,
        "sub_question": sub_question,
        "answer": answer,
        "citations": [n for n in cited(answer) if 1 <= n <= len(passages)],
        "passages": passages,
        "grounded": bool(passages),
    }


# -- writer --------------------------------------------------------------------------------


def writer_messages(
    question: str, sections: Sequence[Mapping[str, Any]], sources: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    # Findings were written from retrieved passages: they are data to the writer too.
    findings = "\n\n".join(
        wrap_untrusted(f"{s['heading']}\n{s['body']}", "researcher") for s in sections
    )
    block = passage_block(sources) if sources else "(none)"
    return [
        {"role": "system", "content": WRITER_SYSTEM},
        {
            "role": "user",
            "content": f"Sources:\n{block}\n\nFindings:\n{findings}\n\nQuestion: {question}",
        },
    ]


def title_for(question: str) -> str:
    text = " ".join(question.split()).rstrip("?.! ")
    return text if len(text) <= 120 else text[:117].rstrip() + "..."


def render_markdown(report: Mapping[str, Any]) -> str:
    parts = [f"# {report['title']}", "", report["summary"], ""]
    for section in report["sections"]:
        parts += [f"## {section['heading']}", "", section["body"], ""]
    parts += ["## Sources", ""]
    if not report["sources"]:
        parts.append("No knowledge-base passages were found.")
    for s in report["sources"]:
        parts.append(f"[{s['number']}] {s['title']} ({s['source']}): {s['snippet']}")
    return "\n".join(parts).rstrip() + "\n"


async def write(
    ctx: RequestContext,
    question: str,
    findings: Sequence[Mapping[str, Any]],
    model: str | None,
) -> dict[str, Any]:
    ordered = sorted(findings, key=lambda f: int(f["index"]))
    merged, mappings = merge_sources(ordered)
    sections = []
    for finding in ordered:
        mapping = mappings[int(finding["index"])]
        sections.append(
            {
                "heading": finding["sub_question"],
                "body": renumber(finding["answer"], mapping),
                "citations": [mapping[n] for n in finding["citations"] if n in mapping],
                "grounded": finding["grounded"],
            }
        )
    result = await ctx.chat(
        writer_messages(question, sections, merged), model=model, max_tokens=WRITER_MAX_TOKENS
    )
    sources = [
        {
            "number": s["number"],
            "document_id": s["document_id"],
            "chunk_id": s["chunk_id"],
            "title": s["title"],
            "source": s["source"],
            "snippet": s["content"],
            "score": s["score"],
        }
        for s in merged
    ]
    report: dict[str, Any] = {
        "title": title_for(question),
        "summary": (result.content or "").strip(),
        "sections": sections,
        "sources": sources,
    }
    report["markdown"] = render_markdown(report)
    return report


# -- reviewer ------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9]{4,}")
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_STOP_WORDS = """that this with from have been were they their there which what when where
your about into than then them these those will would could should does also only more most
other some such very each because while over under after before between"""
_STOP = frozenset(_STOP_WORDS.split())


def _terms(text: str) -> set[str]:
    return {w[:6] for w in _WORD.findall(text.lower()) if w not in _STOP}


def rule_issues(report: Mapping[str, Any]) -> tuple[list[str], int]:
    """Problems found without a model, and how many citations were checked."""
    sources = {int(s["number"]): s for s in report["sources"]}
    issues: list[str] = []
    checked = 0
    texts = [("summary", report["summary"])] + [
        (f"section '{s['heading']}'", s["body"]) for s in report["sections"]
    ]
    for where, text in texts:
        bad = invalid_citations(text, sources)
        if bad:
            issues.append(f"{where} cites sources that do not exist: {bad}")
        for sentence in _SENTENCE.split(text):
            for number in cited(sentence):
                source = sources.get(number)
                if source is None:
                    continue
                checked += 1
                claim = re.sub(r"\[\d+\]", " ", sentence)
                if not _terms(claim) & _terms(f"{source['title']} {source['snippet']}"):
                    issues.append(
                        f"{where}: a sentence cites [{number}] but shares no terms with it"
                    )
    if sources and not cited(report["summary"]):
        issues.append("the summary cites no sources")
    for section in report["sections"]:
        if not section.get("grounded", True):
            issues.append(f"no knowledge-base passages for '{section['heading']}'")
        elif not section["citations"]:
            issues.append(f"section '{section['heading']}' cites no sources")
    return issues, checked


def reviewer_messages(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    block = passage_block([{**s, "content": s["snippet"]} for s in report["sources"]]) or "(none)"
    body = wrap_untrusted(
        report["summary"]
        + "\n\n"
        + "\n\n".join(f"{s['heading']}\n{s['body']}" for s in report["sections"]),
        "writer",
    )
    return [
        {"role": "system", "content": REVIEWER_SYSTEM},
        {"role": "user", "content": f"Sources:\n{block}\n\nReport:\n{body}"},
    ]


def parse_review(content: str | None) -> tuple[str | None, list[str]]:
    """(``supported`` / ``unsupported`` / None when unusable, the model's issues)."""
    try:
        data = json.loads(content or "")
    except ValueError:
        return None, []
    if not isinstance(data, dict):
        return None, []
    verdict = data.get("verdict")
    verdict = verdict.strip().lower() if isinstance(verdict, str) else None
    if verdict not in ("supported", "unsupported"):
        verdict = None
    raw = data.get("issues")
    issues = (
        [" ".join(i.split()) for i in raw if isinstance(i, str) and i.strip()]
        if isinstance(raw, list)
        else []
    )
    return verdict, issues[:MAX_ISSUES]


async def review(
    ctx: RequestContext, report: Mapping[str, Any], model: str | None
) -> dict[str, Any]:
    found, checked = rule_issues(report)
    result = await ctx.chat(
        reviewer_messages(report),
        model=model,
        max_tokens=REVIEWER_MAX_TOKENS,
        response_format=REVIEW_FORMAT,
    )
    model_verdict, model_issues = parse_review(result.content)
    issues = (found + [f"reviewer: {i}" for i in model_issues])[:MAX_ISSUES]
    passed = model_verdict != "unsupported" and not issues
    return {
        "verdict": "pass" if passed else "revise",
        "model_verdict": model_verdict,
        "issues": issues,
        "citations_checked": checked,
    }
