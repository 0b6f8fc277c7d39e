"""No tables of its own: an index the usage reports need on the core ledger table.

Reports filter the whole ledger by time (every client, a date range); the core
index leads with ``client_id``, so without this one such a report scans the table.
"""

from __future__ import annotations

from sqlalchemy import Index

from ai_platform.db.models import UsageRecord

usage_ledger_created_at = Index("ix_usage_ledger_created_at", UsageRecord.created_at)
