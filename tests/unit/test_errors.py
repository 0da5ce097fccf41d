"""One error shape, with no internal detail for server errors."""

from cohortlab.errors import APIError, error_body
from tornado import web


def test_api_error_keeps_its_code_and_message() -> None:
    body = error_body(409, APIError(409, "locked", "The thread is locked."))
    assert body == {"error": {"code": "locked", "message": "The thread is locked."}}


def test_bare_http_errors_get_a_code_and_a_readable_message() -> None:
    assert error_body(404, web.HTTPError(404))["error"]["code"] == "not_found"
    assert error_body(401, None)["error"]["code"] == "not_authenticated"


def test_server_errors_never_leak_their_detail() -> None:
    body = error_body(500, RuntimeError("password=hunter2 at line 3"))
    assert "hunter2" not in str(body)
    assert body["error"]["code"] == "server_error"
