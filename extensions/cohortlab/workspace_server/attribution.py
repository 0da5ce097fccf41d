"""Who last edited and who last ran each cell of a workspace, and who is connected now.

Plain in-memory records kept by the workspace server. Every entry comes from a server-side
fact about an authenticated connection (the collaboration WebSocket that delivered a
document update, the kernel WebSocket that delivered an execute request), never from
anything a client writes into the shared document, so a member cannot put someone else's
name on a cell. The per-cell record is kept in the server's state folder
(:meth:`Recorder.save`, written a few seconds after a change and when the server stops), so a
culled or restarted workspace shows it again; who is connected is not kept. The same facts,
tallied per person and notebook (:meth:`Recorder.take_tally`), are the contribution counts
this server reports to the service (``activity.py``).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
STATE_VERSION = 1

#: Keys of a cell that the kernel's results change: written into the shared document by
#: the browser that ran the cell, so they are not an edit by that person.
RUN_KEYS = frozenset({"outputs", "execution_count", "execution_state"})


@dataclass
class CellRecord:
    edited_by: str | None = None
    edited_at: float | None = None
    run_by: str | None = None
    run_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "edited_by": self.edited_by,
            "edited_at": self.edited_at,
            "run_by": self.run_by,
            "run_at": self.run_at,
        }


@dataclass
class Recorder:
    """The workspace's records: per (notebook path, cell id) and per connected person."""

    cells: dict[tuple[str, str], CellRecord] = field(default_factory=dict)
    #: person -> number of open collaboration connections (one per open document and tab)
    connections: Counter[str] = field(default_factory=Counter)
    #: where the cell records are kept between runs of the server (None: memory only)
    store: Path | None = None
    dirty: bool = False
    #: (person, notebook) -> (cells edited, cells run) since the last report
    tally: dict[tuple[str, str], tuple[set[str], set[str]]] = field(default_factory=dict)

    def edited(self, path: str, cell_id: str, user: str, at: float | None = None) -> None:
        record = self.cells.setdefault((path, cell_id), CellRecord())
        record.edited_by, record.edited_at = user, at if at is not None else time.time()
        self.dirty = True
        self.tally.setdefault((user, path), (set(), set()))[0].add(cell_id)

    def ran(self, path: str, cell_id: str, user: str, at: float | None = None) -> None:
        record = self.cells.setdefault((path, cell_id), CellRecord())
        record.run_by, record.run_at = user, at if at is not None else time.time()
        self.dirty = True
        self.tally.setdefault((user, path), (set(), set()))[1].add(cell_id)

    def take_tally(self) -> list[tuple[str, str, int, int]]:
        """(person, notebook, cells edited, cells run) since the last call, and start afresh.

        A cell counts once per person and report however many keystrokes or runs: a count
        says how many cells someone worked on, and a script cannot inflate it by repeating
        one change."""
        taken = [
            (user, path, len(edited), len(ran))
            for (user, path), (edited, ran) in sorted(self.tally.items())
            if edited or ran
        ]
        self.tally = {}
        return taken

    def renamed(self, old: str, new: str) -> None:
        for path, cell_id in [k for k in self.cells if k[0] == old]:
            self.cells[(new, cell_id)] = self.cells.pop((path, cell_id))
            self.dirty = True

    @classmethod
    def load(cls, store: Path) -> Recorder:
        """The record a previous run of this server saved; an empty one (and a warning)
        when the file is missing or unreadable: attribution starts afresh, nothing fails."""
        recorder = cls(store=store)
        try:
            data = json.loads(store.read_text(encoding="utf-8"))
            entries = data["cells"] if data.get("version") == STATE_VERSION else []
            for entry in entries:
                recorder.cells[(str(entry["path"]), str(entry["cell"]))] = CellRecord(
                    **{k: entry.get(k) for k in ("edited_by", "edited_at", "run_by", "run_at")}
                )
        except FileNotFoundError:
            pass
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
            log.warning("CohortLab workspace: attribution record %s not read (%s)", store, e)
            recorder.cells.clear()
        return recorder

    def save(self) -> None:
        """Write the cell records if they changed: to a temporary file then renamed over the
        old one, so a server killed while writing leaves the previous record whole."""
        if self.store is None or not self.dirty:
            return
        entries = [
            {"path": path, "cell": cell, **record.to_json()}
            for (path, cell), record in sorted(self.cells.items())
        ]
        self.dirty = False
        tmp = None
        try:
            self.store.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(dir=self.store.parent, prefix=".attribution-")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"version": STATE_VERSION, "cells": entries}, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.store)
        except OSError as e:
            self.dirty = True  # try again at the next save
            log.warning("CohortLab workspace: attribution record not saved (%s)", e)
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)

    def joined(self, user: str) -> None:
        self.connections[user] += 1

    def left(self, user: str) -> None:
        self.connections[user] -= 1
        if self.connections[user] <= 0:
            del self.connections[user]

    def present(self) -> list[str]:
        """Who has the workspace open now, by name."""
        return sorted(self.connections)

    def notebook(self, path: str) -> dict[str, dict[str, Any]]:
        """Cell id -> record, for one notebook."""
        return {cid: r.to_json() for (p, cid), r in self.cells.items() if p == path}


def cells_touched(events: Any, cell_ids: Any) -> set[str]:
    """The ids of the cells an ``observe_deep`` batch on a notebook's cells array edited.

    ``cell_ids(index)`` gives the id of the cell at ``index`` now. A change below a cell
    (its source, metadata, type) has a path ``[index, key, ...]`` and counts unless it is
    one of the kernel's results (:data:`RUN_KEYS`); a change of the array itself (cells
    added, moved or deleted) counts for the cells it inserted.
    """
    touched: set[str] = set()
    for event in events:
        path = list(getattr(event, "path", []) or [])
        if path:
            index = path[0]
            if len(path) > 1:
                key = path[1]
            else:  # a change of the cell map's own keys
                keys = set(getattr(event, "keys", {}) or {})
                if keys and keys <= RUN_KEYS:
                    continue
                key = None
            if key in RUN_KEYS:
                continue
            cell_id = cell_ids(index)
            if cell_id:
                touched.add(cell_id)
            continue
        position = 0
        for op in getattr(event, "delta", []) or []:
            if "retain" in op:
                position += op["retain"]
            elif "insert" in op:
                for _ in op["insert"]:
                    cell_id = cell_ids(position)
                    if cell_id:
                        touched.add(cell_id)
                    position += 1
    return touched
