"""Admin traffic: usage and cost reports aggregated from the ledger, recent requests."""

from __future__ import annotations

import random

from locust import between, task

from loadtests.users.base import PlatformUser


class AdminUser(PlatformUser):
    """Usage report 4 (grouped by client, service, model or day) : recent requests 1."""

    weight = 1

    @task(4)
    def usage(self) -> None:
        group = random.choice(("client", "service", "model", "day"))
        self.call(
            "GET",
            "/api/v1/admin/usage",
            name=f"/api/v1/admin/usage?group_by={group}",
            params={"group_by": group},
        )

    @task(1)
    def recent_requests(self) -> None:
        self.call("GET", "/api/v1/admin/usage/requests", params={"limit": 20})


class OccasionalAdminUser(AdminUser):
    """An operator refreshing a dashboard every few seconds: the admin share of the
    mixed scenario. Back-to-back report requests would otherwise outnumber the
    services' traffic, since a report takes milliseconds and a model call a second."""

    wait_time = between(2, 5)
