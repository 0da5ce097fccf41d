"""Live rounds inside the ``Quiz`` widget: learners join and answer, instructors host.

A live round belongs to a quiz, and the released notebook holds only
``Quiz("<id>", course=...)``, so live play is a mode of that widget rather than another
cell learners would need: the widget shows a *Join live round* button while a round of
its quiz is running, and the instructor (the service sends instructors the quiz's
``spec``, so the widget knows it is one) gets the host controls and a presenter view in
the same cell.

As for the rest of the widget, the kernel makes every request as the person whose hub
token it holds, and the synced state is what the service answered, picked, never added
to: ``live`` is the ``LiveView`` (docs/quizzes.md, "Live rounds") and ``live_ack`` the
acknowledgement of my answer. Times are the service's: the countdown the view shows
starts from the service's ``remaining``, and whether an answer counted is the service's
decision, never the browser's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import traitlets as t

from ..client import ServiceError
from ._base import ServiceWidget, pick, segment

VIEW_KEYS = ("session", "joined", "question")
VIEW_OPTIONAL = ("me", "my_answer", "results")
ACK_KEYS = ("received", "question", "elapsed")
START_FIELDS = ("team_mode", "team_cohort", "countdown")
#: ``error["during"]`` of a failed live request; the view shows these in the live panel.
LIVE_ACTIONS = ("live_refresh", "join", "answer_live", "start", "next", "close", "end")
NO_ROUND = "No live round of this quiz is running now; wait for the instructor to start one."


def live_view(data: Any) -> dict[str, Any]:
    """The parts of a ``LiveView`` the widget shows, verbatim (a ValueError if malformed)."""
    view = pick(data, *VIEW_KEYS)
    if not isinstance(view["session"], dict) or "id" not in view["session"]:
        raise ValueError("expected a live session with an id")
    view.update({k: data[k] for k in VIEW_OPTIONAL if k in data})
    return view


def _round_key(view: dict[str, Any] | None) -> tuple[Any, ...] | None:
    """Which screen a view is: session, question, phase (an error belongs to one)."""
    if view is None:
        return None
    session = view["session"]
    return (session.get("id"), session.get("question"), session.get("phase"))


class LiveRounds(ServiceWidget):
    """A :class:`ServiceWidget` that can join, play and host its quiz's live rounds.

    Subclasses give :meth:`_path` (the quiz's service path). Each front-end message
    (``live_refresh``, ``join``, ``answer_live``, ``start``, ``next``, ``close``, ``end``)
    is one request; a refusal becomes ``error`` with ``during`` set to the message's type,
    and a 403/409 (the round moved on meanwhile) also reloads the round, so the screen
    shows where it really is next to the service's reason.
    """

    live = t.Dict(
        default_value=None,
        allow_none=True,
        help="the LiveView of this quiz's running (or latest) round, as the service sent it",
    ).tag(sync=True)
    live_ack = t.Dict(
        default_value=None,
        allow_none=True,
        help="the service's acknowledgement of my answer to the open question",
    ).tag(sync=True)
    live_pending = t.Unicode("", help="the live request in flight (join, answer_live, ...)").tag(
        sync=True
    )
    host = t.Bool(
        False, help="the service sent this person the instructor's view (spec): show host controls"
    ).tag(sync=True)

    def _path(self) -> str:
        """The quiz's path on the service, ``courses/<c>/quizzes/<q>``."""
        raise NotImplementedError

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], None]]:
        return {
            **super()._handlers(),
            "live_refresh": self._on_live_refresh,
            "join": lambda _content: self.join_live(),
            "answer_live": self._on_answer_live,
            "start": self._on_start,
            "next": self._on_next,
            "close": lambda _content: self.close_question(),
            "end": lambda _content: self.end_live(),
        }

    # -- front-end messages (anything malformed is ignored, as for answers) --------------

    def _on_live_refresh(self, content: dict[str, Any]) -> None:
        if self.status != "ready":  # nothing loaded yet: the whole quiz, round included
            self.refresh()
            return
        session = content.get("session")
        wanted = isinstance(session, int) and not isinstance(session, bool)
        self.refresh_live(session if wanted else None)

    def _on_answer_live(self, content: dict[str, Any]) -> None:
        question = content.get("question")
        if isinstance(question, str) and "answer" in content:
            self.answer_live(question, content["answer"])

    def _on_start(self, content: dict[str, Any]) -> None:
        self.start_live(**{k: content[k] for k in START_FIELDS if k in content})

    def _on_next(self, content: dict[str, Any]) -> None:
        self.next_question(content.get("countdown"))

    # -- reading the round ---------------------------------------------------------------

    def _session_path(self, session_id: int, rest: str = "") -> str:
        return f"courses/{segment(self.course)}/live/{int(session_id)}{rest}"

    def _session_id(self) -> int | None:
        session = (self.live or {}).get("session") or {}
        value = session.get("id")
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def refresh_live(self, session_id: int | None = None) -> bool:
        """Fetch the round again; ``False`` if that failed (the error is in ``error``).

        With the id of the round on screen, that round is read (``live/<id>``); otherwise
        the quiz's running round, or its latest (``quizzes/<q>/live``), so a round started
        elsewhere shows up. No round at all is ``live = None``, not an error.
        """
        if not self.course:
            return False
        if session_id is not None and session_id == self._session_id():
            path = self._session_path(session_id)
        else:
            path = f"{self._path()}/live"

        def fetch() -> dict[str, Any] | None:
            try:
                return live_view(self._client.get(path))
            except ServiceError as e:
                if e.status == 404 and e.code == "no_session":
                    return None
                raise

        found = self._call("live_refresh", lambda: {"view": fetch()})
        if found is None:
            return False
        self._show(found["view"])
        if self.error is not None and self.error.get("during") == "live_refresh":
            self.error = None
        return True

    def _show(self, view: dict[str, Any] | None) -> None:
        """Put a view on screen; an acknowledgement and a live refusal belong to the
        screen they were made on, so they go once the round has moved on."""
        moved = _round_key(view) != _round_key(self.live)
        with self.hold_sync():
            if moved:
                self.live_ack = None
                if self.error is not None and self.error.get("during") in LIVE_ACTIONS:
                    self.error = None
            self.live = view

    # -- playing ---------------------------------------------------------------------------

    def join_live(self) -> dict[str, Any] | None:
        """Join the running round as a learner; the new ``LiveView``, or ``None``.

        Staff are refused by the service (``not_a_player``); the view shows its message.
        """
        if self._session_id() is None and not self.refresh_live():
            return None
        session_id = self._session_id()
        if session_id is None:
            self._fail("join", 404, "no_session", NO_ROUND, None)
            return None
        path = self._session_path(session_id, "/join")
        return self._step("join", lambda: self._client.post(path))

    def answer_live(self, question: str, answer: Any) -> dict[str, Any] | None:
        """Send my one answer to the open question; the acknowledgement, or ``None``.

        The service acknowledges without grading aloud (the verdict comes with the
        results once the question closes); after a refusal because the question closed
        or was answered already, the round is reloaded to show where it is.
        """
        session_id = self._session_id()
        if session_id is None:
            self._fail("answer_live", 404, "no_session", NO_ROUND, question)
            return None
        self._clear_live_error()
        self.live_pending = "answer_live"
        try:
            ack = self._call(
                "answer_live",
                lambda: pick(
                    self._client.post(
                        self._session_path(session_id, "/answers"),
                        {"question": question, "answer": answer},
                    ),
                    *ACK_KEYS,
                ),
                question=question,
            )
        finally:
            self.live_pending = ""
        if ack is None:
            self._reload_after_refusal()
            return None
        self.live_ack = ack
        return ack

    # -- hosting (instructors; the service refuses everyone else with a message) -----------

    def start_live(self, **options: Any) -> dict[str, Any] | None:
        """Start a round: ``team_mode`` (none, cohorts, teams), ``team_cohort``,
        ``countdown``; anything left out takes the quiz's live options."""
        body = {k: options[k] for k in START_FIELDS if k in options and options[k] is not None}
        return self._step("start", lambda: self._client.post(f"{self._path()}/live", body))

    def next_question(self, countdown: int | None = None) -> dict[str, Any] | None:
        """Show the next question (the first, from the lobby), optionally with its own
        countdown in seconds."""
        body = {} if countdown is None else {"countdown": countdown}
        return self._session_step("next", body)

    def close_question(self) -> dict[str, Any] | None:
        """Close the open question before its countdown ends."""
        return self._session_step("close")

    def end_live(self) -> dict[str, Any] | None:
        """End the round (an open question closes with it)."""
        return self._session_step("end")

    def _session_step(self, action: str, body: Any = None) -> dict[str, Any] | None:
        session_id = self._session_id()
        if session_id is None:
            self._fail(action, 404, "no_session", NO_ROUND, None)
            return None
        path = self._session_path(session_id, f"/{action}")
        return self._step(action, lambda: self._client.post(path, body))

    def _step(self, action: str, request: Callable[[], Any]) -> dict[str, Any] | None:
        """One request answered with a ``LiveView``, which is then shown."""
        self._clear_live_error()
        self.live_pending = action
        try:
            view = self._call(action, lambda: live_view(request()))
        finally:
            self.live_pending = ""
        if view is None:
            self._reload_after_refusal()
            return None
        self._show(view)
        return view

    def _clear_live_error(self) -> None:
        if self.error is not None and self.error.get("during") in LIVE_ACTIONS:
            self.error = None

    def _reload_after_refusal(self) -> None:
        """After a 403/409 the round has usually moved on (the question closed, the round
        ended or another started): show where it is, and keep the refusal's message."""
        error = self.error
        if error is None or error.get("status") not in (403, 409):
            return
        self.refresh_live()
        if self.error is None:
            self.error = error
