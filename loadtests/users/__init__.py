"""Locust users: one module per platform service, plus the experiment's three styles."""
