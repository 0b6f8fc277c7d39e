"""Bounds and strict types for numbers that arrive in requests.

Every integer a client can send is bounded before it reaches a query: PostgreSQL
columns and ``LIMIT``/``OFFSET`` are 32- or 64-bit, and a larger Python int is a
driver error (a 500) rather than a refusal. JSON body fields are strict: ``true``
is not 1, ``false`` is not a budget of $0, ``"5"`` is not a number.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict

MAX_INT32 = 2**31 - 1
"""PostgreSQL ``integer``."""
MAX_INT64 = 2**63 - 1
"""PostgreSQL ``bigint`` (ledger row ids)."""
MAX_OFFSET = 1_000_000
"""The deepest ``offset`` a paged list accepts; deeper pages are a filter's job."""

StrictCount = Annotated[int, Strict()]
"""A JSON integer; booleans, floats and strings are refused."""

StrictUsd = Annotated[float, Strict(), Field(allow_inf_nan=False)]
"""A JSON number of US dollars; booleans, strings, NaN and infinities are refused."""
