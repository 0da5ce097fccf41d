"""A member of a cohort workspace attacks the others through what they share.

Every member's code runs as the workspace's one system account, in its one home. bob, a
member, uses what a member has: code in the workspace's kernels (he runs cells as JupyterLab
does, over his own kernel WebSocket), his own browser session (requests with his own token,
the collaboration WebSocket) and the files of the shared home. He tries

- to take the account's credentials: the server's hub token from its environment
  (``/proc``), its runtime folder (``jpserver-*.json``) or any process he can see; to
  signal the server (to take its port); to have the server serve its own secrets through a
  link he makes in the home;
- to put something in front of the others: a kernelspec (served under
  ``/user/<workspace>/kernelspecs/``, and deciding what a kernel runs), lab settings that
  trust HTML or allow command links, a saved layout, an IPython start-up file, IPython
  kernel configuration, a ``.pth`` file and ``sitecustomize`` in the Python user site;
- to keep his access after he is removed, with a process he left running;
- to inflate his contribution counts, and to post in the chat under someone else's name by
  editing the ``.chat`` file.

Each planted file is first shown to be where the software would read it (a positive
control: the file is there, or the account's own Python runs it outside the sandbox); then
the others' kernels, pages and settings must show none of it. A last test has the
instructor open the workspace bob planted everything in.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import pwd
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from cohortlab.cohorts.hubhooks import WORKSPACE_AUTH_CACHE, WORKSPACE_STATE_ROOT

from tests.helpers.hub import VENV, Hub
from tests.helpers.nbgrader import RUNUSER
from tests.helpers.waiting import wait_until
from tests.integration.test_cohort_workspace import (
    NOTEBOOK,
    Course,
    _pids_of,
    clean_up,
    connect,
    make_course,
)
from tests.integration.test_workspace_chat import ChatClient
from tests.integration.test_workspace_identity import account_token, run_cell
from tests.integration.test_workspace_lockdown import page_config

TAG = secrets.token_hex(3)
USER_SITE = ".local/lib/python3.11/site-packages"


@pytest.fixture(scope="module")
def course(cl_hub: Hub) -> Iterator[Course]:
    c = make_course(cl_hub)
    try:
        yield c
    finally:
        clean_up(c)


@pytest.fixture(scope="module")
def cohort(course: Course) -> dict:
    cohort = course.create(["ann", "bob"])
    status, body = course.open("ann", cohort)
    assert status == 200, body
    return cohort


def put_notebook(course: Course, cohort: dict, who: str = "ann") -> str:
    path = f"shared-{secrets.token_hex(3)}.ipynb"
    status = course.at_workspace(
        who,
        "PUT",
        cohort["account"],
        f"api/contents/{path}",
        data=json.dumps({"type": "notebook", "format": "json", "content": NOTEBOOK}),
    )
    assert status == 201
    return path


@pytest.fixture(scope="module")
def notebook(course: Course, cohort: dict) -> str:
    return put_notebook(course, cohort)


def home_of(account: str) -> Path:
    return Path(pwd.getpwnam(account).pw_dir)


def server_pid(course: Course, account: str) -> int:
    return int(course.server(account)["state"]["pid"])


def marks_dir(account: str) -> Path:
    """A folder of the account's where planted code leaves a mark when it runs."""
    return home_of(account) / f"cl-marks-{TAG}"


def mark(account: str, what: str) -> str:
    """Python that leaves ``what`` in :func:`marks_dir` when it runs."""
    target = marks_dir(account) / what
    return f"import pathlib; pathlib.Path({str(target)!r}).write_text('ran')"


