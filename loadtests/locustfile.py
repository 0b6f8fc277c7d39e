"""Every Locust user of the project, for ``locust -f loadtests/locustfile.py <UserClass>``.

The runner (``python -m loadtests.run``) picks the classes of a scenario; to use
Locust's web UI instead, start a platform, set ``LOADTEST_API_KEY`` and run e.g.
``locust -f loadtests/locustfile.py --host http://127.0.0.1:8000 KnowledgeUser``.
"""

import gevent  # type: ignore[import-untyped]
from locust import events

from loadtests.users.admin import AdminUser, OccasionalAdminUser
from loadtests.users.agent import AgentUser
from loadtests.users.assistant import AssistantUser
from loadtests.users.experiment import AsyncStyleUser, BlockingStyleUser, SyncStyleUser
from loadtests.users.knowledge import KnowledgeUser
from loadtests.users.research import ResearchUser

__all__ = [
    "AdminUser",
    "AgentUser",
    "AssistantUser",
    "AsyncStyleUser",
    "BlockingStyleUser",
    "KnowledgeUser",
    "OccasionalAdminUser",
    "ResearchUser",
    "SyncStyleUser",
]


def _fresh_clock(**_: object) -> None:
    # gevent's loop caches "now" from its last iteration, which for a fresh process is
    # before this file's imports; --run-time timers would start that much in the past
    # and cut every step short by the import time.
    gevent.get_hub().loop.update_now()


events.init.add_listener(_fresh_clock)  # type: ignore[no-untyped-call]
