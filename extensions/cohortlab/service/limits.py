"""Per-person limits: request bodies, writes, event streams (what one learner may cost others).

A learner can script the API from their own terminal. Without limits one of them could make
the service parse 100 MB bodies on its event loop (Tornado's default) or write as fast as
the database allows, and every other person's request would wait behind theirs. So:

- **Bodies.** Every route takes at most :attr:`Limits.body_bytes` (1 MiB) unless it says
  otherwise (``BaseHandler.body_limit``: a review copy upload takes 64 MiB, a template push
  6 MiB). Bodies are streamed: a declared ``Content-Length`` over the route's limit is refused
  with 413 and none of it is kept or parsed (it is read and thrown away, so that the
  connection, which the hub's proxy shares between people, stays usable); a chunked body
  that runs over is cut off by Tornado. Any refusal decided before a body arrives (401, 403,
  429) is answered the same way, after the body.
- **Writes.** Each person may make :attr:`Limits.writes` writes (any POST, PUT, PATCH or
  DELETE): 120 a minute on average and 20 at once, by the generic cell rate algorithm
  (:func:`admit`); staff (hub admins, a course's instructors) :attr:`Limits.staff_writes`,
  since opening a peer-review round uploads one copy per learner. The budget lives in the
  database (:mod:`cohortlab.store.limits`), spent in the write's own transaction, so replicas
  agree and a refused write leaves nothing behind, not even a count. Once a person is over,
  this process refuses their writes from memory until their next is due (:class:`Blocked`), so
  a flood of refused requests costs no database work at all, and answers each after
  :data:`REFUSAL_DELAY`, so that a script ignoring Retry-After cannot make the proxy and the
  event loop answer it hundreds of times a second. The existing posting limit
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
#: seconds a refusal from memory (a person already over their write limit) waits before it
#: is answered: the refusal itself costs the service next to nothing, but a script that
#: ignores Retry-After would otherwise be answered as fast as it can ask, and every answer
#: costs the proxy and the event loop a little; held a second, each of its connections asks
#: once a second
REFUSAL_DELAY = 1.0
#: a body refused before it is read is still read and thrown away up to this size, so the
#: connection stays open (see :func:`too_large`); larger ones close it
DRAIN_BYTES = 128 * MIB
STAFF_GROUP_PREFIXES = ("formgrade-",)


@dataclass(frozen=True)
class Rate:
    """``count`` per ``seconds`` on average, at most ``burst`` at once (GCRA: :func:`admit`)."""

    count: int
    seconds: int
    burst: int = 1

    @classmethod
    def parse(cls, text: str, what: str, burst: int = 20) -> Rate:
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
        return cls(count, seconds, max(1, min(burst, count)))

    @property
    def interval(self) -> float:
        return self.seconds / self.count

    @property
    def tolerance(self) -> float:
        """How far ahead of now the next write's due time may be and still fit."""
        return self.interval * (self.burst - 1)


def admit(tat: float, now: float, rate: Rate) -> tuple[bool, float]:
    """The generic cell rate algorithm: whether a write at ``now`` fits, given ``tat``, the
    "theoretical arrival time" of the person's next write; then the new ``tat`` if it fits,
    else the time it would. Up to ``burst`` writes at once, then one per ``interval``: a
    fixed window instead would let the whole minute's budget through in one second, and a
    second one a second later, which is what slows everyone else."""
    tat = max(tat, now)
    allowed_at = tat - rate.tolerance
    if now < allowed_at:
        return False, allowed_at
    return True, tat + rate.interval


@dataclass(frozen=True)
class Limits:
    writes: Rate = Rate(120, 60, 20)
    staff_writes: Rate = Rate(3000, 60, 300)
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


def retry_after(now: float, allowed_at: float) -> int:
    """Whole seconds until ``allowed_at`` (at least 1)."""
    return max(1, math.ceil(allowed_at - now))


def too_large(size: int, limit: int, *, close: bool = False) -> APIError:
    """413. Normally answered once the body has been read and thrown away (the connection
    stays usable); past :data:`DRAIN_BYTES` answered at once, closing the connection and
    saying so (``Connection: close``), so that a proxy keeping connections to the service
    open (Node's keep-alive agent in JupyterHub's proxy) does not send someone else's next
    request down a connection that is closing: they would get a 503."""
    return APIError(
        413,
        "too_large",
        f"The request body is {_size(size)}; this address takes at most {_size(limit)}. "
        "Send less at a time.",
        headers={"Connection": "close"} if close else None,
    )


def too_many_writes(rate: Rate, retry: int) -> APIError:
    return APIError(
        429,
        "rate_limited",
        f"You are making changes faster than CohortLab takes them from one person ({rate.count} "
        f"in {rate.seconds} s, {rate.burst} at once); wait {retry} s and try again. Nothing "
        "was changed by this request.",
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
        until = self.until.get(name)
        if until is None:
            return
        if now >= until:
            del self.until[name]
            return
        raise too_many_writes(rate, retry_after(now, until))

    def block(self, name: str, until: float, now: float | None = None) -> None:
        now = time.time() if now is None else now
        self.until[name] = until
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
