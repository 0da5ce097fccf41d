"""What ``Quiz`` and ``Leaderboard`` share: the service call, errors as state, the fallback.

Both widgets talk to the service *from the kernel*, as the learner, with the kernel's hub
token (:class:`cohortlab.client.ServiceClient`); the browser only ever sees what the
service answered. Requests are made when the front end asks (``{"type": "refresh"}`` on
first display, on a live event, on a timer), not when the widget is created, so
executing a notebook without a front end (nbconvert, nbgrader autograding) never calls
the service.
"""

from __future__ import annotations

import html
import logging
import os
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote

import anywidget
import traitlets as t
from IPython.display import display

from ..client import ServiceClient, ServiceError
from ._assets import bundle, read_asset

log = logging.getLogger(__name__)

T = TypeVar("T")

STATIC_FALLBACK = "Open this notebook in JupyterLab with a running kernel to take the quiz."
SHARED_SERVER = (
    "This server is shared by several people, so its kernel would answer as the server's "
    "owner, not as you. Here the widget itself answers for you from your browser; from code, "
    "take quizzes and see your rank in your own server (your own copy of the notebook)."
)


#: The output a widget adds beside its widget view, for the lab extension's safe renderer: in
#: a cohort workspace (outputs untrusted) it draws the widget with CohortLab's own bundled
#: code, never the ``_esm`` the kernel sends (docs/cohort-workspace.md).
VIEW_MIMETYPE = "application/vnd.cohortlab.widget-view+json"


def segment(value: str) -> str:
    """One URL path segment: a quiz id or course name can never reach another route."""
    return quote(value, safe="")


