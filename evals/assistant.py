"""Multi-modal assistant suite: does the answer name each image's size and colour?

Images are drawn at run time (``images.py``) from the case's spec: format, size, fill
colour. A model sees the image as sent, so a case whose image the platform scales
down (longest side > 2,048 px) states the sent size in ``expected[i].size``.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from evals.images import TestImage, draw
from evals.metrics import mentions_size
from evals.results import CaseResult
from evals.suite import Case, Suite, SuiteContext, from_reply, mean_scores, read_jsonl

ANALYZE = "/api/v1/assistant/analyze"

# Names a model may use for the same colour.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "gray": ("gray", "grey"),
    "purple": ("purple", "violet"),
    "cyan": ("cyan", "turquoise", "teal", "aqua"),
    "pink": ("pink", "magenta"),
}

_drawn: dict[str, list[TestImage]] = {}


def load(suites_dir: Path) -> list[Case]:
    return read_jsonl(suites_dir / "assistant.jsonl")


def images_for(case: Case) -> list[TestImage]:
    key = json.dumps(case["images"], sort_keys=True)
    if key not in _drawn:
        _drawn[key] = [draw(spec, i) for i, spec in enumerate(case["images"])]
    return _drawn[key]


def names_colour(answer: str, colour: str) -> bool:
    text = answer.casefold()
    return any(name in text for name in SYNONYMS.get(colour, (colour,)))


def expected_sizes(case: Case) -> list[tuple[int, int]]:
    sizes = []
    for spec, want in zip(case["images"], case.get("expected") or [], strict=False):
        if want.get("size"):
            w, h = str(want["size"]).lower().split("x")
            sizes.append((int(w), int(h)))
        else:
            sizes.append((int(spec["width"]), int(spec["height"])))
    return sizes


def assistant_scores(case: Case, answer: str) -> dict[str, float]:
    expected = case.get("expected") or []
    sizes = expected_sizes(case)
    colours = [str(e["colour"]) for e in expected if e.get("colour")]
    scores: dict[str, float] = {}
    if sizes:
        scores["size_named"] = sum(mentions_size(answer, w, h) for w, h in sizes) / len(sizes)
    if colours:
        scores["colour_named"] = sum(names_colour(answer, c) for c in colours) / len(colours)
    return scores


async def run_case(ctx: SuiteContext, case: Case) -> CaseResult:
    # The big JPEG takes tens of milliseconds to encode: off the client's event loop.
    images = await asyncio.to_thread(images_for, case)
    files = [("images", (img.filename, img.data, img.content_type)) for img in images]
    reply = await ctx.client.post(ANALYZE, files=files, data={"prompt": case["prompt"]})
    data = reply.data
    if not reply.ok or not isinstance(data, dict):
        return from_reply(ASSISTANT, case, reply, ok=False)
    answer = str(data.get("answer") or "")
    details: dict[str, Any] = {
        "answer": answer[:500],
        "sent": [f"{i.get('sent_width')}x{i.get('sent_height')}" for i in data.get("images") or []],
    }
    return from_reply(
        ASSISTANT, case, reply, scores=assistant_scores(case, answer), details=details
    )


def quality(results: list[CaseResult]) -> dict[str, float]:
    return mean_scores(results, ["size_named", "colour_named"])


ASSISTANT = Suite(
    name="assistant",
    service="assistant",
    endpoint=f"POST {ANALYZE}",
    description="PNG, JPEG and WebP images drawn at run time with a known size and "
    "dominant colour; the answer must name both",
    load=load,
    run_case=run_case,
    quality=quality,
    quality_labels={
        "size_named": "share of the images whose (sent) size the answer states",
        "colour_named": "share of the images whose dominant colour the answer names",
    },
)
