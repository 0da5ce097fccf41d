"""CohortLab: a social learning layer for JupyterHub.

The package holds the hub service (``cohortlab.service``), its storage
(``cohortlab.store``), the single-user server extension (``cohortlab.serverext``)
and the command line (``cohortlab.cli``). The JupyterLab extension is built from
``extensions/labextension`` into ``cohortlab/labextension``.
"""

from ._version import __version__


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    return [{"src": "labextension", "dest": "cohortlab"}]


def _jupyter_server_extension_points() -> list[dict[str, object]]:
    from .serverext.app import CohortLabServerExtension

    return [{"module": "cohortlab.serverext.app", "app": CohortLabServerExtension}]


__all__ = ["__version__"]
