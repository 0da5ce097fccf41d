"""A peer review round opened through the real service, as ``cohortlab review open`` does, with
submissions that carry hostile HTML and JavaScript outputs (for the JupyterLab-side tests)."""

from __future__ import annotations

import uuid
from typing import Any

from cohortlab.reviews.anonymize import Author, anonymize_notebook
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tests.helpers.hub import Hub

COURSE = "demo101"
LEARNERS = ["ada", "ben", "cy", "dee", "eli", "fay"]
RUBRIC = [
    {"kind": "nbgrader", "notebook": "hw", "grade_id": "essay", "max_points": 2},
    {
        "kind": "instructor",
        "id": "clarity",
        "title": "Clarity",
        "max_points": 3,
        "description": "Is the **reasoning** easy to follow?",
    },
]
STATUSES = ["unchanged", "changed", "changed", "unchanged"]
# Each would set a mark on the page if JupyterLab ran it.
HOSTILE_HTML = (
    "<b>hostile</b><img src=x onerror=\"document.body.dataset.clPwned='img'\">"
    "<script>document.body.dataset.clPwned='script'</script>"
)
HOSTILE_JS = "document.body.dataset.clPwned = 'javascript';"


def submission(author: str) -> Any:
    """Template cell, a changed code cell with hostile outputs, a changed answer, template."""
    return new_notebook(
        cells=[
            new_markdown_cell("# Homework 1\nAnswer below."),
            new_code_cell(
                "from IPython.display import HTML, Javascript\nHTML(h); Javascript(j)",
                outputs=[
                    new_output("display_data", data={"text/html": HOSTILE_HTML}),
                    new_output("display_data", data={"application/javascript": HOSTILE_JS}),
                    new_output("stream", name="stdout", text="median = 3\n"),
                ],
            ),
            new_markdown_cell(
                "The median resists outliers.",
                metadata={"nbgrader": {"grade": True, "grade_id": "essay", "points": 2}},
            ),
            new_markdown_cell("End of homework."),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )


def api(hub: Hub, user: str, method: str, path: str, body: Any = None) -> Any:
    resp = hub.api(
        method,
        f"/services/cohortlab/api/v1/courses/{COURSE}/reviews{path}",
        hub.token_for(user),
        json=body,
    )
    assert resp.status_code < 300, f"{user} {method} {path}: {resp.status_code} {resp.text}"
    return resp.json() if resp.content else None


def open_round(hub: Hub, k: int = 2, **settings: Any) -> str:
    """A fresh round over every demo learner; its assignment name."""
    assignment = f"hw-{uuid.uuid4().hex[:8]}"
    body = {"authors": LEARNERS, "criteria": RUBRIC, "k": k, **settings}
    upload = api(hub, "instructor", "POST", f"/{assignment}/uploads", body)["upload"]
    for author in upload["to_upload"]:
        content = anonymize_notebook(submission(author), Author(author), secret=upload["copy_key"])
        copy = {
            "notebooks": [
                {"name": "hw.ipynb", "content": content, "cells": [{"status": s} for s in STATUSES]}
            ]
        }
        api(
            hub,
            "instructor",
            "PUT",
            f"/{assignment}/uploads/{upload['id']}/submissions/{author}",
            copy,
        )
    api(hub, "instructor", "POST", f"/{assignment}/uploads/{upload['id']}/commit")
    return assignment


def my_numbers(hub: Hub, user: str, assignment: str) -> list[int]:
    return [a["submission"] for a in api(hub, user, "GET", f"/{assignment}")["assignments"]]
