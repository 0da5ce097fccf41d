"""The server extension of cohort workspace servers (``cohortlab.workspace_server``).

Enabled only on workspace servers, by the hub's spawn hook
(``cohortlab.cohorts.hubhooks.workspace_server_args``). It records who last edited and
who last ran each cell, from the authenticated connection that delivered the change
(``rooms.py``, ``kernels.py``), knows who is connected now (presence), keeps the
workspace's own hub token out of kernels, and serves all that to the workspace's lab at
``<server>/cohortlab/workspace`` (docs/cohort-workspace.md).
"""

from __future__ import annotations

from typing import Any


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from .app import WorkspaceExtension

    return [{"module": "cohortlab.workspace_server", "app": WorkspaceExtension}]
