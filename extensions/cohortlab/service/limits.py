"""Per-person limits: request bodies, writes, event streams (what one learner may cost others).

A learner can script the API from their own terminal. Without limits one of them could make
the service parse 100 MB bodies on its event loop (Tornado's default) or write as fast as
the database allows, and every other person's request would wait behind theirs. So:

- **Bodies.** Every route takes at most :attr:`Limits.body_bytes` (1 MiB) unless it says
  otherwise (``BaseHandler.body_limit``: a review copy upload takes 64 MiB, a template push
  6 MiB). Bodies are streamed: a declared ``Content-Length`` over the route's limit is refused
  with 413 before a byte of it is read; a chunked body that runs over is cut off by Tornado.
- **Writes.** Each person may make :attr:`Limits.writes` writes (any POST, PUT, PATCH or
  DELETE) per window; staff (hub admins, a course's instructors) :attr:`Limits.staff_writes`,
  since opening a peer-review round uploads one copy per learner. The count lives in the
  database (:mod:`cohortlab.store.limits`), bumped in the write's own transaction, so replicas
  agree and a refused write leaves nothing behind, not even a count. Once a person is over,
  this process refuses their writes from memory until the window ends (:class:`Blocked`), so
  a flood of refused requests costs no database work at all. The existing posting limit
  (``post_rate_limit``) still applies to posts within this.
- **Event streams.** At most :attr:`Limits.streams` open at once per person (one per
  JupyterLab tab), counted in the database across replicas.

Hub services (the demo's setup, workspace servers' reports) are not limited: they act for
the deployment, not for a person. Every refusal is 413 or 429 with a message that says what
to do, and 429 carries ``Retry-After``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import APIError

KIB = 1024
MIB = 1024 * KIB
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
STAFF_GROUP_PREFIXES = ("formgrade-",)


@dataclass(frozen=True)
class Rate:
    """``count`` per ``seconds`` (fixed windows)."""

    count: int
    seconds: int

    @classmethod
    def parse(cls, text: str, what: str) -> Rate:
        """``"120/60"``; a clear ``SystemExit`` for anything else (a configuration mistake)."""
        try:
            count, seconds = (int(part) for part in text.split("/"))
            if count < 1 or seconds < 1:
                raise ValueError
        except ValueError:
            raise SystemExit(
                f"cohortlab: {what} {text!r} must look like 120/60 (<count>/<seconds>, both "
                "at least 1)"
            ) from None
        return cls(count, seconds)


@dataclass(frozen=True)
class Limits:
    writes: Rate = Rate(120, 60)
    staff_writes: Rate = Rate(3000, 60)
    streams: int = 10
    body_bytes: int = 1 * MIB


def is_staff(model: Mapping[str, Any]) -> bool:
    """Hub admins and instructors of any course (``formgrade-<course>``)."""
    return bool(model.get("admin")) or any(
        str(g).startswith(STAFF_GROUP_PREFIXES) for g in model.get("groups") or ()
    )


def write_rate(limits: Limits, model: Mapping[str, Any]) -> Rate | None:
    """The write limit of the hub identity ``model``; ``None`` for services (not limited)."""
    if model.get("kind") == "service":
        return None
    return limits.staff_writes if is_staff(model) else limits.writes


def window_start(now: float, rate: Rate) -> int:
    return int(now // rate.seconds) * rate.seconds


def retry_after(now: float, rate: Rate) -> int:
    """Whole seconds until the window holding ``now`` ends (at least 1)."""
    return max(1, math.ceil(window_start(now, rate) + rate.seconds - now))


def too_large(size: int, limit: int) -> APIError:
    return APIError(
        413,
        "too_large",
        f"The request body is {_size(size)}; this address takes at most {_size(limit)}. "
        "Send less at a time.",
    )


def too_many_writes(rate: Rate, retry: int) -> APIError:
    return APIError(
        429,
        "rate_limited",
        f"You have made {rate.count} changes in the last {rate.seconds} s, the most allowed; "
        f"wait {retry} s and try again. Nothing was changed by this request.",
        headers={"Retry-After": str(retry)},
    )


def too_many_streams(limit: int) -> APIError:
    return APIError(
        429,
        "too_many_streams",
        f"You already have {limit} live connections to CohortLab open (one per JupyterLab "
        "tab or window); close one, then reload this one.",
        headers={"Retry-After": "30"},
    )


@dataclass
class Blocked:
    """People over their write limit, until when (this process only: a shortcut, not the
    count; another replica finds the same from the database on their next write)."""

    until: dict[str, float] = field(default_factory=dict)

    def check(self, name: str, rate: Rate, now: float | None = None) -> None:
        """Refuse at once while ``name`` is known to be over their limit."""
        now = time.time() if now is None else now
        end = self.until.get(name)
        if end is None:
            return
        if now >= end:
            del self.until[name]
            return
        raise too_many_writes(rate, max(1, math.ceil(end - now)))

    def block(self, name: str, rate: Rate, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self.until[name] = window_start(now, rate) + rate.seconds
        if len(self.until) > 10_000:  # forget the expired, so the map stays small
            self.until = {k: v for k, v in self.until.items() if v > now}


def _size(n: int) -> str:
    if n >= MIB:
        return f"{n / MIB:.1f} MiB"
    if n >= KIB:
        return f"{n / KIB:.0f} KiB"
    return f"{n} bytes"


def largest_body(app: Any) -> int:
    """The largest body any route of ``app`` takes: the server's cap (each route lowers it)."""
    from tornado.routing import Rule

    default = (app.settings.get("limits") or Limits()).body_bytes
    sizes = [default]
    for rule in app.wildcard_router.rules:
        if isinstance(rule, Rule) and isinstance(rule.target, type):
            sizes.append(getattr(rule.target, "body_limit", None) or default)
    return max(sizes)
