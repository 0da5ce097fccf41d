"""The review kernel's launcher and the review copy, without a server: what a peer's code is
left with, and what a copy keeps."""

from __future__ import annotations

import json

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
