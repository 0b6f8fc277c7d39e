"""Request and response models of the research team."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from ai_platform.core.text import ModelName, Text
from ai_platform.services.research.config import (
    DEFAULT_SUB_QUESTIONS,
    MAX_QUESTION_CHARS,
    MAX_SUB_QUESTIONS,
    MIN_SUB_QUESTIONS,
)

JobStatus = Literal["accepted", "running", "completed", "failed", "cancelled"]
UNFINISHED: tuple[JobStatus, ...] = ("accepted", "running")
FINISHED: tuple[JobStatus, ...] = ("completed", "failed", "cancelled")
StepKind = Literal["plan", "research", "write", "review"]


class StartRequest(BaseModel):
    """Start a research task (``query`` is accepted as another name for ``question``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "question": "How should we care for a tent, and what does its warranty cover?",
                    "max_sub_questions": 3,
                }
            ]
        },
    )

    question: Text = Field(
        min_length=1,
        max_length=MAX_QUESTION_CHARS,
        validation_alias=AliasChoices("question", "query"),
        description="what to research",
    )
    max_sub_questions: int = Field(
        default=DEFAULT_SUB_QUESTIONS,
        ge=MIN_SUB_QUESTIONS,
        le=MAX_SUB_QUESTIONS,
        description="the planner splits the question into at most this many parts",
    )
    model: ModelName | None = Field(
        default=None,
        description="chat model for every role; the platform default when omitted. "
        "A model the platform cannot price is refused at start: 422 `unknown_model`.",
    )

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is blank")
        return value.strip()


class TaskAccepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "task_id": "rsch_3f1c9a0e5b7d4e2a8c6f1b0d9e7a5c3b",
                    "status": "accepted",
                    "status_url": "/api/v1/research/rsch_3f1c9a0e5b7d4e2a8c6f1b0d9e7a5c3b",
                    "events_url": "/api/v1/research/rsch_3f1c9a0e5b7d4e2a8c6f1b0d9e7a5c3b/events",
                }
            ]
        }
    )

    task_id: str
    status: JobStatus = "accepted"
    status_url: str
    events_url: str


class Progress(BaseModel):
    steps_done: int
    steps_total: int = Field(
        description="plan + one per sub-question + write + review; before planning it "
        "assumes the most sub-questions allowed"
    )
    percent: float = Field(ge=0, le=100)
    current: list[str] = Field(description="the steps that come next")


class Source(BaseModel):
    number: int = Field(description="the [n] marker the report uses")
    document_id: str
    chunk_id: int | str
    title: str
    source: str
    snippet: str
    score: float


class SubAnswer(BaseModel):
    """One researcher's finding, available as soon as that researcher finishes."""

    index: int
    sub_question: str
    answer: str = Field(description="cites this answer's own sources with [n]")
    citations: list[int]
    grounded: bool = Field(description="whether the knowledge base held passages for it")
    sources: list[Source] = Field(description="the passages the researcher was given")


class ReportSection(BaseModel):
    heading: str = Field(description="the sub-question")
    body: str = Field(description="the researcher's answer, citing the report's sources")
    citations: list[int]
    grounded: bool


class Report(BaseModel):
    title: str
    summary: str = Field(description="the writer's synthesis, with [n] citations")
    sections: list[ReportSection] = Field(description="one per sub-question")
    sources: list[Source]
    markdown: str


class Review(BaseModel):
    verdict: Literal["pass", "revise"]
    model_verdict: str | None = Field(description="what the reviewer model answered")
    issues: list[str]
    citations_checked: int


class UsageOut(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    llm_steps: int = Field(default=0, description="completed steps that called the model")


class ErrorOut(BaseModel):
    code: str
    message: str


class TaskView(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "task_id": "rsch_3f1c9a0e5b7d4e2a8c6f1b0d9e7a5c3b",
                    "status": "running",
                    "question": "How should we care for a tent, and what does its warranty cover?",
                    "model": None,
                    "progress": {
                        "steps_done": 2,
                        "steps_total": 5,
                        "percent": 40.0,
                        "current": ["research:1", "write", "review"],
                    },
                    "sub_questions": [
                        "How should we care for a tent?",
                        "What does its warranty cover?",
                    ],
                    "partial_results": [
                        {
                            "index": 0,
                            "sub_question": "How should we care for a tent?",
                            "answer": "Dry the tent fully before storing it [1].",
                            "citations": [1],
                            "grounded": True,
                            "sources": [
                                {
                                    "number": 1,
                                    "document_id": "doc_9c2e4f1a7b3d4e5f8a6c0b1d2e3f4a5b",
                                    "chunk_id": 12,
                                    "title": "Tent care",
                                    "source": "care/tents.md",
                                    "snippet": "Dry the tent fully before storing it.",
                                    "score": 0.92,
                                }
                            ],
                        }
                    ],
                    "report": None,
                    "review": None,
                    "usage": {
                        "prompt_tokens": 412,
                        "completion_tokens": 96,
                        "total_tokens": 508,
                        "cost_usd": 0.00012,
                        "llm_steps": 2,
                    },
                    "error": None,
                    "created_at": "2026-11-28T10:00:00Z",
                    "started_at": "2026-11-28T10:00:00Z",
                    "finished_at": None,
                }
            ]
        }
    )

    task_id: str
    status: JobStatus
    question: str
    model: str | None
    progress: Progress
    sub_questions: list[str] | None = Field(description="the plan, once the planner is done")
    planner: str | None = Field(
        default=None,
        description="'model' when the plan came from the model, 'fallback' "
        "when its JSON was unusable and the question was split by rule",
    )
    partial_results: list[SubAnswer]
    report: Report | None
    review: Review | None
    usage: UsageOut
    error: ErrorOut | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
