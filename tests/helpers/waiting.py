"""One way to wait in tests: poll a condition until it holds, never a fixed sleep.

``wait_until`` for plain code, ``wait_until_async`` (the same loop) in an asyncio test or
in code on an event loop: it lets the loop run between tries, so the background task or
callback the condition waits for gets its turn.

In a Playwright test prefer Playwright's own waits (``locator.wait_for``, ``expect``,
``page.wait_for_function``): Playwright delivers page events (a closed popup, a console
message) only while one of its calls runs, so a plain loop around ``time.sleep`` never
sees them change.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")


class _Deadline:
    """What both loops share: one try of the condition, and the error once time is up."""

    def __init__(self, timeout: float, what: str) -> None:
        self.timeout, self.what = timeout, what
        self.end = time.monotonic() + timeout
        self.last: BaseException | None = None

    def give_up_if_late(self) -> None:
        if time.monotonic() >= self.end:
            detail = f" (last error: {self.last!r})" if self.last else ""
            raise AssertionError(f"waited {self.timeout:.0f} s for {self.what}{detail}")


def wait_until(
    condition: Callable[[], T], timeout: float = 30.0, what: str = "", interval: float = 0.2
) -> T:
    """``condition()`` once it returns something truthy; AssertionError naming ``what`` if it
    has not within ``timeout`` seconds. Exceptions from ``condition`` count as not yet."""
    deadline = _Deadline(timeout, what or repr(condition))
    while True:
        try:
            result = condition()
            if result:
                return result
        except Exception as e:  # not ready yet: a page still loading, a 404 before a write
            deadline.last = e
        deadline.give_up_if_late()
        time.sleep(interval)


async def wait_until_async(
    condition: Callable[[], T | Awaitable[T]],
    timeout: float = 30.0,
    what: str = "",
    interval: float = 0.01,
) -> T:
    """``wait_until`` on an event loop: ``condition`` may be a coroutine function (an HTTP
    call), and the loop runs between tries instead of being blocked."""
    deadline = _Deadline(timeout, what or repr(condition))
    while True:
        try:
            result = condition()
            if inspect.isawaitable(result):
                result = await result
            if result:
                return result  # type: ignore[return-value]
        except Exception as e:
            deadline.last = e
        deadline.give_up_if_late()
        await asyncio.sleep(interval)


# The page-side part of ``output_settled``: every image in ``root`` asked for again, by an
# image of the page's own made now (the same address, so its load or error event comes after
# the first one's), then a module of the page's own imported (after any the output began to
# import, as anywidget does a widget's ``_esm``).
_AFTER_OUTPUT = """async (root) => {
  const again = (img) => new Promise((done) => {
    const canary = new Image();
    canary.onload = canary.onerror = done;
    canary.src = img.src;
  });
  await Promise.all([...root.querySelectorAll("img")].map(again));
  const module = new Blob(["export default 1;"], { type: "text/javascript" });
  await import(URL.createObjectURL(module)).catch(() => null);  // refused by a policy: also done
  return true;
}"""


def output_settled(locator: Any, timeout: float = 30_000) -> None:
    """Until what is drawn in ``locator`` has had its chance to run script: its images have
    finished loading (or failing), with their ``load``/``error`` handlers called, and a module
    the page imports after them has run. The positive signal a browser test that checks that
    *nothing* ran waits for, instead of a fixed window (Playwright; ``timeout`` in ms)."""
    root = locator.element_handle(timeout=timeout)
    locator.page.wait_for_function(
        "(root) => [...root.querySelectorAll('img')].every((img) => img.complete)",
        arg=root,
        timeout=timeout,
    )
    locator.evaluate(_AFTER_OUTPUT, timeout=timeout)
