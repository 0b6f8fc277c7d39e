"""Every ORM model imported once, so Alembic and ``create_all`` see all tables."""

from __future__ import annotations

import importlib
import pkgutil

import ai_platform.services
from ai_platform.db import models as _core_models  # noqa: F401
from ai_platform.db.base import Base

# Each service package may keep its tables in ``<service>/models.py``.
for _info in pkgutil.iter_modules(ai_platform.services.__path__):
    try:
        importlib.import_module(f"ai_platform.services.{_info.name}.models")
    except ModuleNotFoundError as exc:
        if exc.name != f"ai_platform.services.{_info.name}.models":
            raise

metadata = Base.metadata
