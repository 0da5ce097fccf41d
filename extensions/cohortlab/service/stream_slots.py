"""Open event streams per person, counted in the database across replicas (``limits.py``).

The events handler takes a slot before upgrading to a WebSocket (429 when the person holds
``Limits.streams`` already) and gives it back when the socket closes. Each replica refreshes
its slots every ``STREAM_REFRESH_SECONDS``; a replica that died leaves slots that stop
counting once stale (``cohortlab.store.limits``), and a stopping replica gives back all of
its own.
"""

from __future__ import annotations

import logging
from typing import Any

from ..store import limits as store
from .base import run_db
from .limits import Limits, too_many_streams

log = logging.getLogger("cohortlab.service")


async def take_slot(settings: dict[str, Any], name: str) -> int:
    """A slot for a new stream of ``name``; 429 if they hold the most already."""
    limit = (settings.get("limits") or Limits()).streams
    slot = await run_db(settings, store.open_stream, name, settings["replica"], limit)
    if slot is None:
        raise too_many_streams(limit)
    return slot


async def give_back(settings: dict[str, Any], slot: int) -> None:
    try:
        await run_db(settings, store.close_stream, slot)
    except Exception:  # the slot goes stale instead; a refresh never revives it
        log.warning("Could not release event stream slot %s", slot, exc_info=True)


async def refresh_streams(settings: dict[str, Any]) -> None:
    try:
        await run_db(settings, store.refresh_streams, settings["replica"])
    except Exception:
        log.warning("Could not refresh this replica's event streams", exc_info=True)


async def forget_streams(settings: dict[str, Any]) -> None:
    try:
        await run_db(settings, store.forget_replica, settings["replica"])
    except Exception:
        log.warning("Could not release this replica's event streams", exc_info=True)
