"""``POST /cohortlab/notebook-key``: give a notebook outside nbgrader its discussion key.

Threads hang on ``(course, notebook_key, cell_key)``. Course notebooks released by
nbgrader are keyed ``<assignment>/<notebook>`` from their place on disk; any other
notebook gets a random key stored in its own metadata (``metadata.cohortlab``) the
first time it is discussed, so copies and renames keep their threads, and its cells
get stable keys (``cohortlab.discussions.anchoring.stamp_cell_keys``). The key is
written here, by the server that owns the file, through its contents manager: it
is on disk at once, whatever the browser does next, and two tabs asking at once
get the same key (one lock per path).

Anyone who may write this server's files may stamp them (the ``contents`` write
permission); the key is not a secret and grants nothing on the service.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from tornado import web

from ..discussions.anchoring import (
    notebook_key,
    stable_cell_key,
    stamp_cell_keys,
    stamp_notebook_key,
)
from ..errors import APIError
from .jsonapi import JSONAPIHandler

_locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
MAX_COURSE = 255


class NotebookKeyHandler(JSONAPIHandler):
    auth_resource = "contents"

    def _request(self) -> tuple[str, str]:
        data = self.json_object()
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
            nb = model["content"]
            key = notebook_key(nb)
            if key is not None:
                self.finish({"notebook_key": key, "stamped": False})
                return
            try:
                key = stamp_notebook_key(nb)
                _own_course(nb, course)
                # stable cell keys too: JupyterLab gives cells of an nbformat < 4.5
                # notebook fresh ids on every load, which threads could not hang on
                cells = stamp_cell_keys(nb)
            except ValueError as e:
                raise APIError(400, "unreadable_notebook", f"{path}: {e}.") from None
            saved = await ensure_async(
                cm.save({"type": "notebook", "format": "json", "content": nb}, path)
            )
        self.log.info("CohortLab: stamped %s (key %s, %d cell keys)", path, key, cells)
        self.finish(
            {
                "notebook_key": key,
                "stamped": True,
                # each cell's key in file order, so the browser can tell when its
                # reloaded notebook shows them
                "cell_keys": [stable_cell_key(cell) for cell in nb["cells"]],
                "last_modified": str(saved.get("last_modified")),
            }
        )


def _own_course(nb: Any, course: str) -> None:
    section = nb["metadata"]["cohortlab"]
    if not section.get("course"):
        section["course"] = course
