"""OpenAPI paths and schemas for peer review outcomes (``handlers/review_results.py``)."""

from __future__ import annotations

from typing import Any


def review_result_paths() -> dict[str, Any]:
    return {}


def review_result_schemas() -> dict[str, Any]:
    return {}
