"""The review kernel's launcher and the review copy, without a server: what a peer's code is
left with, and what a copy keeps."""

from __future__ import annotations

import json
import os

import pytest
from cohortlab.serverext import review_kernel, reviews
from cohortlab.serverext.review_kernel import KERNEL_NAME, KERNELS_DIR, scrub_environment
from cohortlab.serverext.reviews import untrusted_copy


def test_scrubbing_keeps_what_python_needs_and_no_credential() -> None:
    env = {
        "PATH": "/usr/bin",
        "HOME": "/home/ada",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "JUPYTERHUB_API_TOKEN": "t",
        "JPY_API_TOKEN": "t",
        "JUPYTERHUB_USER": "ada",
        "JUPYTERHUB_SERVICE_URL": "http://x",
        "COHORTLAB_SERVICE_URL": "http://x",
        "AWS_SECRET_ACCESS_KEY": "s",
        "GITHUB_TOKEN": "g",
        "MY_PASSWORD": "p",
        "JPY_SESSION_NAME": "peer-review/x.ipynb",
        "LC_AUTH_TOKEN": "sneaky",
    }
    assert scrub_environment(env) == {
        "PATH": "/usr/bin",
        "HOME": "/home/ada",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
    }


def test_the_kernelspec_starts_the_launcher_not_ipykernel() -> None:
    spec = json.loads((KERNELS_DIR / KERNEL_NAME / "kernel.json").read_text())
    assert spec["argv"][:3] == ["python", "-m", "cohortlab.serverext.review_kernel"]
    assert "env" not in spec


def test_a_copy_keeps_no_trust_flag_and_no_metadata_but_its_review() -> None:
    content = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3"},
            "language_info": {"name": "python"},
            "authors": [{"name": "Ada"}],
        },
        "cells": [
            {"cell_type": "code", "metadata": {"trusted": True}, "source": "", "outputs": []},
            {"cell_type": "markdown", "metadata": {"tags": ["x"]}, "source": "hi"},
        ],
    }
    meta = {"kind": "review", "course": "c", "assignment": "a", "submission": 3}
    nb = untrusted_copy(content, meta)
    assert nb["metadata"] == {
        "language_info": {"name": "python"},
        "kernelspec": {
            "name": "cohortlab-review",
            "display_name": "Peer review (sandboxed Python)",
            "language": "python",
        },
        "cohortlab_review": meta,
    }
    assert nb["cells"][0]["metadata"] == {"cohortlab_review": {"index": 0}}
    assert nb["cells"][1]["metadata"] == {"tags": ["x"], "cohortlab_review": {"index": 1}}
    assert content["cells"][0]["metadata"] == {"trusted": True}  # the input is not changed


# --- hosts without user namespaces: peer code does not run unless the server allows it -----


@pytest.fixture
def no_namespaces(monkeypatch, tmp_path):
    monkeypatch.setattr(review_kernel, "probe_sandbox", lambda: False)
    monkeypatch.delenv(review_kernel.UNSANDBOXED_VAR, raising=False)
    connection = tmp_path / "kernel.json"
    connection.write_text("{}")
    started: list[list[str]] = []

    def execve(path: str, argv: list[str], env: dict[str, str]) -> None:
        started.append(argv)
        raise SystemExit(0)

    monkeypatch.setattr(review_kernel.os, "execve", execve)
    return connection, started


def test_without_namespaces_the_review_kernel_refuses_to_start(no_namespaces, capsys) -> None:
    connection, started = no_namespaces
    assert review_kernel.main(["-f", str(connection)]) == review_kernel.REFUSED_EXIT
    assert started == []
    assert "does not start" in capsys.readouterr().err


def test_a_server_that_allows_it_runs_peer_code_with_a_scrubbed_environment(
    no_namespaces, monkeypatch
) -> None:
    connection, started = no_namespaces
    monkeypatch.setenv(review_kernel.UNSANDBOXED_VAR, "1")
    with pytest.raises(SystemExit):
        review_kernel.main(["-f", str(connection)])
    assert started and "ipykernel_launcher" in " ".join(started[0])


@pytest.mark.parametrize(
    ("probe", "allowed", "level"),
    [(True, False, "namespaces"), (True, True, "namespaces"), (False, True, "environment"),
     (False, False, "none")],
)  # fmt: skip
async def test_the_copy_says_how_peer_code_will_run_here(
    monkeypatch, probe: bool, allowed: bool, level: str
) -> None:
    monkeypatch.setattr(reviews, "_probe", lambda: probe)
    monkeypatch.setattr(reviews, "_sandbox", {})
    monkeypatch.delenv(review_kernel.UNSANDBOXED_VAR, raising=False)
    reviews.allow_unsandboxed(allowed)
    assert await reviews.sandbox_level() == level
    reviews.allow_unsandboxed(False)
    assert review_kernel.UNSANDBOXED_VAR not in os.environ
