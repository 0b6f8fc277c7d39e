"""Where a load test finds its API key, without importing Locust.

Locust monkey-patches the standard library (gevent) when it is imported, so only the
Locust processes may import it; the runner reads the key through this module.
"""

from __future__ import annotations

import os
from pathlib import Path


def api_key() -> str | None:
    """``LOADTEST_API_KEY``, else the demo key ``ai-platform demo`` saved under DATA_DIR."""
    key = os.environ.get("LOADTEST_API_KEY")
    if key:
        return key.strip()
    demo = Path(os.environ.get("DATA_DIR", "data")) / "demo_api_key"
    return demo.read_text().strip() if demo.exists() else None
