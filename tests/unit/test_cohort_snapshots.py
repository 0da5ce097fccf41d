"""Archive snapshots without a hub: reading a workspace's files within limits, storing once
per distinct content, who may read, the sanitized read-only view, and the archive order."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from cohortlab.access import Caller
from cohortlab.cohorts import hub as ops
from cohortlab.cohorts import snapshots
from cohortlab.cohorts.manage import CohortState, NewCohort
from cohortlab.errors import APIError
from cohortlab.store.db import connect, session_factory, session_scope
from cohortlab.store.db import upgrade as upgrade_db
from cohortlab.store.models import User

from tests.unit.test_cohorts_hub import ACCOUNT, COURSE, FakeHub

NOTEBOOK = nbformat.v4.new_notebook(
    cells=[nbformat.v4.new_markdown_cell("# Notes <script>alert(1)</script>")]
)
RED = CohortState(COURSE, "red", f"cohort-{COURSE}-red", ACCOUNT, False, ("ada", "ben"))


class Files:
    """A workspace's contents API in memory: ``tree`` maps paths to models."""

    def __init__(self, tree: dict[str, dict[str, Any]]) -> None:
        self.tree = tree
        self.reads: list[str] = []

    async def get(self, path: str, *, content: bool = True) -> dict[str, Any] | None:
        self.reads.append(path)
        if path == "" or self.tree.get(path, {}).get("type") == "directory":
            prefix = f"{path}/" if path else ""
            children = [
                {"path": p, "type": m["type"], "size": m.get("size")}
                for p, m in self.tree.items()
                if p.startswith(prefix) and "/" not in p[len(prefix) :]
            ]
            return {"type": "directory", "content": children}
        return self.tree.get(path)


def workspace() -> Files:
    return Files(
        {
            "notes.ipynb": {"type": "notebook", "content": dict(NOTEBOOK)},
            "sub": {"type": "directory"},
            "sub/data.txt": {"type": "file", "format": "text", "content": "hello"},
            "sub/img.png": {
                "type": "file",
                "format": "base64",
                "mimetype": "image/png",
                "content": base64.b64encode(b"\x89PNG").decode(),
            },
            "big.bin": {"type": "file", "format": "base64", "size": 10**9, "content": ""},
        }
    )


async def test_every_file_is_read_within_the_limits_and_skips_are_listed() -> None:
    files = workspace()
    taken = await snapshots.read_files(files)  # type: ignore[arg-type]
    by_path = {f.path: f for f in taken.files}
    assert set(by_path) == {"notes.ipynb", "sub/data.txt", "sub/img.png"}
    assert by_path["sub/img.png"].data == b"\x89PNG" and by_path["sub/img.png"].format == "base64"
    assert by_path["notes.ipynb"].kind == "notebook" and by_path["notes.ipynb"].format == "json"
    assert taken.skipped == [{"path": "big.bin", "reason": "larger than 20 MB"}]
    assert "big.bin" not in files.reads  # too big by its listed size: never downloaded


async def test_the_file_count_limit_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(snapshots, "MAX_FILES", 1)
    taken = await snapshots.read_files(workspace())  # type: ignore[arg-type]
    assert len(taken.files) == 1
    assert {s["reason"] for s in taken.skipped} >= {"over 1 files"}


async def test_the_digest_depends_on_content_not_order() -> None:
    a = await snapshots.read_files(workspace())  # type: ignore[arg-type]
    b = await snapshots.read_files(workspace())  # type: ignore[arg-type]
    b.files.reverse()
    assert a.digest == b.digest
    b.files[0] = snapshots.TakenFile(b.files[0].path, "file", "text", None, b"changed", None)
    assert a.digest != b.digest


@pytest.fixture
def factory(cl_db_url: str) -> Iterator[Any]:
    upgrade_db(cl_db_url)
    engine = connect(cl_db_url)
    yield session_factory(engine)
    engine.dispose()


def caller(name: str, role: str, cohorts: frozenset[str] = frozenset()) -> Caller:
    return Caller(name=name, user_id=0, course=COURSE, role=role, cohorts=cohorts)


def person(factory: Any, name: str, role: str, cohorts: frozenset[str] = frozenset()) -> Caller:
    with session_scope(factory) as s:
        user = User(name=name)
        s.add(user)
        s.flush()
        return Caller(name=name, user_id=user.id, course=COURSE, role=role, cohorts=cohorts)


