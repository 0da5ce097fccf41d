"""``POST /cohortlab/notebook-key``: give a notebook outside nbgrader its discussion key.

Threads hang on ``(course, notebook_key, cell_key)``. Course notebooks released by
nbgrader are keyed ``<assignment>/<notebook>`` from their place on disk; any other
notebook gets a random key stored in its own metadata (``metadata.cohortlab``) the
first time it is discussed, so copies and renames keep their threads. The key is
written here, by the server that owns the file, through its contents manager: it
is on disk at once, whatever the browser does next, and two tabs asking at once
get the same key (one lock per path).

Anyone who may write this server's files may stamp them (the ``contents`` write
permission); the key is not a secret and grants nothing on the service.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections import defaultdict
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..errors import APIError, error_body

_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
MAX_COURSE = 255


class NotebookKeyHandler(APIHandler):
    auth_resource = "contents"

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(json.dumps(error_body(status_code, exc)))

    def _request(self) -> tuple[str, str]:
        try:
            data = json.loads(self.request.body or b"null")
        except ValueError:
            raise APIError(400, "invalid_json", "The body must be a JSON object.") from None
        if not isinstance(data, dict):
            raise APIError(400, "invalid_json", "The body must be a JSON object.")
        path, course = data.get("path"), data.get("course")
        if not isinstance(path, str) or not path.endswith(".ipynb"):
            raise APIError(400, "invalid_path", "'path' must name a notebook (.ipynb) here.")
        if not isinstance(course, str) or not course.strip() or len(course) > MAX_COURSE:
            raise APIError(400, "invalid_course", "'course' must be a course id.")
        return path.strip("/"), course.strip()

    @web.authenticated
    @authorized
    async def post(self) -> None:
        path, course = self._request()
        cm = self.contents_manager
        async with _locks[path]:
            try:
                model = await ensure_async(cm.get(path, content=True, type="notebook"))
            except web.HTTPError as e:
                if e.status_code == 404:
                    raise APIError(
                        404, "no_such_notebook", f"There is no notebook {path}."
                    ) from None
                raise APIError(
                    400, "unreadable_notebook", f"{path} could not be read as a notebook."
                ) from None
            meta = model["content"].setdefault("metadata", {})
            found = meta.get("cohortlab")
            stamp = dict(found) if isinstance(found, dict) else {}
            key = stamp.get("notebook_key")
            if isinstance(key, str) and key:
                self.finish({"notebook_key": key, "stamped": False})
                return
            stamp["notebook_key"] = uuid.uuid4().hex
            stamp.setdefault("course", course)
            meta["cohortlab"] = stamp  # nbformat's node copies a dict on assignment
            saved = await ensure_async(
                cm.save({"type": "notebook", "format": "json", "content": model["content"]}, path)
            )
        self.log.info("CohortLab: stamped %s with notebook key %s", path, stamp["notebook_key"])
        self.finish(
            {
                "notebook_key": stamp["notebook_key"],
                "stamped": True,
                "last_modified": str(saved.get("last_modified")),
            }
        )
