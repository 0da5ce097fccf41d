"""The one error type every CohortLab surface raises.

Handlers raise :class:`APIError` (or tornado's ``HTTPError``) and a single
``write_error`` turns either into ``{"error": {"code": ..., "message": ...}}``,
so clients show ``message`` and branch on ``code`` without parsing prose.
"""

from __future__ import annotations

from http import HTTPStatus

from tornado import web


class APIError(web.HTTPError):
    """An error a person can act on: an HTTP status, a stable code and a sentence."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(status, reason=HTTPStatus(status).phrase)
        self.code = code
        self.message = message
        self.headers = headers or {}


# Fallback codes for bare HTTPErrors raised by tornado or jupyterhub's auth mixin.
_DEFAULT_CODES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("not_authenticated", "Sign in to JupyterHub to use CohortLab."),
    403: ("forbidden", "You are not allowed to do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept that method."),
    409: ("conflict", "This conflicts with the current state; reload and try again."),
    413: ("too_large", "The request body is too large."),
    422: ("invalid", "The request was understood but its content is not valid."),
    429: ("rate_limited", "Too many requests; wait a moment and try again."),
    502: ("bad_gateway", "The CohortLab service could not be reached."),
    503: ("unavailable", "The CohortLab service is not available right now."),
}


def error_body(status: int, exc: BaseException | None) -> dict[str, dict[str, str]]:
    """Build the one error shape; never leaks a traceback or internal detail."""
    if isinstance(exc, APIError):
        return {"error": {"code": exc.code, "message": exc.message}}
    code, message = _DEFAULT_CODES.get(status, ("server_error", "Something went wrong."))
    if status >= 500 and status not in _DEFAULT_CODES:
        message = "CohortLab hit an internal error; it has been logged. Try again later."
    elif isinstance(exc, web.HTTPError) and exc.log_message and status < 500:
        # tornado's own 4xx messages (e.g. "Missing argument x") are safe and useful.
        message = exc.log_message % exc.args if exc.args else exc.log_message
    return {"error": {"code": code, "message": message}}
