"""The server extension stamps a discussion key into a notebook outside nbgrader."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import nbformat
import pytest
from tornado.httpclient import HTTPClientError

from tests.helpers.jupyter_server import *  # noqa: F403


@pytest.fixture
def jp_server_config() -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"cohortlab": True}}}


def _stamp(jp_fetch: Any, loop: asyncio.AbstractEventLoop, body: Any) -> tuple[int, dict]:
    async def go() -> tuple[int, dict]:
        try:
            resp = await jp_fetch("cohortlab", "notebook-key", method="POST", body=json.dumps(body))
        except HTTPClientError as e:
            assert e.response is not None
            return e.code, json.loads(e.response.body)
        return resp.code, json.loads(resp.body)

    return loop.run_until_complete(go())


def test_first_discussion_stamps_a_key_that_then_stays(
    jp_fetch: Any, jp_root_dir: Any, jp_asyncio_loop: asyncio.AbstractEventLoop
) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    nbformat.write(nb, jp_root_dir / "team.ipynb")
    status, first = _stamp(jp_fetch, jp_asyncio_loop, {"path": "team.ipynb", "course": "c1"})
    assert status == 200 and first["stamped"] is True and len(first["notebook_key"]) == 32
    on_disk = nbformat.read(jp_root_dir / "team.ipynb", as_version=4)
    assert on_disk.metadata.cohortlab == {"notebook_key": first["notebook_key"], "course": "c1"}
    assert on_disk.cells[0].source == "x = 1"  # nothing else changed
    # the cell keeps its id as its stable key, stamped so copies without ids keep it too
    assert on_disk.cells[0].metadata.cohortlab.cell_key == nb.cells[0].id
    assert first["cell_keys"] == [nb.cells[0].id]
    status, again = _stamp(jp_fetch, jp_asyncio_loop, {"path": "team.ipynb", "course": "c1"})
    assert (status, again) == (200, {"notebook_key": first["notebook_key"], "stamped": False})


def test_cells_without_ids_get_fresh_keys(
    jp_fetch: Any, jp_root_dir: Any, jp_asyncio_loop: asyncio.AbstractEventLoop
) -> None:
    cells = [
        {"cell_type": "code", "metadata": {}, "source": s, "execution_count": None, "outputs": []}
        for s in ("a = 1", "b = 2")
    ]
    (jp_root_dir / "old.ipynb").write_text(
        json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 4})
    )
    status, got = _stamp(jp_fetch, jp_asyncio_loop, {"path": "old.ipynb", "course": "c1"})
    on_disk = json.loads((jp_root_dir / "old.ipynb").read_text())
    keys = [c["metadata"]["cohortlab"]["cell_key"] for c in on_disk["cells"]]
    assert status == 200 and got["cell_keys"] == keys and len(set(keys)) == 2


def test_concurrent_requests_get_one_key(
    jp_fetch: Any, jp_root_dir: Any, jp_asyncio_loop: asyncio.AbstractEventLoop
) -> None:
    nbformat.write(nbformat.v4.new_notebook(), jp_root_dir / "both.ipynb")

    async def both() -> list[str]:
        async def one() -> str:
            resp = await jp_fetch(
                "cohortlab",
                "notebook-key",
                method="POST",
                body=json.dumps({"path": "both.ipynb", "course": "c1"}),
            )
            return json.loads(resp.body)["notebook_key"]

        return list(await asyncio.gather(one(), one(), one()))

    keys = jp_asyncio_loop.run_until_complete(both())
    assert len(set(keys)) == 1


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"path": "nope.ipynb", "course": "c1"}, 404, "no_such_notebook"),
        ({"path": "notes.txt", "course": "c1"}, 400, "invalid_path"),
        ({"path": "bad.ipynb", "course": "c1"}, 400, "unreadable_notebook"),
        ({"path": "ok.ipynb"}, 400, "invalid_course"),
        (["ok.ipynb"], 400, "invalid_json"),
        ({"path": "../../etc/x.ipynb", "course": "c1"}, 404, "no_such_notebook"),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_write_nothing(
    jp_fetch: Any,
    jp_root_dir: Any,
    jp_asyncio_loop: asyncio.AbstractEventLoop,
    body: Any,
    status: int,
    code: str,
) -> None:
    (jp_root_dir / "bad.ipynb").write_text("{not json")
    nbformat.write(nbformat.v4.new_notebook(), jp_root_dir / "ok.ipynb")
    got_status, got = _stamp(jp_fetch, jp_asyncio_loop, body)
    assert (got_status, got["error"]["code"]) == (status, code), got
    assert got["error"]["message"]
    assert (jp_root_dir / "bad.ipynb").read_text() == "{not json"
    assert "cohortlab" not in nbformat.read(jp_root_dir / "ok.ipynb", as_version=4).metadata


def test_the_key_needs_a_signed_in_user(
    jp_fetch: Any, jp_root_dir: Any, jp_asyncio_loop: asyncio.AbstractEventLoop
) -> None:
    nbformat.write(nbformat.v4.new_notebook(), jp_root_dir / "x.ipynb")

    async def go() -> int:
        try:
            await jp_fetch(
                "cohortlab",
                "notebook-key",
                method="POST",
                body=json.dumps({"path": "x.ipynb", "course": "c1"}),
                headers={"Authorization": "token wrong"},
            )
        except HTTPClientError as e:
            return e.code
        return 200

    assert jp_asyncio_loop.run_until_complete(go()) == 403
    assert "cohortlab" not in nbformat.read(jp_root_dir / "x.ipynb", as_version=4).metadata