class ServiceWidget(anywidget.AnyWidget):
    """An anywidget whose state is filled from the CohortLab service on request.

    ``status`` is ``idle`` (nothing asked yet), ``loading``, ``ready`` or ``error``;
    ``error`` is ``None`` or ``{"status", "code", "message", "during", "question"}``,
    ``message`` being the service's own words for a person; ``busy`` is true while a
    request is in flight, so the front end disables its buttons.
    """

    _css = read_asset("cohortlab.css")

    status = t.Unicode("idle", help="idle, loading, ready or error").tag(sync=True)
    error = t.Dict(default_value=None, allow_none=True, help="the last failure, for a person").tag(
        sync=True
    )
    busy = t.Bool(False, help="a request to the service is in flight").tag(sync=True)
    course = t.Unicode("", help="the course, given or resolved from the quiz id").tag(sync=True)
    _cohortlab_view = t.Unicode(
        help="which of the lab extension's bundled views draws this widget where kernel code "
        "may not run (a cohort workspace)"
    ).tag(sync=True)
    shared_server = t.Bool(
        False,
        help="the server is shared (direct mode): each browser acts as its person, not the "
        "kernel (widgets/person.js)",
    ).tag(sync=True)

    #: What the plain-text output says where no widget can render.
    fallback_text: ClassVar[str] = STATIC_FALLBACK

    def __init__(self, *, client: ServiceClient | None = None, **kwargs: Any) -> None:
        # A shared server (a cohort workspace) runs in direct mode: its kernel holds the
        # owner's hub token, so anything sent with it would count for the owner. The views
        # then make the requests themselves, from each person's browser, and keep each
        # person's state there. Given to the constructor so that it is in the state the comm
        # opens with: a browser that did not run the cell may render before any update.
        shared = client is None and os.environ.get("COHORTLAB_CLIENT_MODE") == "direct"
        super().__init__(shared_server=shared, **kwargs)
        self._shared_server = shared
        self._client = client or ServiceClient()
        self.on_msg(self._on_frontend_msg)

    # -- the front end -------------------------------------------------------------------

    def _on_frontend_msg(self, _widget: object, content: Any, _buffers: object) -> None:
        """Dispatch ``{"type": ...}`` messages; anything unknown is ignored, not raised,
        since a traceback would land in the learner's notebook."""
        if not isinstance(content, dict):
            return
        handler = self._handlers().get(str(content.get("type")))
        if handler is not None:
            handler(content)

    def _handlers(self) -> dict[str, Callable[[dict[str, Any]], None]]:
        return {"refresh": lambda _content: self.refresh()}

    def refresh(self) -> None:
        """Fetch everything the widget shows again (the front end asks on display)."""
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The widget view, with a text/plain that holds no quiz content: it is what a
        saved notebook shows where widgets are not rendered (nbconvert to Markdown, PDF,
        text; renderers that skip widget views). ``VIEW_MIMETYPE`` names the model and
        view for the lab extension, which draws it in untrusted cells from its own code."""
        bundle_ = super()._repr_mimebundle_(**kwargs)
        if bundle_ is None:
            return None
        data, metadata = bundle_
        ours = {"model_id": self.model_id, "view": self._cohortlab_view}
        return {**data, VIEW_MIMETYPE: ours, "text/plain": self.fallback_text}, metadata

    def _ipython_display_(self) -> None:
        """Two outputs: a note for static renderers, then the widget.

        nbconvert's HTML exporter (and so nbviewer) prefers a widget's view mimetype and,
        without saved widget state, renders it empty, so the text/plain inside the
        widget's own bundle is never seen there. A separate note is; the widgets'
        stylesheet, which is only on a page where the widget runs, hides it, so the note
        shows exactly where the widget cannot.
        """
        note = html.escape(self.fallback_text)
        display(
            {
                "text/plain": self.fallback_text,
                "text/html": f'<p class="cl-static-fallback">{note}</p>',
            },
            raw=True,
        )
        bundle_ = self._repr_mimebundle_()
        if bundle_ is not None:
            display(bundle_[0], metadata=bundle_[1], raw=True)

    # -- the service ---------------------------------------------------------------------

    def _call(
        self,
        during: str,
        request: Callable[[], T],
        question: str | None = None,
    ) -> T | None:
        """Run one request with ``busy`` set; a failure becomes ``error`` state.

        Every :class:`ServiceError` (the service's refusal, or no service, or no token)
        and an unreadable answer end up as a message in the widget, never as an
        exception in the kernel's output. Returns ``None`` after a failure.
        """
        if self._shared_server:
            self._fail(during, 409, "shared_server", SHARED_SERVER, question)
            return None
        self.busy = True
        try:
            result = request()
        except ServiceError as e:
            self._fail(during, e.status, e.code, e.message, question)
            return None
        except ValueError as e:  # a body that is not the JSON the contract promises
            log.warning("CohortLab widget: unreadable answer from the service: %s", e)
            self._fail(
                during,
                502,
                "bad_response",
                "The CohortLab service sent an answer this widget could not read; "
                "try again, or tell your instructor if it keeps happening.",
                question,
            )
            return None
        finally:
            self.busy = False
        return result

    def _fail(
        self, during: str, status: int, code: str, message: str, question: str | None
    ) -> None:
        self.error = {
            "status": status,
            "code": code,
            "message": message,
            "during": during,
            "question": question,
        }
        if self.status != "ready":
            self.status = "error"

    def _resolve_course(self, quiz_id: str, example: Callable[[str], str]) -> bool:
        """Fill ``course`` from ``GET quizzes/{quiz}`` when the notebook did not say it.

        Several courses cannot be told apart here (the learner may be in two courses
        using the same quiz), so the widget asks for ``course=`` instead of guessing.
        """
        if self.course:
            return True
        found = self._call(
            "load", lambda: pick(self._client.get(f"quizzes/{segment(quiz_id)}"), "courses")
        )
        if found is None:
            return False
        courses = [str(c) for c in found["courses"] or []]
        if len(courses) == 1:
            self.course = courses[0]
            return True
        if not courses:
            self._fail(
                "load", 404, "not_found", f"None of your courses has a quiz {quiz_id!r}.", None
            )
        else:
            names = ", ".join(courses)
            self._fail(
                "load",
                409,
                "ambiguous_course",
                f"The quiz {quiz_id!r} is in several of your courses ({names}). "
                f"Say which one, e.g. {example(courses[0])}",
                None,
            )
        return False


def esm(entry: str) -> str:
    """The joined ES module for a widget entry file (see :mod:`._assets`)."""
    return bundle(entry)


def pick(data: Any, *keys: str) -> dict[str, Any]:
    """The named keys of a service answer, verbatim; a ValueError if one is missing.

    Picking (never adding or rewriting) is what keeps the widget's synced state to what
    the service returned to this learner.
    """
    if not isinstance(data, dict) or any(k not in data for k in keys):
        raise ValueError(f"expected an object with {', '.join(keys)}")
    return {k: data[k] for k in keys}
