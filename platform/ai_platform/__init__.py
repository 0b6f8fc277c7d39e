"""AI Platform Workbench: a FastAPI gateway that governs enterprise AI services."""

__version__ = "0.1.0"
