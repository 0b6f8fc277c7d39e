"""The two shapes of one compose file.

``split`` is docker-compose.yml as written. ``monolith`` is the same file without the
four service containers: the gateway serves every service in process (no
``SERVICES__…`` URLs) and starts once the schema is in and Redis is up.
"""

from __future__ import annotations

import copy
from typing import Any

SPLIT_SERVICES = ("knowledge", "agent", "research", "assistant")


def monolith(config: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(config)
    services = out["services"]
    for name in SPLIT_SERVICES:
        services.pop(name, None)
    gateway = services["gateway"]
    gateway["environment"] = {
        k: v for k, v in gateway["environment"].items() if not k.startswith("SERVICES__")
    }
    gateway["depends_on"] = {
        "migrate": {"condition": "service_completed_successfully"},
        "simulator": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    return out
