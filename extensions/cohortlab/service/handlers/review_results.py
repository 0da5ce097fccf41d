"""Peer review outcomes: aggregation, overrides, exclusions, agreement, helpfulness, feedback.

Routes are added here (issue 6, slice 3); ``reviews.py`` keeps allocation and reviewing.
"""

from __future__ import annotations

from typing import Any

default_handlers: list[tuple[str, Any]] = []
