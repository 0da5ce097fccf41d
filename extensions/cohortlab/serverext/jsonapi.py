"""The one error shape and body check for the server extension's JSON routes.

jupyter_server's APIHandler writes its own error JSON; ours carries the service's
``{"error": {"code", "message"}}`` so the lab shows the same messages wherever they come from.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_server.base.handlers import APIHandler

from ..errors import APIError, error_body


class JSONAPIHandler(APIHandler):
    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(error_body(status_code, exc)))

    def json_object(self) -> dict[str, Any]:
        """The request body as a JSON object, or a 400 saying it is not one."""
        try:
            data = json.loads(self.request.body or b"null")
        except ValueError:
            raise APIError(400, "invalid_json", "The body must be a JSON object.") from None
        if not isinstance(data, dict):
            raise APIError(400, "invalid_json", "The body must be a JSON object.")
        return data
