"""Attribution in a workspace: the sender of each update, per connection task, per cell."""

from __future__ import annotations

import asyncio
import json

import pytest
from cohortlab.workspace_server import attribution, kernels
from cohortlab.workspace_server.attribution import Recorder, cells_touched
from cohortlab.workspace_server.rooms import sender
from jupyter_ydoc import YNotebook
from pycrdt import Doc

NB = {
    "nbformat": 4,
    "nbformat_minor": 5,
    "metadata": {},
    "cells": [
        {"cell_type": "code", "id": "c1", "metadata": {}, "source": "", "outputs": []},
        {"cell_type": "markdown", "id": "c2", "metadata": {}, "source": "# notes"},
    ],
}


def room_doc(recorder: Recorder) -> YNotebook:
    """A notebook as the room holds it, observed the way ``rooms.watch`` observes it."""
    notebook = YNotebook(Doc())
    notebook.set(NB)
    ycells = notebook.ycells

    def on_cells(events) -> None:  # type: ignore[no-untyped-def]
        user = sender.get()
        if user is not None:
            for cid in cells_touched(events, lambda i: ycells[i].get("id")):
                recorder.edited("nb.ipynb", cid, user)

    ycells.observe_deep(on_cells)
    return notebook


def client_copy(room: YNotebook) -> YNotebook:
    copy = YNotebook(Doc())
    copy.ydoc.apply_update(room.ydoc.get_update())
    return copy


def update_from(client: YNotebook, edit) -> bytes:  # type: ignore[no-untyped-def]
    before = client.ydoc.get_state()
    edit(client)
    return client.ydoc.get_update(before)


async def test_each_connection_task_attributes_only_its_own_updates() -> None:
    recorder = Recorder()
    room = room_doc(recorder)
    ada, ben = client_copy(room), client_copy(room)
    ada_update = update_from(ada, lambda nb: nb.ycells[0]["source"].insert(0, "x = 1"))
    ben_update = update_from(ben, lambda nb: nb.ycells[1]["source"].insert(7, " more"))

    ben_applied = asyncio.Event()

    async def serve(name: str, update: bytes, after: asyncio.Event | None = None) -> None:
        sender.set(name)  # what the handler's __anext__ does in its connection's task
        if after is not None:
            await after.wait()  # the other connection runs meanwhile
        room.ydoc.apply_update(update)
        if name == "ben":
            ben_applied.set()

    await asyncio.gather(
        asyncio.ensure_future(serve("ada", ada_update, after=ben_applied)),
        asyncio.ensure_future(serve("ben", ben_update)),
    )
    cells = recorder.notebook("nb.ipynb")
    assert cells["c1"]["edited_by"] == "ada"
    assert cells["c2"]["edited_by"] == "ben"


def test_changes_outside_a_connection_are_not_attributed() -> None:
    recorder = Recorder()
    room = room_doc(recorder)
    room.ycells[0]["source"].insert(0, "from disk")  # e.g. the file changed on disk
    assert recorder.notebook("nb.ipynb") == {}


async def test_new_cells_count_as_edits_and_outputs_do_not() -> None:
    recorder = Recorder()
    room = room_doc(recorder)
    ada = client_copy(room)

    def add_cell(nb: YNotebook) -> None:
        nb.append_cell({"cell_type": "code", "id": "c3", "source": "y", "metadata": {}})

    def outputs(nb: YNotebook) -> None:
        nb.ycells[0]["execution_count"] = 3

    async def serve(name: str, update: bytes) -> None:
        sender.set(name)
        room.ydoc.apply_update(update)

    await asyncio.ensure_future(serve("ada", update_from(ada, add_cell)))
    await asyncio.ensure_future(serve("ben", update_from(ada, outputs)))
    cells = recorder.notebook("nb.ipynb")
    assert cells["c3"]["edited_by"] == "ada"
    assert "c1" not in cells  # the kernel's results written by ben's browser: not an edit


def test_presence_counts_connections_per_person() -> None:
    recorder = Recorder()
    for name in ("ben", "ada", "ada"):
        recorder.joined(name)
    recorder.left("ada")
    assert recorder.present() == ["ada", "ben"]
    recorder.left("ada")
    recorder.left("ben")
    assert recorder.present() == []


def test_runs_are_kept_apart_from_edits_and_follow_a_rename() -> None:
    recorder = Recorder()
    recorder.edited("a.ipynb", "c1", "ada", at=1.0)
    recorder.ran("a.ipynb", "c1", "ben", at=2.0)
    recorder.renamed("a.ipynb", "b.ipynb")
    assert recorder.notebook("b.ipynb") == {
        "c1": {"edited_by": "ada", "edited_at": 1.0, "run_by": "ben", "run_at": 2.0}
    }


