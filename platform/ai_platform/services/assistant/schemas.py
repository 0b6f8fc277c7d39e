"""Response models of the multi-modal assistant (its chat request is the agent's)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ai_platform.services.agent.schemas import UsageOut


class ImageOut(BaseModel):
    """An accepted image: as uploaded, and as sent to the model."""

    index: int
    filename: str
    format: str = Field(description="PNG, JPEG, WEBP or GIF, read from the bytes.")
    width: int
    height: int
    size_bytes: int
    sha256: str
    sent_format: str
    sent_width: int
    sent_height: int
    sent_bytes: int
    downscaled: bool


class AnalyzeResponse(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "conversation_id": "conv_0d6f3c2b1a9e4f8d7c6b5a4f3e2d1c0b",
                    "answer": "The image is a PNG image, 64x32 pixels, mode RGB; "
                    "dominant colours: red (100%).",
                    "images": [
                        {
                            "index": 0,
                            "filename": "red.png",
                            "format": "PNG",
                            "width": 64,
                            "height": 32,
                            "size_bytes": 120,
                            "sha256": "8ea4...",
                            "sent_format": "PNG",
                            "sent_width": 64,
                            "sent_height": 32,
                            "sent_bytes": 120,
                            "downscaled": False,
                        }
                    ],
                    "model": "gpt-4o-mini",
                    "usage": {"prompt_tokens": 120, "completion_tokens": 20, "total_tokens": 140},
                    "cost_usd": 0.00003,
                }
            ]
        }
    )

    conversation_id: str
    answer: str
    images: list[ImageOut]
    model: str | None = None
    usage: UsageOut = Field(default_factory=UsageOut)
    cost_usd: float = 0.0


class AssistantReply(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "conversation_id": "conv_0d6f3c2b1a9e4f8d7c6b5a4f3e2d1c0b",
                    "reply": "A red rectangle twice as wide as it is tall.",
                    "model": "gpt-4o-mini",
                    "usage": {"prompt_tokens": 80, "completion_tokens": 12, "total_tokens": 92},
                    "cost_usd": 0.00002,
                }
            ]
        }
    )

    conversation_id: str
    reply: str
    model: str | None = None
    usage: UsageOut = Field(default_factory=UsageOut)
    cost_usd: float = 0.0