def as_account(account: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` as the account, outside any sandbox (what its own Python would do)."""
    env = {"HOME": str(home_of(account)), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run(
        [RUNUSER, "-u", account, "--", *argv], env=env, capture_output=True, text=True, timeout=60
    )


async def bob_runs(course: Course, cohort: dict, path: str, code: str, who: str = "bob") -> str:
    try:
        return await run_cell(course, cohort, who, path, "c1", code)
    except Exception as e:  # the kernel died: the server's log says why
        raise AssertionError(f"{who}'s cell did not run ({e!r}):\n{course.hub.log_tail(80)}") from e


def json_out(text: str) -> dict:
    lines = [line for line in text.splitlines() if line.startswith("{")]
    assert lines, text
    return json.loads(lines[-1])


# --- the account's credentials ----------------------------------------------------------------

STEAL = """
import glob, hashlib, json, os, re
found = {"env": sorted(k for k in os.environ if "TOKEN" in k or "CLIENT_ID" in k)}
texts = []
for pattern in ["/proc/*/environ", "/proc/*/cmdline",
                os.path.expanduser("~/.local/share/jupyter/runtime/*"),
                os.environ.get("JUPYTER_RUNTIME_DIR", "/nonexistent") + "/*",
                os.environ.get("COHORTLAB_WORKSPACE_STATE", "/nonexistent") + "/**",
                "/var/lib/cohortlab/workspaces/**"]:
    for name in glob.glob(pattern, recursive=True):
        try:
            texts.append(open(name, "rb").read(1 << 20).decode(errors="replace"))
        except OSError:
            pass
# what was read can be megabytes (the kernel's output has a rate limit): only whether the
# token was among it, by its hash, which the test passes in (it tells the kernel nothing)
runs = {m for text in texts for m in re.findall(r"[A-Za-z0-9]+", text) if len(m) == LENGTH}
found["token_read"] = any(hashlib.sha256(m.encode()).hexdigest() == "DIGEST" for m in runs)
found["files_read"] = len(texts)
found["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
results = {}
for what, call in [("kill", lambda: os.kill(SERVER, 0)),
                   ("environ", lambda: open(f"/proc/{SERVER}/environ", "rb").read())]:
    try:
        call()
        results[what] = "allowed"
    except OSError as e:
        results[what] = type(e).__name__
found["server"] = results
print(json.dumps(found))
"""


async def test_a_members_code_reaches_neither_the_servers_token_nor_its_process(
    course: Course, cohort: dict, notebook: str
) -> None:
    account = cohort["account"]
    pid = server_pid(course, account)
    token = account_token(account)  # as root: what there is to steal
    runtime = WORKSPACE_STATE_ROOT / account / "runtime"
    assert list(runtime.glob("jpserver-*.json")), "control: the server's runtime file is there"
    assert course.hub.api("GET", "/hub/api/user", token).status_code == 200  # control

    steal = (
        STEAL.replace("SERVER", str(pid))
        .replace("LENGTH", str(len(token)))
        .replace("DIGEST", hashlib.sha256(token.encode()).hexdigest())
    )
    assert re.fullmatch(r"[A-Za-z0-9]+", token)  # as the probe looks for it
    found = json_out(await bob_runs(course, cohort, notebook, steal))

    assert found["env"] == [], found["env"]
    assert found["files_read"] > 0  # it did read what it could reach
    assert not found["token_read"], "the account's token was readable"
    assert found["server"] == {"kill": "ProcessLookupError", "environ": "FileNotFoundError"}
    # the kernel sees its own sandbox's processes only (init, the kernel, what it started)
    assert len(found["pids"]) < 10, found["pids"]


LINKS = """
import os, pathlib
home = pathlib.Path.home()
os.symlink("STATE", home / "peek-TAG")
os.symlink("/proc/self/environ", home / "env-TAG.txt")
os.symlink("STATE/lab/user-settings/people", home / "settings-TAG")
print("linked")
"""


async def test_links_in_the_home_do_not_make_the_server_serve_its_own_secrets(
    course: Course, cohort: dict, notebook: str
) -> None:
    """The server (outside the sandbox) would follow a link a member makes: to its state
    folder (runtime files with its token, other people's settings) or to its own
    environment in /proc."""
    account = cohort["account"]
    state = WORKSPACE_STATE_ROOT / account
    code = LINKS.replace("STATE", str(state)).replace("TAG", TAG)
    assert "linked" in await bob_runs(course, cohort, notebook, code)
    home = home_of(account)
    assert (home / f"peek-{TAG}" / "runtime").is_dir()  # control: the links lead there
    runtime = sorted(p.name for p in (state / "runtime").glob("jpserver-*.json"))
    assert runtime, "control: the server's runtime file is there"
    for path in (
        f"files/peek-{TAG}/runtime/{runtime[0]}",
        f"api/contents/peek-{TAG}/runtime",
        f"api/contents/peek-{TAG}/runtime/{runtime[0]}",
        f"files/env-{TAG}.txt",
        f"api/contents/env-{TAG}.txt",
    ):
        assert course.at_workspace("bob", "GET", account, path) in (403, 404), path
    ann_file = (
        f"settings-{TAG}/{course.prefix}-ann"
        "/@jupyterlab/htmlviewer-extension/plugin.jupyterlab-settings"
    )
    body = {"type": "file", "format": "text", "content": '{"trustByDefault": true}'}
    status = course.at_workspace("bob", "PUT", account, f"api/contents/{ann_file}", json=body)
    assert status in (403, 404), status
    assert setting(course, account, "ann", "@jupyterlab/htmlviewer-extension:plugin") == {}


# --- what other members' browsers run or trust ----------------------------------------------

PLANT_KERNELSPECS = """
import json, os, pathlib
home = pathlib.Path.home()
for base in [home / ".local/share/jupyter/kernels", home / ".ipython/kernels",
             pathlib.Path(os.environ.get("JUPYTER_DATA_DIR", home / "x")) / "kernels"]:
    spec = base / "cl-evil-TAG"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": ["python3", "-c", "MARK"],
        "display_name": "Python 3 (fast)", "language": "python"}))
    (spec / "kernel.js").write_text("document.title = 'owned'")
    (spec / "page.html").write_text("<script>fetch('/hub/api/user')</script>")
print("planted")
"""


def planted_kernelspecs(account: str) -> str:
    return PLANT_KERNELSPECS.replace("TAG", TAG).replace("MARK", mark(account, "kernelspec"))


def kernelspecs_seen(course: Course, account: str, who: str) -> tuple[set[str], list[int]]:
    token = course.hub.token_for(f"{course.prefix}-{who}")
    specs = course.hub.api("GET", f"/user/{account}/api/kernelspecs", token).json()["kernelspecs"]
    served = [
        course.hub.api("GET", f"/user/{account}/kernelspecs/cl-evil-{TAG}/{name}", token)
        for name in ("page.html", "kernel.js")
    ]
    return set(specs), [r.status_code for r in served]


async def test_a_kernelspec_a_member_plants_is_neither_offered_nor_served(
    course: Course, cohort: dict, notebook: str
) -> None:
    account = cohort["account"]
    assert "planted" in await bob_runs(course, cohort, notebook, planted_kernelspecs(account))
    home = home_of(account)
    for folder in (".local/share/jupyter/kernels", ".ipython/kernels"):  # control
        assert (home / folder / f"cl-evil-{TAG}" / "page.html").is_file()
    for who in ("ann", "teach"):
        specs, served = kernelspecs_seen(course, account, who)
        assert f"cl-evil-{TAG}" not in specs and "python3" in specs, specs
        assert served == [404, 404]


SETTINGS = {
    "@jupyterlab/htmlviewer-extension:plugin": {"trustByDefault": True},
    "@jupyterlab/apputils-extension:sanitizer": {"allowCommandLinker": True},
}
PLANT_SETTINGS_FILES = """
import json, os, pathlib
home = pathlib.Path.home()
people = [PEOPLE]
bases = [home / ".jupyter/lab/user-settings",
         pathlib.Path(os.environ.get("JUPYTERLAB_SETTINGS_DIR", home / "x"))]
bases += [b / "people" / p for b in list(bases) for p in people]
for base in bases:
    for plugin, value in SETTINGS.items():
        package, name = plugin.split(":")
        target = base / package / (name + ".jupyterlab-settings")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(value))
print("planted")
"""


def setting(course: Course, account: str, who: str, plugin: str) -> dict:
    token = course.hub.token_for(f"{course.prefix}-{who}")
    resp = course.hub.api("GET", f"/user/{account}/lab/api/settings/{plugin}", token)
    assert resp.status_code == 200, resp.text
    return resp.json()["settings"]


async def test_lab_settings_a_member_saves_or_plants_change_nobody_elses_lab(
    course: Course, cohort: dict, notebook: str
) -> None:
    account = cohort["account"]
    bob = course.hub.token_for(f"{course.prefix}-bob")
    for plugin, value in SETTINGS.items():  # through the settings API, as his lab saves them
        resp = course.hub.api(
            "PUT",
            f"/user/{account}/lab/api/settings/{plugin}",
            bob,
            data=json.dumps({"raw": json.dumps(value)}),
        )
        assert resp.status_code == 204, resp.text
        assert setting(course, account, "bob", plugin) == value  # control: his own lab
    people = ", ".join(repr(f"{course.prefix}-{w}") for w in ("ann", "teach"))
    code = PLANT_SETTINGS_FILES.replace("PEOPLE", people).replace("SETTINGS", repr(SETTINGS))
    assert "planted" in await bob_runs(course, cohort, notebook, code)
    assert (home_of(account) / ".jupyter/lab/user-settings/@jupyterlab").is_dir()  # control
    for who in ("ann", "teach"):
        for plugin in SETTINGS:
            assert setting(course, account, who, plugin) == {}, (who, plugin)


async def test_a_layout_a_member_saves_is_his_own(course: Course, cohort: dict) -> None:
    account = cohort["account"]
    layout = {
        "data": {"layout-restorer:data": {"main": {"current": f"help:{TAG}"}}},
        "metadata": {"id": "default"},
    }
    bob = course.hub.token_for(f"{course.prefix}-bob")
    url = f"/user/{account}/lab/api/workspaces/default"
    resp = course.hub.api("PUT", url, bob, data=json.dumps(layout))
    assert resp.status_code == 204, resp.text
    assert TAG in course.hub.api("GET", url, bob).text  # control
    for who in ("ann", "teach"):
        token = course.hub.token_for(f"{course.prefix}-{who}")
        resp = course.hub.api("GET", url, token)
        assert resp.status_code == 200 and TAG not in resp.text, (who, resp.text[:300])


# --- code in every new kernel -------------------------------------------------------------------

PLANT_KERNEL_CODE = """
import pathlib, site
home = pathlib.Path.home()
startup = home / ".ipython/profile_default/startup"
startup.mkdir(parents=True, exist_ok=True)
(startup / "00-cl-TAG.py").write_text(STARTUP + "\\n")
(home / ".ipython/profile_default/ipython_kernel_config.py").write_text(
    "c.InteractiveShellApp.exec_lines = [" + repr(CONFIG) + "]\\n")
user_site = home / "USER_SITE"
user_site.mkdir(parents=True, exist_ok=True)
(user_site / "cl-TAG.pth").write_text(PTH + "\\n")
(user_site / "sitecustomize.py").write_text(SITECUSTOMIZE + "\\n")
(user_site / "usercustomize.py").write_text(SITECUSTOMIZE + "\\n")
(home / "cl-marks-TAG").mkdir(exist_ok=True)
print("planted")
"""


def plant_kernel_code(account: str) -> str:
    code = PLANT_KERNEL_CODE.replace("USER_SITE", USER_SITE).replace("TAG", TAG)
    for name, what in (
        ("STARTUP", "startup"),
        ("CONFIG", "config"),
        ("PTH", "pth"),
        ("SITECUSTOMIZE", "sitecustomize"),
    ):
        line = mark(account, what)
        code = code.replace(
            name, repr(f"import os; exec({line!r})") if name == "PTH" else repr(line)
        )
    return code


async def test_startup_files_and_the_user_site_run_in_no_new_kernel(
    course: Course, cohort: dict, notebook: str
) -> None:
    account = cohort["account"]
    assert "planted" in await bob_runs(course, cohort, notebook, plant_kernel_code(account))
    marks = marks_dir(account)
    # Control: the account's own Pythons, outside the sandbox, run what he planted.
    done = as_account(account, "/usr/bin/python3", "-c", "pass")
    assert done.returncode == 0, done.stderr
    assert (marks / "pth").exists() and (marks / "sitecustomize").exists(), done.stderr
    done = as_account(account, str(VENV / "bin" / "ipython"), "-c", "pass")
    assert (marks / "startup").exists(), done.stdout + done.stderr
    for what in ("pth", "sitecustomize", "startup"):
        (marks / what).unlink()

    # ann opens another notebook: a new kernel, started by her
    other = put_notebook(course, cohort, "ann")
    out = await run_cell(
        course, cohort, "ann", other, "c1", "import os, sys; print(os.environ['IPYTHONDIR'])"
    )
    assert sorted(p.name for p in marks.iterdir()) == [], out
    assert out.strip().startswith(str(WORKSPACE_STATE_ROOT / account)), out


# --- removal ------------------------------------------------------------------------------------

LINGER = """
import subprocess
p = subprocess.Popen(["sleep", "SECONDS"], start_new_session=True)
print("left", p.pid)
"""


def lingering(account: str, seconds: str) -> list[int]:
    uid = pwd.getpwnam(account).pw_uid
    found = []
    for pid in _pids_of(account):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if seconds.encode() in cmd and os.stat(f"/proc/{pid}").st_uid == uid:
            found.append(pid)
    return found


async def test_a_removed_member_loses_the_workspace_and_its_token_is_renewed(
    course: Course,
) -> None:
    cohort = course.create(["cat"])
    status, body = course.open("cat", cohort)
    assert status == 200, body
    account = cohort["account"]
    path = put_notebook(course, cohort, "cat")
    seconds = f"{900 + secrets.randbelow(99)}.{secrets.randbelow(999)}"
    assert "left" in await run_cell(
        course, cohort, "cat", path, "c1", LINGER.replace("SECONDS", seconds)
    )
    assert lingering(account, seconds), "control: cat's process runs"
    old_token = account_token(account)
    old_pid = server_pid(course, account)

    course.person("teach").ok(
        "DELETE", course.path(cohort["name"], "members", f"{course.prefix}-cat")
    )

    # the server was stopped (the hub revoked its token), with all cat's code
    assert course.hub.api("GET", "/hub/api/user", old_token).status_code in (401, 403)
    assert lingering(account, seconds) == []
    assert course.server(account).get("state", {}).get("pid") != old_pid
    # and cat is refused at once by the next server (no identity cached there yet)
    course.open("teach", cohort)
    wait_until(
        lambda: course.at_workspace("cat", "GET", account, "api/contents") in (302, 403, 404),
        timeout=WORKSPACE_AUTH_CACHE + 15,
        what="the removed member to be refused",
    )


async def test_a_member_removed_on_the_hub_itself_loses_the_workspace(course: Course) -> None:
    """An admin takes someone out of the cohort's group in JupyterHub (not through the
    service): the service sees it in its next read of the groups and revokes the share,
    restarting the workspace."""
    cohort = course.create(["ment"])
    status, body = course.open("ment", cohort)
    assert status == 200, body
    account = cohort["account"]
    old_pid = server_pid(course, account)
    group = f"cohort-{course.id}-{cohort['name']}"
    resp = course.hub.admin(
        "DELETE", f"/groups/{group}/users", json={"users": [f"{course.prefix}-ment"]}
    )
    assert resp.status_code == 200, resp.text
    try:
        wait_until(
            lambda: course.server(account).get("state", {}).get("pid") != old_pid,
            timeout=60,
            what="the workspace to be stopped after the member left the group",
        )
    except AssertionError as e:
        said = [
            line
            for line in course.hub.log_tail(3000).splitlines()
            if "ServiceApp" in line and ("ohort" in line or "groups" in line or " W " in line)
        ]
        raise AssertionError(f"{e}\n" + "\n".join(said[-40:])) from None
    # who holds a share now, as the instructor sees it
    access = course.person("teach").ok("GET", course.path(cohort["name"]))["cohort"]["access"]
    assert f"{course.prefix}-ment" not in access


# --- contribution counts ------------------------------------------------------------------------


def counts(course: Course, cohort: dict) -> dict[str, dict]:
    body = course.person("teach").ok("GET", course.path(cohort["name"], "activity"))
    return {m["name"]: m for m in body["members"]}


async def test_a_member_cannot_inflate_his_contribution_counts(
    course: Course, cohort: dict
) -> None:
    account = cohort["account"]
    path = put_notebook(course, cohort, "ann")
    me, ann_name = f"{course.prefix}-bob", f"{course.prefix}-ann"
    before = counts(course, cohort)
    start = {
        n: (before.get(n, {}).get("notebooks", {}).get(path) or {"edits": 0})
        for n in (me, ann_name)
    }
    assert start[me]["edits"] == 0 and start[ann_name]["edits"] == 0

    # his browser reports a thousand edits with his own session: refused
    report = {"reports": [{"name": me, "notebook": path, "edits": 1000}]}
    assert (
        course.person("bob").refused(403, "POST", course.path(cohort["name"], "activity"), report)
        == "workspace_server_only"
    )

    # one real edit of one cell, over his own collaboration connection: counted once
    bob = await connect(course, cohort, path, "bob")
    try:
        bob.append("x = 1")
        await bob.wait_for(lambda c: "x = 1" in c.text(), 10)

        def bobs_edits() -> int:
            return (counts(course, cohort).get(me, {}).get("notebooks", {}).get(path) or {}).get(
                "edits", 0
            )

        await asyncio.to_thread(
            wait_until, lambda: bobs_edits() == 1, timeout=45, what="bob's edit counted"
        )

        # his kernel rewrites the notebook file, cell after cell: no one's edit
        rewrite = (
            "import json, pathlib\n"
            f"p = pathlib.Path.home() / {path!r}\n"
            "nb = json.loads(p.read_text())\n"
            "for i in range(5):\n"
            "    nb['cells'].append({'cell_type': 'code', 'id': f'k{i}', 'metadata': {},\n"
            "                        'source': 'y', 'outputs': [], 'execution_count': None})\n"
            "p.write_text(json.dumps(nb))\n"
            "print('rewritten')\n"
        )
        assert "rewritten" in await run_cell(course, cohort, "bob", path, "c1", rewrite)
        ann = await connect(course, cohort, path, "ann")
        try:
            await ann.wait_for(lambda c: len(c.notebook.ycells) >= 7, 30)
            ann.append(" # ann", index=1)

            def anns_edits() -> int:
                return (
                    counts(course, cohort).get(ann_name, {}).get("notebooks", {}).get(path) or {}
                ).get("edits", 0)

            # ann's edit was counted after the file change was seen: bob's count is what it was
            await asyncio.to_thread(
                wait_until, lambda: anns_edits() == 1, timeout=45, what="ann's edit counted"
            )
            assert bobs_edits() == 1
        finally:
            ann.close()
    finally:
        bob.close()
    # the collaboration store the rooms replay is the server's too, not in the shared home
    assert (WORKSPACE_STATE_ROOT / account / "ystore.db").is_file()
    assert not (home_of(account) / ".jupyter_ystore.db").exists()


# --- the chat -------------------------------------------------------------------------------------

EDIT_CHAT = """
import json, pathlib, uuid, time
p = pathlib.Path.home() / CHAT
chat = json.loads(p.read_text())
for m in chat["messages"]:
    m["raw_time"] = False  # as the room stamps them (it drops raw ones when reloading)
    if m["id"] == TARGET:
        m["body"] = "I copied my answers"
chat["messages"].append({"id": str(uuid.uuid4()), "type": "msg", "time": time.time(),
    "raw_time": False, "sender": TEACH, "body": "The exam is cancelled", "mentions": []})
chat["users"][TEACH] = dict(chat["users"].get(TEACH, {}), display_name="Your instructor")
p.write_text(json.dumps(chat))
print("edited")
"""


async def test_a_chat_message_edited_in_the_file_shows_under_no_ones_name(
    course: Course, cohort: dict, notebook: str
) -> None:
    account = cohort["account"]
    token = course.hub.token_for(f"{course.prefix}-ann")
    chat = course.hub.api("GET", f"/user/{account}/cohortlab/workspace", token).json()["chat"]
    ann = await ChatClient.connect(course, cohort, chat, "ann")
    try:
        kept = ann.send("see you tomorrow")
        target = ann.send("here is my plan")

        def saved() -> bool:
            resp = course.hub.api("GET", f"/user/{account}/api/contents/{chat}", token)
            content = resp.json()["content"] or ""
            return target in content and kept in content

        await asyncio.to_thread(wait_until, saved, timeout=20, what="the chat saved")
        teach = f"{course.prefix}-teach"
        code = (
            EDIT_CHAT.replace("CHAT", repr(chat))
            .replace("TARGET", repr(target))
            .replace("TEACH", repr(teach))
        )
        assert "edited" in await run_cell(course, cohort, "bob", notebook, "c1", code)

        def forged(c: ChatClient) -> list[dict]:
            return [dict(m) for m in c.messages if m.get("body") == "The exam is cancelled"]

        await ann.wait_for(lambda c: bool(forged(c)) and forged(c)[0]["sender"] == account, 30)
        await ann.wait_for(
            lambda c: (
                (c.message(target) or {}).get("sender") == account
                and (c.message(target) or {}).get("body") == "I copied my answers"
            ),
            15,
        )
        assert (ann.message(kept) or {}).get("sender") == ann.name
        await ann.wait_for(lambda c: (c.users.get(teach) or {}).get("display_name") == teach, 15)
        assert "Unverified" in str((ann.users.get(account) or {}).get("display_name"))

        # over his own connection he rewrites ann's message: it becomes his
        bob = await ChatClient.connect(course, cohort, chat, "bob")
        try:
            for m in bob.messages:
                if m.get("id") == kept:
                    m["body"] = "I give up"
            await ann.wait_for(
                lambda c: (
                    (c.message(kept) or {}).get("body") == "I give up"
                    and (c.message(kept) or {}).get("sender") == bob.name
                ),
                15,
            )
        finally:
            bob.close()
    finally:
        ann.close()


# --- staff open what a member planted ----------------------------------------------------------

PLANT_PAGE = """
import json, pathlib
home = pathlib.Path.home()
(home / ".jupyter/labconfig").mkdir(parents=True, exist_ok=True)
(home / ".jupyter/labconfig/page_config.json").write_text(json.dumps(
    {"disabledExtensions": {"cohortlab": True}}))
ext = home / ".local/share/jupyter/labextensions/cl-planted-TAG"
(ext / "static").mkdir(parents=True, exist_ok=True)
(ext / "package.json").write_text(json.dumps({"name": "cl-planted-TAG", "version": "0.0.1",
    "jupyterlab": {"_build": {"load": "static/remoteEntry.js", "extension": "./extension"}}}))
(ext / "static/remoteEntry.js").write_text("document.body.dataset.clPlanted = 1")
ws = home / ".jupyter/lab/workspaces"
ws.mkdir(parents=True, exist_ok=True)
(ws / "default-37a8.jupyterlab-workspace").write_text(json.dumps(
    {"data": {"layout-restorer:data": {"main": {"current": "help:TAG"}}},
     "metadata": {"id": "default"}}))
print("planted")
"""


async def test_staff_open_a_workspace_a_member_planted_everything_in(
    course: Course, cohort: dict, notebook: str
) -> None:
    account = cohort["account"]
    assert "planted" in await bob_runs(course, cohort, notebook, planted_kernelspecs(account))
    assert "planted" in await bob_runs(course, cohort, notebook, plant_kernel_code(account))
    assert "planted" in await bob_runs(course, cohort, notebook, PLANT_PAGE.replace("TAG", TAG))
    marks = marks_dir(account)
    for leftover in marks.iterdir():
        leftover.unlink()

    course.restart(cohort, "teach")  # stopped (as the idle cull does), opened by the instructor

    token = course.hub.token_for(f"{course.prefix}-teach")
    config = page_config(course, account, "teach")
    assert config["cohortlabUntrustedOutputs"] == "true"
    assert "cohortlab" in config["lockedExtensions"]
    assert not [d for d in config["disabledExtensions"] if str(d).startswith("cohortlab")]
    names = {e["name"] for e in config["federated_extensions"]}
    assert "cohortlab" in names and f"cl-planted-{TAG}" not in names, names
    specs, served = kernelspecs_seen(course, account, "teach")
    assert f"cl-evil-{TAG}" not in specs and served == [404, 404]
    for plugin in SETTINGS:
        assert setting(course, account, "teach", plugin) == {}
    layout = course.hub.api("GET", f"/user/{account}/lab/api/workspaces/default", token)
    assert TAG not in layout.text
    out = await run_cell(course, cohort, "teach", notebook, "c1", "print('teach here')")
    assert "teach here" in out
    assert sorted(p.name for p in marks.iterdir()) == []