class _Conn:
    subprotocol = ""


@pytest.mark.parametrize(
    ("msg", "expected"),
    [
        (
            {
                "channel": "shell",
                "header": {"msg_type": "execute_request"},
                "metadata": {"cellId": "c1"},
            },
            "c1",
        ),
        ({"channel": "shell", "header": {"msg_type": "kernel_info_request"}, "metadata": {}}, None),
        (
            {
                "channel": "control",
                "header": {"msg_type": "execute_request"},
                "metadata": {"cellId": "c1"},
            },
            None,
        ),
        ({"channel": "shell", "header": {"msg_type": "execute_request"}, "metadata": {}}, None),
    ],
)
def test_execute_requests_name_their_cell(msg: dict, expected: str | None) -> None:
    assert kernels.execute_request(_Conn(), json.dumps(msg)) == expected


def test_workspace_kernels_get_no_hub_token() -> None:
    env = {"JUPYTERHUB_API_TOKEN": "t", "JPY_API_TOKEN": "t", "PATH": "/bin", "HOME": "/h"}
    assert kernels.kernel_env(env) == {"PATH": "/bin", "HOME": "/h", "PYTHONNOUSERSITE": "1"}


def test_execute_requests_in_jupyterlabs_binary_protocol_name_their_cell() -> None:
    from jupyter_client.session import Session
    from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

    class Conn:
        subprotocol = "v1.kernel.websocket.jupyter.org"
        session = Session()

    pack = Conn.session.pack
    parts = [
        pack({"msg_type": "execute_request", "msg_id": "1"}),
        pack({}),
        pack({"cellId": "c9"}),
        pack({"code": "1"}),
    ]
    assert kernels.execute_request(Conn(), serialize_msg_to_ws_v1(parts, "shell")) == "c9"
    assert kernels.execute_request(Conn(), serialize_msg_to_ws_v1(parts, "iopub")) is None


# --- kept between runs of the server -------------------------------------------------------


def test_the_cell_record_is_kept_and_read_back_by_the_next_server(tmp_path) -> None:
    store = tmp_path / "data" / "workspace-attribution.json"
    first = Recorder.load(store)
    assert first.cells == {} and not first.dirty
    first.edited("a.ipynb", "c1", "ann", at=10.0)
    first.ran("a.ipynb", "c1", "bob", at=11.0)
    first.edited("b.ipynb", "c9", "bob", at=12.0)
    first.joined("ann")
    first.save()
    assert not first.dirty
    second = Recorder.load(store)
    assert second.notebook("a.ipynb") == {
        "c1": {"edited_by": "ann", "edited_at": 10.0, "run_by": "bob", "run_at": 11.0}
    }
    assert second.notebook("b.ipynb")["c9"]["edited_by"] == "bob"
    assert second.present() == []  # who is here now is not carried over
    assert [p.name for p in store.parent.iterdir()] == [store.name]  # no temporary left


def test_nothing_is_written_until_something_changes(tmp_path) -> None:
    store = tmp_path / "record.json"
    recorder = Recorder.load(store)
    recorder.save()
    assert not store.exists()
    recorder.renamed("a.ipynb", "b.ipynb")  # nothing to rename: still clean
    recorder.save()
    assert not store.exists()


@pytest.mark.parametrize(
    "content", ["{not json", '{"version": 1, "cells": [{"path": "a"}]}', "[]", '"x"']
)
def test_an_unreadable_record_starts_attribution_afresh(tmp_path, content: str) -> None:
    store = tmp_path / "record.json"
    store.write_text(content)
    recorder = Recorder.load(store)
    assert recorder.cells == {}
    recorder.edited("a.ipynb", "c1", "ann", at=1.0)
    recorder.save()
    assert Recorder.load(store).notebook("a.ipynb")["c1"]["edited_by"] == "ann"


def test_a_failed_write_keeps_the_previous_record_and_tries_again(tmp_path, monkeypatch) -> None:
    store = tmp_path / "record.json"
    recorder = Recorder.load(store)
    recorder.edited("a.ipynb", "c1", "ann", at=1.0)
    recorder.save()
    recorder.edited("a.ipynb", "c1", "bob", at=2.0)

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(attribution.os, "fsync", disk_full)
        recorder.save()
    assert recorder.dirty
    assert Recorder.load(store).notebook("a.ipynb")["c1"]["edited_by"] == "ann"
    assert [p.name for p in tmp_path.iterdir()] == ["record.json"]  # the half-written one went
    recorder.save()
    assert Recorder.load(store).notebook("a.ipynb")["c1"]["edited_by"] == "bob"
