"""Cohort workspace activity: who edited and ran which cell, presence, contribution counts.

Routes are added here (issue 4, attribution slice); ``cohorts.py`` keeps cohort management.
"""

from __future__ import annotations

from typing import Any

default_handlers: list[tuple[str, Any]] = []