async def test_a_snapshot_is_stored_once_per_distinct_content(factory: Any) -> None:
    inst = person(factory, "inst", "instructor")
    taken = await snapshots.read_files(workspace())  # type: ignore[arg-type]
    with session_scope(factory) as s:
        first, created = snapshots.store(s, RED, inst, taken)
    assert created and first["file_count"] == 3 and first["members"] == ["ada", "ben"]
    with session_scope(factory) as s:
        again, created = snapshots.store(s, RED, inst, taken)
    assert (again["id"], created) == (first["id"], False)
    taken.files.pop()
    with session_scope(factory) as s:
        newer, created = snapshots.store(s, RED, inst, taken)
        assert created and newer["id"] != first["id"]
        listed = snapshots.list_json(s, caller("inst", "instructor"), "red")
    assert [x["id"] for x in listed] == [newer["id"], first["id"]]
    assert listed[0]["taken_by"] == "inst"


async def test_former_members_and_staff_read_others_get_404(factory: Any) -> None:
    inst = person(factory, "inst", "instructor")
    taken = await snapshots.read_files(workspace())  # type: ignore[arg-type]
    with session_scope(factory) as s:
        stored, _ = snapshots.store(s, RED, inst, taken)
    sid = stored["id"]
    readers = [
        caller("ada", "learner"),
        caller("men", "mentor"),
        caller("cy", "learner", frozenset({"red"})),
    ]
    with session_scope(factory) as s:
        for who in readers:
            assert snapshots.snapshot_json(s, who, "red", sid)["file_count"] == 3
            found = snapshots.stored_file(s, who, "red", sid, "sub/data.txt")
            assert snapshots.file_json(found)["content"] == "hello"
        dee = caller("dee", "learner", frozenset({"blue"}))
        for attempt in (
            lambda: snapshots.list_json(s, dee, "red"),
            lambda: snapshots.snapshot_json(s, dee, "red", sid),
            lambda: snapshots.stored_file(s, dee, "red", sid, "sub/data.txt"),
        ):
            with pytest.raises(APIError) as exc:
                attempt()
            assert (exc.value.status_code, exc.value.code) == (404, "unknown_cohort")
        with pytest.raises(APIError) as exc:
            snapshots.snapshot_json(s, caller("ada", "learner"), "blue", sid)  # wrong cohort
        assert exc.value.code == "unknown_snapshot"
        assert snapshots.list_json(s, caller("dee", "learner", frozenset({"blue"})), "blue") == []


async def test_the_view_escapes_user_html_and_refuses_binary_files(factory: Any) -> None:
    inst = person(factory, "inst", "instructor")
    taken = await snapshots.read_files(workspace())  # type: ignore[arg-type]
    with session_scope(factory) as s:
        sid = snapshots.store(s, RED, inst, taken)[0]["id"]
        nb = snapshots.stored_file(s, inst, "red", sid, "notes.ipynb")
        img = snapshots.stored_file(s, inst, "red", sid, "sub/img.png")
    page = snapshots.render_view(nb, "Read-only copy")
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert page.index("Read-only copy") < page.index("Notes")
    with pytest.raises(APIError) as exc:
        snapshots.render_view(img, "x")
    assert exc.value.status_code == 415
    assert "sandbox" in snapshots.VIEW_CSP and "script-src" not in snapshots.VIEW_CSP


async def test_archive_runs_the_snapshot_after_the_shares_go_and_before_the_stop() -> None:
    hub = FakeHub()
    hub.add_group(f"nbgrader-{COURSE}", ["ada"])
    hub.add_group(f"formgrade-{COURSE}", ["inst"])
    await ops.create_cohort(hub, COURSE, NewCohort("red", ("ada",)))
    hub.running.add(ACCOUNT)
    seen: list[tuple[bool, set[str], bool]] = []

    async def before_stop(cohort: CohortState, was_archived: bool) -> None:
        seen.append((was_archived, set(hub.shares[ACCOUNT]), ACCOUNT in hub.running))
        if len(seen) == 1:
            raise APIError(503, "snapshot_failed", "could not copy")

    with pytest.raises(APIError):
        await ops.archive(hub, COURSE, "red", before_stop=before_stop)
    assert seen == [(False, set(), True)]  # nobody had access; the server still ran
    assert ACCOUNT in hub.running  # left running for the next try
    await ops.archive(hub, COURSE, "red", before_stop=before_stop)
    assert seen[1] == (True, set(), True) and ACCOUNT not in hub.running


@pytest.mark.parametrize(
    ("body", "keep"),
    [(None, True), ({}, True), ({"snapshot": True}, True), ({"snapshot": False}, False)],
)
def test_archive_bodies(body: dict[str, Any] | None, keep: bool) -> None:
    from cohortlab.service.handlers.cohorts import archive_options

    assert archive_options(body) is keep


@pytest.mark.parametrize(
    ("body", "code"), [({"snapshot": "no"}, "invalid_field"), ({"keep": 1}, "unknown_field")]
)
def test_bad_archive_bodies_are_400(body: dict[str, Any], code: str) -> None:
    from cohortlab.service.handlers.cohorts import archive_options

    with pytest.raises(APIError) as exc:
        archive_options(body)
    assert (exc.value.status_code, exc.value.code) == (400, code)
