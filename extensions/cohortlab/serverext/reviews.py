"""Peer review in the reviewer's own server: anonymous copies written as untrusted notebooks.

``POST /cohortlab/reviews/copies`` ``{"course", "assignment", "submission"}`` fetches the copy
a reviewer was allocated from the service (as this server's owner, like the relay) and writes
its notebooks to ``peer-review/<assignment>/Submission <n>/<notebook>``; ``POST
/cohortlab/reviews/feedback-copies`` ``{"course", "assignment"}`` writes the author's own
anonymous copy, as the feedback endpoint returns it, to ``peer-review/<assignment>/Feedback/``.

Every copy is written **untrusted**: jupyter_server signs a notebook on save when none of its
outputs is rich, so the signature is removed again and checked gone before the path is
returned (an HTML or JavaScript output of a peer then never runs when the copy is opened).
Its metadata says only which review it belongs to (course, assignment, submission number,
notebook name: nothing about the author), and its kernelspec is the sandboxed review kernel
(:mod:`cohortlab.serverext.review_kernel`).
"""

from __future__ import annotations

import asyncio
import copy
import ctypes
import json
import logging
import os
import re
import subprocess
import sys
from typing import Any
from urllib.parse import quote

import nbformat
from jupyter_core.utils import ensure_async
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest

from ..errors import APIError
from .handlers import RelayMixin
from .jsonapi import JSONAPIHandler
from .review_kernel import KERNEL_NAME, KERNELS_DIR, UNSANDBOXED_VAR

ROOT = "peer-review"
META = "cohortlab_review"
KERNELSPEC = {
    "name": KERNEL_NAME,
    "display_name": "Peer review (sandboxed Python)",
    "language": "python",
}
_NAME = re.compile(r"^[^/\\\0]{1,200}$")
PR_SET_DUMPABLE = 4
_sandbox: dict[str, bool] = {}


def register_review_kernel(serverapp: Any, log: logging.Logger) -> None:
    """Put the shipped kernelspec first on the kernel path, so no file in the person's home
    (which a peer's code could write) can stand in for it."""
    ksm = getattr(serverapp, "kernel_spec_manager", None)
    if ksm is None:
        return
    path = str(KERNELS_DIR)
    if path not in ksm.kernel_dirs:
        ksm.kernel_dirs.insert(0, path)
    log.debug("CohortLab review kernel registered from %s", path)


def harden_server(log: logging.Logger) -> bool:
    """PR_SET_DUMPABLE 0: /proc/<this pid>/environ, mem and ptrace become root's only, so a
    process of the same user cannot read the hub token from this server (kernels are exec'd
    and dumpable again: the review kernel protects itself differently)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl")
    except (OSError, AttributeError) as e:
        log.warning("CohortLab could not make the server non-dumpable: %s", e)
        return False
    return True


def allow_unsandboxed(allowed: bool) -> None:
    """Tell review kernels (started by this process) whether peer code may run without
    namespaces: an environment variable the launcher reads before it scrubs its own."""
    if allowed:
        os.environ[UNSANDBOXED_VAR] = "1"
    else:
        os.environ.pop(UNSANDBOXED_VAR, None)


async def sandbox_level() -> str:
    """What the review kernel gets here: ``namespaces``, ``environment`` (no namespaces, and
    the server lets peer code run anyway) or ``none`` (it does not start). Probed once, in a
    separate process (never by forking this multi-threaded server)."""
    if "ok" not in _sandbox:
        _sandbox["ok"] = await asyncio.get_running_loop().run_in_executor(None, _probe)
    if _sandbox["ok"]:
        return "namespaces"
    return "environment" if os.environ.get(UNSANDBOXED_VAR) == "1" else "none"


def _probe() -> bool:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cohortlab.serverext.review_kernel", "--probe"],
            capture_output=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _safe_segment(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _NAME.match(value) or value.strip(".") == "":
        raise APIError(400, "invalid_field", f"'{what}' must be a plain name without slashes.")
    return value


def untrusted_copy(
    content: dict[str, Any], meta: dict[str, Any], *, kernelspec: dict[str, str] = KERNELSPEC
) -> dict[str, Any]:
    """The notebook to write: no trust flags in cells, only ``language_info`` kept from the
    notebook's metadata, the review kernel and a pointer to the review."""
    nb = copy.deepcopy(content)
    for i, cell in enumerate(nb.get("cells", [])):
        cell_meta = cell.setdefault("metadata", {})
        cell_meta.pop("trusted", None)
        # where a comment on this cell points, whatever cells the reviewer adds around it
        cell_meta[META] = {"index": i}
    old = nb.get("metadata") or {}
    nb["metadata"] = {
        **({"language_info": old["language_info"]} if "language_info" in old else {}),
        "kernelspec": kernelspec,
        META: meta,
    }
    return nb


async def written(paths: list[str], folder: str) -> dict[str, Any]:
    """The answer to a copy request: where the notebooks are and how they will run."""
    return {
        "paths": paths,
        "folder": folder,
        "kernel": KERNEL_NAME,
        "sandbox": await sandbox_level(),
    }


