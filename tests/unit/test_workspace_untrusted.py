"""Untrusted outputs in a cohort workspace: on unless turned off, and anywidget's own lab
extension off the page then (it would import the shared kernel's ``_esm``)."""

from __future__ import annotations

from typing import Any

import pytest
from cohortlab.workspace_server.app import WorkspaceExtension, anywidget_version, untrusted_widgets


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        (None, True),
        ("", True),
        ("1", True),
        ("yes", True),
        ("0", False),
        ("False", False),
        ("no", False),
    ],
)
def test_untrusted_outputs_are_the_default(
    monkeypatch: pytest.MonkeyPatch, flag: str | None, expected: bool
) -> None:
    if flag is None:
        monkeypatch.delenv("COHORTLAB_WORKSPACE_UNTRUSTED_OUTPUTS", raising=False)
    else:
        monkeypatch.setenv("COHORTLAB_WORKSPACE_UNTRUSTED_OUTPUTS", flag)
    assert WorkspaceExtension().untrusted_outputs is expected


def test_the_page_loses_anywidget_and_learns_its_version() -> None:
    settings: dict[str, Any] = {"page_config_data": {"cohortlabUntrustedOutputs": "true"}}
    untrusted_widgets(settings)
    assert settings["page_config_data"]["cohortlabAnywidgetVersion"] == anywidget_version()
    assert anywidget_version().count(".") == 2  # installed, so the kernels' module resolves
    page = settings["page_config_hook"](None, {"disabledExtensions": ["other:plugin"]})
    assert page["disabledExtensions"] == ["other:plugin", "anywidget"]
    assert settings["page_config_hook"](None, {})["disabledExtensions"] == ["anywidget"]


def test_a_hook_already_there_still_runs_first() -> None:
    seen: list[str] = []

    def previous(handler: Any, page: dict[str, Any]) -> dict[str, Any]:
        seen.append("previous")
        return {**page, "disabledExtensions": ["anywidget"], "mine": True}

    settings: dict[str, Any] = {"page_config_hook": previous}
    untrusted_widgets(settings)
    page = settings["page_config_hook"](None, {})
    assert seen == ["previous"]
    assert page == {"disabledExtensions": ["anywidget"], "mine": True}
