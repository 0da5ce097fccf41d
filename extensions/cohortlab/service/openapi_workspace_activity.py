"""OpenAPI paths and schemas for cohort workspace activity (``handlers/workspace_activity.py``)."""

from __future__ import annotations

from typing import Any


def workspace_activity_paths() -> dict[str, Any]:
    return {}


def workspace_activity_schemas() -> dict[str, Any]:
    return {}