class ReviewCopyBase(RelayMixin, JSONAPIHandler):
    """Owner only (the copy is fetched with the owner's token and is the owner's work)."""

    async def service_get(self, path: str) -> dict[str, Any]:
        """GET from the service as the owner; its own error is passed on as it is."""
        cl = self.cl
        req = HTTPRequest(
            cl["service_url"] + path,
            headers={"Authorization": f"token {cl['token']}", "Accept": "application/json"},
            request_timeout=cl["request_timeout"],
            follow_redirects=False,
        )
        try:
            resp = await AsyncHTTPClient().fetch(req, raise_error=False)
        except OSError as e:
            raise APIError(
                502, "service_unreachable", f"The CohortLab service could not be reached ({e})."
            ) from None
        if resp.code == 599:
            raise APIError(
                502, "service_unreachable", f"The CohortLab service did not answer ({resp.error})."
            )
        try:
            data = json.loads(resp.body)
        except ValueError:
            raise APIError(502, "invalid_response", "The service answered with no JSON.") from None
        if resp.code >= 400:
            err = data.get("error", {}) if isinstance(data, dict) else {}
            raise APIError(
                resp.code,
                str(err.get("code", "error")),
                str(err.get("message", f"The service answered {resp.code}.")),
            )
        return data

    async def write_copies(
        self,
        folder: str,
        notebooks: list[dict[str, Any]],
        meta: dict[str, Any],
        *,
        refresh: bool = False,
    ) -> list[str]:
        """Write each notebook unless it is there already (the reviewer's own runs stay), or
        always with ``refresh``."""
        cm = self.contents_manager
        await self._ensure_dirs(folder)
        paths = []
        for item in notebooks:
            name = _safe_segment(item.get("name"), "notebook")
            if not name.endswith(".ipynb"):
                raise APIError(502, "invalid_copy", f"The service sent {name!r}, not a notebook.")
            path = f"{folder}/{name}"
            paths.append(path)
            if not refresh and await ensure_async(cm.file_exists(path)):
                continue
            nb = untrusted_copy(item.get("content") or {}, {**meta, "notebook": name})
            await ensure_async(cm.save({"type": "notebook", "format": "json", "content": nb}, path))
            # jupyter_server signs a notebook whose outputs are all plain; take that back.
            cm.notary.unsign(nbformat.from_dict(copy.deepcopy(nb)))
            model = await ensure_async(cm.get(path, content=True, type="notebook"))
            if any(
                c.get("metadata", {}).get("trusted")
                for c in model["content"]["cells"]
                if c.get("cell_type") == "code"
            ):
                await ensure_async(cm.delete(path))
                raise APIError(
                    500, "copy_trusted", "The copy could not be written untrusted; not opened."
                )
        return paths

    async def _ensure_dirs(self, folder: str) -> None:
        cm = self.contents_manager
        parts = folder.split("/")
        for i in range(1, len(parts) + 1):
            sub = "/".join(parts[:i])
            if not await ensure_async(cm.dir_exists(sub)):
                await ensure_async(cm.save({"type": "directory"}, sub))


class ReviewCopyHandler(ReviewCopyBase):
    @web.authenticated
    async def post(self) -> None:
        self.check_owner()
        data = self.json_object()
        course = _safe_segment(data.get("course"), "course")
        assignment = _safe_segment(data.get("assignment"), "assignment")
        number = data.get("submission")
        if isinstance(number, bool) or not isinstance(number, int) or number < 1:
            raise APIError(400, "invalid_field", "'submission' must be a submission number.")
        got = await self.service_get(
            f"api/v1/courses/{quote(course, safe='')}/reviews/{quote(assignment, safe='')}"
            f"/submissions/{number}"
        )
        sub = got.get("submission") or {}
        folder = f"{ROOT}/{assignment}/Submission {number}"
        meta = {"kind": "review", "course": course, "assignment": assignment, "submission": number}
        refresh = data.get("refresh") is True
        paths = await self.write_copies(folder, sub.get("notebooks") or [], meta, refresh=refresh)
        self.finish(await written(paths, folder))


class FeedbackCopyHandler(ReviewCopyBase):
    @web.authenticated
    async def post(self) -> None:
        self.check_owner()
        data = self.json_object()
        course = _safe_segment(data.get("course"), "course")
        assignment = _safe_segment(data.get("assignment"), "assignment")
        got = await self.service_get(
            f"api/v1/courses/{quote(course, safe='')}/reviews/{quote(assignment, safe='')}/feedback"
        )
        sub = got.get("submission") or {}
        folder = f"{ROOT}/{assignment}/Feedback"
        meta = {"kind": "feedback", "course": course, "assignment": assignment}
        # always fresh: the author's own copy, never run here, shown with the latest feedback
        paths = await self.write_copies(folder, sub.get("notebooks") or [], meta, refresh=True)
        self.finish(await written(paths, folder))


default_handlers = [
    (r"/cohortlab/reviews/copies", ReviewCopyHandler),
    (r"/cohortlab/reviews/feedback-copies", FeedbackCopyHandler),
]
