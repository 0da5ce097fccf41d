"""The CLI's half of ``cohortlab review open``: make and send the anonymous copies, several
submissions at a time, and say where the time went.

One submission at a time, the instructor's machine and the service took turns: while the
service parsed and checked one copy (the bulk of the work, ~0.1-0.4 s for a notebook of a few
MB), the CLI waited, and while the CLI read and anonymised the next, the service idled. With
``workers`` submissions in flight, reading and anonymising overlap the service's check, and
the service's own steps that leave Python's lock (compression, SQLite writes, the network)
overlap each other. Copies stay in order per submission; which submission finishes first
does not matter (the upload is committed only when all are staged).

The first error stops the rest (submissions not yet started are never sent) and is raised
as it came, so the caller discards the upload as before.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

#: copies of one submission, seconds spent reading it, seconds spent anonymising it
Made = tuple[list[dict[str, Any]], float, float]


@dataclass
class Timing:
    """Seconds per step, summed over submissions (steps of different submissions overlap,
    so the sum may exceed ``wall``)."""

    read: float = 0.0
    anonymise: float = 0.0
    send: float = 0.0
    wall: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, read: float, anonymise: float, send: float) -> None:
        with self._lock:
            self.read += read
            self.anonymise += anonymise
            self.send += send

    def line(self, commit: float) -> str:
        return (
            f"timing: total {self.wall + commit:.2f} s, upload {self.wall:.2f} s, "
            f"read {self.read:.2f} s, anonymise {self.anonymise:.2f} s, "
            f"send {self.send:.2f} s, commit {commit:.2f} s"
        )


def send_all(
    students: Sequence[str],
    make: Callable[[str], Made],
    put: Callable[[str, dict[str, Any]], Any],
    *,
    workers: int = 4,
    progress: Callable[[int, str, int], None] = lambda done, student, count: None,
) -> Timing:
    """``put(student, {"notebooks": copies})`` for every student, ``workers`` at a time.

    ``make`` and ``put`` run on worker threads (give each thread its own HTTP session);
    ``progress(done, student, notebooks)`` runs on the calling thread as each one finishes.
    """
    timing = Timing()
    started = time.perf_counter()

    def one(student: str) -> tuple[str, int]:
        copies, read, anonymise = make(student)
        sending = time.perf_counter()
        put(student, {"notebooks": copies})
        timing.add(read, anonymise, time.perf_counter() - sending)
        return student, len(copies)

    pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="cohortlab-send")
    try:
        pending = {pool.submit(one, s) for s in students}
        done_count = 0
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                student, count = future.result()  # the first error ends the run here
                done_count += 1
                progress(done_count, student, count)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    timing.wall = time.perf_counter() - started
    return timing
