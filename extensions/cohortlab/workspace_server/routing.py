"""Swapping a handler class in a running server's tornado routing table.

The workspace server replaces some upstream handlers with subclasses (collaboration rooms
that record who edited, lab settings and layouts per person) while keeping each rule's
pattern and arguments, which upstream builds; one walk of the nested routers for all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def swap_handlers(web_app: Any, swaps: Mapping[type, type]) -> int:
    """Give every rule whose target is a key of ``swaps`` the matching class instead; how
    many rules were changed (0: the upstream handler is not served here)."""
    changed = 0
    for rule in _rules(web_app.default_router):
        target = swaps.get(rule.target) if isinstance(rule.target, type) else None
        if target is not None:
            rule.target = target
            changed += 1
    return changed


def _rules(router: Any) -> Iterable[Any]:
    for rule in getattr(router, "rules", []):
        yield rule
        if hasattr(rule.target, "rules"):
            yield from _rules(rule.target)
