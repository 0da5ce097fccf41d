"""One way to wait in tests: poll a condition until it holds, never a fixed sleep.

In a Playwright test prefer Playwright's own waits (``locator.wait_for``, ``expect``,
``page.wait_for_function``): Playwright delivers page events (a closed popup, a console
message) only while one of its calls runs, so a plain loop around ``time.sleep`` never
sees them change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    condition: Callable[[], T], timeout: float = 30.0, what: str = "", interval: float = 0.2
) -> T:
    """``condition()`` once it returns something truthy; AssertionError naming ``what`` if it
    has not within ``timeout`` seconds. Exceptions from ``condition`` count as not yet."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            result = condition()
            if result:
                return result
        except Exception as e:  # not ready yet: a page still loading, a 404 before a write
            last = e
        if time.monotonic() >= deadline:
            detail = f" (last error: {last!r})" if last else ""
            raise AssertionError(f"waited {timeout:.0f} s for {what or condition!r}{detail}")
        time.sleep(interval)
