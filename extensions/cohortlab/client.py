"""A small synchronous client for the service's API, as the person whose hub token it holds.

Used where there is no browser: the ``cohortlab`` CLI in an instructor's nbgrader course,
nbgrader preprocessors, and notebook widgets in a learner's kernel. Identity is the hub
token (JupyterHub gives every single-user server, and so its kernels, one in
``JUPYTERHUB_API_TOKEN``); the service checks it with the hub, so nothing sent here can
claim to be someone else.
"""

from __future__ import annotations

import os
import time
from typing import Any

import requests

DEFAULT_URL = "http://127.0.0.1:10101/services/cohortlab/"


#: the most seconds one call waits in total for the service's write limit (429 Retry-After)
MAX_RETRY_WAIT = 120.0


def _retry_after(resp: requests.Response) -> float | None:
    """Seconds to wait before asking again, for a 429 that says so; else ``None``."""
    if resp.status_code != 429:
        return None
    value = resp.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


class ServiceError(Exception):
    """The service refused or could not be reached; ``message`` is meant for a person."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message

    def __str__(self) -> str:
        return self.message


class ServiceClient:
    def __init__(
        self, url: str | None = None, token: str | None = None, timeout: float = 15.0
    ) -> None:
        self.url = (url or os.environ.get("COHORTLAB_SERVICE_URL") or DEFAULT_URL).rstrip("/")
        self.token = (
            token or os.environ.get("COHORTLAB_TOKEN") or os.environ.get("JUPYTERHUB_API_TOKEN")
        )
        self.timeout = timeout
        self._session = requests.Session()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        raw: bool = False,
    ) -> Any:
        """Call ``/api/v1/<path>``; the decoded JSON (or the text when ``raw``).

        Raises :class:`ServiceError` with the service's own message on a 4xx/5xx, and a
        message saying what to check when there is no token or no service.
        """
        if not self.token:
            raise ServiceError(
                401,
                "no_token",
                "No hub token: run this inside a JupyterHub server (JUPYTERHUB_API_TOKEN) or "
                "set COHORTLAB_TOKEN.",
            )
        url = f"{self.url}/api/v1/{path.lstrip('/')}"
        waited = 0.0
        while True:
            try:
                resp = self._session.request(
                    method,
                    url,
                    json=body,
                    params=params,
                    headers={"Authorization": f"token {self.token}"},
                    timeout=self.timeout,
                )
            except requests.RequestException as e:
                raise ServiceError(
                    503,
                    "service_unreachable",
                    f"The CohortLab service at {self.url} could not be reached "
                    f"({type(e).__name__}); check COHORTLAB_SERVICE_URL or try again shortly.",
                ) from None
            # Over the write limit (staff uploading a large class): nothing was written, so
            # waiting as told and asking again is safe.
            wait = _retry_after(resp)
            if wait is None or waited + wait > MAX_RETRY_WAIT:
                break
            time.sleep(wait)
            waited += wait
        if resp.status_code >= 400:
            code, message = "error", resp.text[:500] or resp.reason
            try:
                error = resp.json()["error"]
                code, message = error["code"], error["message"]
            except (ValueError, KeyError, TypeError):
                pass
            raise ServiceError(resp.status_code, code, message)
        if raw:
            return resp.text
        return resp.json() if resp.content else None

    def get(self, path: str, **params: str) -> Any:
        return self.request("GET", path, params=params or None)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body)

    def put(self, path: str, body: Any = None) -> Any:
        return self.request("PUT", path, body)

    def patch(self, path: str, body: Any = None) -> Any:
        return self.request("PATCH", path, body)
