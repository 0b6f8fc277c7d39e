"""Research-job tuning: ``settings.research`` (``ResearchSettings``, nested in
``Settings``), read from the environment with the ``RESEARCH_`` prefix.

The limits of a request (sub-questions, question length) are module constants so the
documentation and the code cannot disagree.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MAX_QUESTION_CHARS = 2_000
MIN_SUB_QUESTIONS = 1
MAX_SUB_QUESTIONS = 6
DEFAULT_SUB_QUESTIONS = 3
MAX_SUB_QUESTION_CHARS = 300
PASSAGES_PER_SUB_QUESTION = 4
PASSAGE_CHARS = 700

# Output ceilings per role: each step reserves its worst case from the budget, so
# these are kept near what each role needs rather than at the model's maximum.
PLANNER_MAX_TOKENS = 300
RESEARCHER_MAX_TOKENS = 400
WRITER_MAX_TOKENS = 500
REVIEWER_MAX_TOKENS = 300


class ResearchSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RESEARCH_", extra="ignore")

    lease_s: float = Field(
        default=30.0,
        gt=0,
        description="how long a claim on a job lasts without a heartbeat; a process that "
        "dies holding a job gives it up after this long",
    )
    poll_interval_s: float = Field(
        default=1.0, gt=0, description="how often the in-process runner looks for jobs"
    )
    max_concurrent_jobs: int = Field(
        default=4, ge=1, description="jobs one process runs at once (in-process or per worker)"
    )
    events_poll_s: float = Field(
        default=0.25, gt=0, description="how often the event stream re-reads a job's state"
    )
    events_max_s: float = Field(
        default=3600.0, gt=0, description="longest an event stream stays open"
    )
    queue_name: str = Field(
        default="ai_platform:research", min_length=1, description="arq queue for research jobs"
    )
    job_timeout_s: float = Field(
        default=600.0,
        gt=0,
        description="arq's limit on one run of a job; a job held by a dead worker is run "
        "again after this (sooner when a worker starts and finds its lease expired)",
    )
    max_tries: int = Field(default=5, ge=1, description="arq runs of one job before it fails")

