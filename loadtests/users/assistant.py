"""Multi-modal assistant traffic: image uploads with a prompt, and text follow-ups."""

from __future__ import annotations

import io
import random
from functools import lru_cache
from typing import Any

from locust import task
from PIL import Image, ImageDraw

from loadtests.users.base import PlatformUser

PROMPTS = (
    "Describe the image.",
    "What colours are in this picture?",
    "Is this product photo usable for the catalogue?",
    "What size is the image?",
)


@lru_cache(maxsize=1)
def sample_images() -> tuple[tuple[str, bytes, str], ...]:
    """Small product-shot stand-ins: a PNG and a JPEG with two colours each."""
    shots = []
    for name, fmt, mime, colours in (
        ("jacket.png", "PNG", "image/png", ("red", "white")),
        ("tent.jpg", "JPEG", "image/jpeg", ("green", "navy")),
        ("boots.png", "PNG", "image/png", ("saddlebrown", "black")),
    ):
        image = Image.new("RGB", (320, 240), colours[0])
        ImageDraw.Draw(image).rectangle((80, 60, 240, 180), fill=colours[1])
        buffer = io.BytesIO()
        image.save(buffer, fmt)
        shots.append((name, buffer.getvalue(), mime))
    return tuple(shots)


def analysis(data: Any) -> str | None:
    if not isinstance(data, dict) or not isinstance(data.get("answer"), str):
        return "analyze data has no answer"
    return None if data.get("images") else "analyze data describes no images"


class AssistantUser(PlatformUser):
    """One image 4 : two images 1 : a text follow-up on an image conversation 2."""

    weight = 1

    def _analyze(self, count: int, name: str) -> Any:
        images = random.sample(sample_images(), count)
        return self.call(
            "POST",
            "/api/v1/assistant/analyze",
            name=name,
            data={"prompt": random.choice(PROMPTS)},
            files=[("images", image) for image in images],
            validate=analysis,
        )

    @task(4)
    def analyze_one(self) -> None:
        self._analyze(1, "/api/v1/assistant/analyze [1 image]")

    @task(1)
    def analyze_two(self) -> None:
        self._analyze(2, "/api/v1/assistant/analyze [2 images]")

    @task(2)
    def follow_up(self) -> None:
        first = self._analyze(1, "/api/v1/assistant/analyze [1 image]")
        if not isinstance(first, dict) or not first.get("conversation_id"):
            return
        self.call(
            "POST",
            "/api/v1/assistant/chat",
            json={
                "conversation_id": first["conversation_id"],
                "message": "Which of those colours covers more of the picture?",
            },
        )
