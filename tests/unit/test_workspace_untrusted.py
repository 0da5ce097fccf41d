"""Untrusted outputs in a cohort workspace: on unless turned off, and anywidget's own lab
extension off the page then (it would import the shared kernel's ``_esm``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cohortlab.workspace_server.app import WorkspaceExtension, anywidget_version, untrusted_widgets
from cohortlab.workspace_server.kernels import kernel_env
from cohortlab.workspace_server.lockdown import (
    confine_contents,
    drop_writable_lab_extension_paths,
    keep_cohortlab,
    members_can_write,
)
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web


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
    assert page == {
        "disabledExtensions": ["anywidget"],
        "lockedExtensions": ["cohortlab"],
        "mine": True,
    }


def test_cohortlab_stays_on_and_locked_whatever_the_page_configuration_says() -> None:
    page = keep_cohortlab(
        {"disabledExtensions": ["cohortlab", "cohortlab:workspace-untrusted", "other:x"]}
    )
    assert page["disabledExtensions"] == ["other:x"]
    assert page["lockedExtensions"] == ["cohortlab"]


def test_a_workspace_page_without_cohortlabs_lab_extension_is_refused() -> None:
    with pytest.raises(web.HTTPError) as refused:
        keep_cohortlab({"federated_extensions": [{"name": "anywidget"}]})
    assert refused.value.status_code == 503
    assert "tell your instructor" in str(refused.value.reason)
    assert keep_cohortlab({"federated_extensions": [{"name": "cohortlab"}]})


def test_lab_extension_folders_members_can_write_are_left_out(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("JUPYTER_DATA_DIR", raising=False)
    system = "/usr/share/jupyter/labextensions"
    lab = SimpleNamespace(
        labextensions_path=[str(tmp_path / "home/.local/share/jupyter/labextensions"), system],
        extra_labextensions_path=[str(tmp_path / "home/elsewhere")],
    )
    point = SimpleNamespace(app=lab)
    server = SimpleNamespace(
        extension_manager=SimpleNamespace(
            extensions={
                "jupyterlab": SimpleNamespace(extension_points={"jupyterlab": point}),
                "other": SimpleNamespace(extension_points={"x": SimpleNamespace(app=None)}),
            }
        )
    )
    dropped = drop_writable_lab_extension_paths(server)
    assert lab.labextensions_path == [system]
    assert lab.extra_labextensions_path == []
    assert len(dropped) == 2
    assert members_can_write(tmp_path / "home" / "not-yet")
    assert not members_can_write(system)


def test_kernels_go_without_the_python_user_site_like_the_server() -> None:
    env = kernel_env({"JUPYTERHUB_API_TOKEN": "t", "PATH": "/bin"})
    assert env == {"PATH": "/bin", "PYTHONNOUSERSITE": "1"}


async def test_files_behind_a_link_out_of_the_workspace_are_not_served(tmp_path: Path) -> None:
    root, state = tmp_path / "home", tmp_path / "state"
    root.mkdir()
    (state / "runtime").mkdir(parents=True)
    (state / "runtime" / "jpserver-1.json").write_text('{"token": "secret"}')
    (root / "notes.txt").write_text("ours")
    (root / "peek").symlink_to(state)
    (root / "inside").symlink_to(root / "notes.txt")

    class App:
        contents_manager = AsyncLargeFileManager(root_dir=str(root))

    cm = App.contents_manager
    assert (await cm.get("peek/runtime/jpserver-1.json"))["content"]  # control: served before
    assert confine_contents(App)
    for path in ("peek/runtime/jpserver-1.json", "peek/runtime", "peek/new.txt"):
        with pytest.raises(web.HTTPError) as refused:
            await cm.get(path)
        assert refused.value.status_code == 404
    with pytest.raises(web.HTTPError):
        await cm.save({"type": "file", "format": "text", "content": "x"}, "peek/runtime/x.txt")
    assert not (state / "runtime" / "x.txt").exists()
    assert (await cm.get("inside"))["content"] == "ours"  # a link inside stays fine
    assert (await cm.get("notes.txt"))["content"] == "ours"
