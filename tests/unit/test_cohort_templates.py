"""Template pushes without a hub: body checks, the free-name rule, never over existing work,
and the same cells counting as done (so a second push fills gaps, not copies)."""

from __future__ import annotations

import copy
from typing import Any

import nbformat
import pytest
from cohortlab.cohorts import templates
from cohortlab.cohorts.manage import CohortState
from cohortlab.errors import APIError

NOTEBOOK = dict(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Week 1")]))
RED = CohortState("demo101", "red", "cohort-demo101-red", "cohort-demo101-red", False, ("ada",))


class Files:
    """A workspace's contents API in memory."""

    def __init__(self, **files: dict[str, Any]) -> None:
        self.files = dict(files)
        self.puts: list[str] = []

    async def get(self, path: str, *, content: bool = True) -> dict[str, Any] | None:
        if path not in self.files:
            return None
        return {"type": "notebook", "content": self.files[path]}

    async def put(self, path: str, model: dict[str, Any]) -> dict[str, Any]:
        assert path not in self.files, f"overwrote {path}"
        self.files[path] = model["content"]
        self.puts.append(path)
        return {"path": path}


def template(on_conflict: str = "rename") -> templates.Template:
    body = {"name": "week1.ipynb", "notebook": NOTEBOOK, "on_conflict": on_conflict}
    return templates.check_template(body)


def other_work() -> dict[str, Any]:
    nb = copy.deepcopy(NOTEBOOK)
    nb["cells"][0]["source"] = "# our own notes"
    return nb


async def test_a_free_name_is_written() -> None:
    files = Files()
    out = await templates._place(files, RED, template())
    assert (out.status, out.path, files.puts) == ("written", "week1.ipynb", ["week1.ipynb"])


async def test_existing_work_is_never_overwritten_the_template_gets_the_next_free_name() -> None:
    files = Files(**{"week1.ipynb": other_work(), "week1 (2).ipynb": other_work()})
    out = await templates._place(files, RED, template())
    assert (out.status, out.path) == ("renamed", "week1 (3).ipynb")
    assert files.files["week1.ipynb"] == other_work()


async def test_refuse_reports_the_file_in_the_way_and_writes_nothing() -> None:
    files = Files(**{"week1.ipynb": other_work()})
    out = await templates._place(files, RED, template("refuse"))
    assert (out.status, out.path, files.puts) == ("refused", "week1.ipynb", [])
    assert "already exists" in out.message


async def test_pushing_again_finds_the_same_cells_and_makes_no_copy() -> None:
    saved = copy.deepcopy(NOTEBOOK)
    saved["metadata"]["kernelspec"] = {"name": "python3"}  # a server may add metadata
    saved["cells"][0]["source"] = ["# Week 1"]  # and store sources as lists
    files = Files(**{"week1.ipynb": other_work(), "week1 (2).ipynb": saved})
    out = await templates._place(files, RED, template())
    assert (out.status, out.path) == ("unchanged", "week1 (2).ipynb")
    out = await templates._place(Files(**{"week1.ipynb": saved}), RED, template("refuse"))
    assert (out.status, out.path) == ("unchanged", "week1.ipynb")
    assert files.puts == []


async def test_when_every_candidate_name_is_taken_the_cohort_fails_with_a_hint() -> None:
    files = Files(**{name: other_work() for name in templates.candidates("week1.ipynb")})
    out = await templates._place(files, RED, template())
    assert out.status == "failed" and "another --name" in out.message


async def test_an_archived_cohort_gets_nothing() -> None:
    archived = CohortState("demo101", "old", "g", "a", True, ())
    out = await templates.push_one(None, archived, template())  # type: ignore[arg-type]
    assert out.status == "failed" and "archived" in out.message


def test_candidate_names() -> None:
    names = templates.candidates("a b.ipynb")
    assert names[:3] == ["a b.ipynb", "a b (2).ipynb", "a b (3).ipynb"]
    assert len(names) == templates.MAX_COPIES


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"notebook": NOTEBOOK}, 400, "invalid_name"),
        ({"name": "dir/x.ipynb", "notebook": NOTEBOOK}, 400, "invalid_name"),
        ({"name": ".hidden.ipynb", "notebook": NOTEBOOK}, 400, "invalid_name"),
        ({"name": "x.py", "notebook": NOTEBOOK}, 400, "invalid_name"),
        ({"name": "x.ipynb"}, 400, "invalid_notebook"),
        ({"name": "x.ipynb", "notebook": {"cells": "no"}}, 400, "invalid_notebook"),
        (
            {"name": "x.ipynb", "notebook": NOTEBOOK, "on_conflict": "overwrite"},
            400,
            "invalid_field",
        ),
        ({"name": "x.ipynb", "notebook": NOTEBOOK, "cohorts": []}, 400, "invalid_field"),
        ({"name": "x.ipynb", "notebook": NOTEBOOK, "cohorts": ["Red"]}, 400, "invalid_name"),
        ({"name": "x.ipynb", "notebook": NOTEBOOK, "force": True}, 400, "unknown_field"),
    ],
)
def test_bad_push_bodies_are_refused_before_any_workspace_is_touched(
    body: dict[str, Any], status: int, code: str
) -> None:
    with pytest.raises(APIError) as exc:
        templates.check_template(body)
    assert (exc.value.status_code, exc.value.code) == (status, code)


def test_a_huge_template_is_413(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(templates, "MAX_TEMPLATE_BYTES", 100)
    with pytest.raises(APIError) as exc:
        templates.check_template({"name": "x.ipynb", "notebook": NOTEBOOK})
    assert exc.value.status_code == 413
