"""The code a hostile learner puts in a notebook cell, for the sandbox tests: it tries every way
to learn who runs it (the mount table included), to reach out, and to write outside its own
folder, and prints what it found as JSON (and writes it to ``attack.json`` in its working
folder, which the tests then look for in the real folder).

The tests run it where a victim runs a learner's code: in a reviewer's review kernel, and in
the instructor's ``nbgrader autograde``.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import nbformat

from tests.helpers.hub import Hub
from tests.helpers.nbgrader import COURSE

TEMPLATE = r"""
import getpass, glob, json, os, pwd, socket, subprocess, sys
MARK = {mark!r}
found = {{"mark": MARK}}
found["env"] = dict(os.environ)
found["ids"] = [os.getuid(), os.getgid(), os.geteuid(), os.getegid()]
found["uid_map"] = open("/proc/self/uid_map").read().split()
found["gid_map"] = open("/proc/self/gid_map").read().split()
try:
    found["user"] = getpass.getuser()
except Exception as e:
    found["user"] = repr(e)
try:
    found["pw"] = list(pwd.getpwuid(os.getuid()))
except KeyError as e:
    found["pw"] = repr(e)
found["home"] = os.path.expanduser("~")
found["cwd"] = os.getcwd()
found["hostname"] = [socket.gethostname(), os.uname().nodename]
for name in ("hostname", "hosts", "passwd", "group"):
    try:
        found["etc_" + name] = open("/etc/" + name).read()
    except OSError as e:
        found["etc_" + name] = e.strerror
found["cgroup"] = open("/proc/self/cgroup").read()
found["mountinfo"] = open("/proc/self/mountinfo").read()
found["mounts"] = open("/proc/self/mounts").read()
found["mountstats"] = open("/proc/self/mountstats").read()
# its folder as it finds it, before writing anything: what is there, of which kind
listing = {{}}
for top, dirs, files in os.walk(".", followlinks=False):
    for name in dirs + files:
        path = os.path.join(top, name)
        kind = os.lstat(path).st_mode >> 12
        listing[os.path.relpath(path)] = {{4: "dir", 8: "file", 10: "link", 1: "fifo"}}.get(
            kind, "other"
        )
found["folder"] = listing
procs = {{}}
for d in glob.glob("/proc/[0-9]*"):
    entry = {{}}
    for name in ("cmdline", "environ", "cwd"):
        try:
            if name == "cwd":
                entry[name] = os.readlink(d + "/cwd")
            else:
                entry[name] = open(d + "/" + name, "rb").read().decode(errors="replace")
        except OSError as e:
            entry[name] = "denied: " + str(e.strerror)
    procs[d] = entry
found["procs"] = procs
found["id"] = subprocess.run(["id"], capture_output=True, text=True).stdout
found["pts"] = sorted(os.listdir("/dev/pts"))  # terminals it could write to
found["devnull"] = subprocess.run(
    "echo x > /dev/null && head -c 4 /dev/urandom | wc -c", shell=True,
    capture_output=True, text=True,
).stdout.strip()
connect = {{}}
for name, (host, port) in {targets!r}.items():
    try:
        with socket.create_connection((host, port), timeout=5):
            connect[name] = "connected"
    except OSError as e:
        connect[name] = type(e).__name__ + ": " + str(e)
found["connect"] = connect
writes = {{}}
for parts in {writes!r}:
    path = os.path.join(*parts)
    try:
        with open(path, "a") as f:
            f.write(MARK)
        writes[path] = "written"
    except OSError as e:
        writes[path] = str(e.strerror)
for folder in {folders!r}:
    try:
        os.makedirs(folder)
        with open(os.path.join(folder, "hw1.ipynb"), "w") as f:
            f.write(MARK)
        writes[folder] = "written"
    except OSError as e:
        writes[folder] = str(e.strerror)
found["writes"] = writes
# links and a FIFO in its own folder, for whoever touches the folder after it (nbgrader)
planted = {{}}
for name, target in {links!r}:
    try:
        if target is None:
            os.mkfifo(name + ".tmp")
        else:
            os.symlink(target, name + ".tmp")
        os.replace(name + ".tmp", name)
        planted[name] = "planted"
    except OSError as e:
        planted[name] = str(e.strerror)
found["planted"] = planted
own = {{}}
for name in {own!r}:
    try:
        fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        with open(fd, "a") as f:
            f.write(MARK)
        own[name] = "written"
    except OSError as e:
        own[name] = str(e.strerror)
found["own"] = own
with open("attack.json", "w") as f:
    json.dump(found, f)
print(json.dumps(found))
"""


def attack_code(
    mark: str,
    *,
    targets: dict[str, tuple[str, int]],
    writes: list[str],
    folders: list[str],
    links: list[tuple[str, str | None]] = (),  # type: ignore[assignment]
    own: list[str] = (),  # type: ignore[assignment]
) -> str:
    """The cell: ``targets`` to connect to, files to append ``mark`` to, ``folders`` to create
    with a notebook inside (a submission filed in the exchange), ``links`` to leave in its
    own folder (name, target; a FIFO where the target is None), and files of its own folder
    to append ``mark`` to (``own``)."""
    # paths as their parts, joined when the cell runs: review copies have home paths in
    # their text anonymised, and the attack must try the real one
    parts = [Path(w).parts for w in writes]
    return TEMPLATE.format(
        mark=mark,
        targets=targets,
        writes=parts,
        folders=folders,
        links=list(links),
        own=list(own),
    )


def report_in_notebook(path: Path, mark: str) -> dict[str, Any]:
    """What the cell printed, from the executed notebook nbgrader wrote (its own folder is a
    copy, so the ``attack.json`` it wrote there is gone)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        outputs = cell.get("outputs", []) if cell.cell_type == "code" else []
        text = "".join(o.get("text", "") for o in outputs if o.get("name") == "stdout")
        for line in text.splitlines():
            if line.startswith("{") and mark in line:
                return json.loads(line)
    raise AssertionError(f"no report with {mark} in {path}")


def identity_text(found: dict[str, Any]) -> str:
    """Everything the code learned that could name the person running it."""
    keys = ("env", "ids", "uid_map", "gid_map", "user", "pw", "home", "cwd", "hostname")
    keys += ("etc_hostname", "etc_hosts", "etc_passwd", "etc_group", "cgroup", "procs", "id")
    return json.dumps({k: found[k] for k in keys})


def assert_sandboxed(found: dict[str, Any], *, person: str, uid: int, secrets: list[str]) -> None:
    """What holds in the sandbox, whoever runs it."""
    assert found["env"].get("CL_REVIEW_SANDBOX") == "namespaces"
    text = identity_text(found)
    for secret in secrets:
        assert secret not in text
        assert secret not in json.dumps(found)
    assert person not in text, [k for k in found if person in json.dumps(found[k])]
    assert str(uid) not in " ".join(found["uid_map"] + found["gid_map"])
    assert found["ids"] == [1000, 1000, 1000, 1000]
    assert found["user"] == "sandbox" and found["pw"][0] == "sandbox"
    assert found["home"] == "/home/sandbox" and found["cwd"] == "/home/sandbox/work"
    assert found["hostname"] == ["sandbox", "sandbox"]
    assert sorted(found["procs"]) == ["/proc/1", "/proc/2"], sorted(found["procs"])
    assert not [k for k in found["env"] if "TOKEN" in k or k.startswith(("JUPYTERHUB", "JPY"))]
    assert found["devnull"] == "4"  # /dev still works for the kernel's programs
    assert found["pts"] == ["ptmx"]  # its own terminals only: none of the person's
    assert found["connect"] and not [
        name for name, result in found["connect"].items() if result == "connected"
    ], found["connect"]
    assert not [p for p, result in found["writes"].items() if result == "written"], found["writes"]


MOUNT_TABLES = ("mountinfo", "mounts", "mountstats")


def work_mount(found: dict[str, Any]) -> tuple[str, str]:
    """The file system type and source of the kernel's folder, from the mount table it read."""
    for line in found["mountinfo"].splitlines():
        fields = line.split()
        if fields[4] == "/home/sandbox/work":
            dash = fields.index("-")
            return fields[dash + 1], fields[dash + 2]
    raise AssertionError("no mount at /home/sandbox/work")


def described(table: str, line: str) -> list[str]:
    """The words (split at blanks, ``,``, ``=``, ``:`` and ``/``) of what a line of a mount
    table says about a mount: its paths, type, source and options, without the numbers the
    kernel gives every mount (in ``mountinfo`` the mount's and its parent's ids, its device
    numbers and a peer group's; the two zeros ending each line of ``mounts``; the counters
    under a ``mountstats`` line), which could equal a uid by chance."""
    fields = line.split()
    if table == "mountinfo":
        dash = fields.index("-")
        fields = fields[3:6] + fields[dash + 1 :]
    elif table == "mounts":
        fields = fields[:4]
    elif not line.startswith("device "):
        fields = []
    return re.findall(r"[^\s,=:/]+", " ".join(fields))


def ids_in_mount_table(table: str, text: str, ids: list[int]) -> list[str]:
    """The lines of a mount table showing one of ``ids``: as ``uid=N`` or ``gid=N`` (a
    tmpfs's owner, which Linux prints as the host sees it), or as a word of their own (a path
    such as ``/run/user/N``)."""
    numbers = {str(i) for i in ids}
    if not numbers:
        return []
    owner = re.compile(rf"\b[ug]id=({'|'.join(sorted(numbers))})\b")
    return [
        line
        for line in text.splitlines()
        if owner.search(line) or numbers & set(described(table, line))
    ]


def assert_mounts_name_no_one(
    found: dict[str, Any], *, person: str, ids: list[int], paths: list[str]
) -> None:
    """The mount table the code read (``/proc/self/mountinfo``, ``/proc/self/mounts`` and
    ``/proc/self/mountstats``) holds neither ``person`` (as a word), nor their uid or gid
    (``ids``), nor any of ``paths`` (their home, the real folder); the kernel's folder is a
    folder of the sandbox's own (ramfs, source ``sandbox``), not the real folder mounted."""
    assert work_mount(found) == ("ramfs", "sandbox")
    word = re.compile(rf"\b{re.escape(person)}\b")
    for table in MOUNT_TABLES:
        text = found[table]
        assert "/home/sandbox/work" in text, table
        for path in paths:
            assert path not in text, (table, path)
        named = [line for line in text.splitlines() if word.search(line)]
        assert named == [], (table, named)
        assert ids_in_mount_table(table, text, ids) == [], table


def hub_targets(hub: Hub) -> dict[str, tuple[str, int]]:
    """Where hostile code would send what it found: the hub (by address and by name), the
    service, and outside."""
    port = urlsplit(hub.url).port or 80
    return {
        "hub": ("127.0.0.1", port),
        "hub_by_name": ("hub.localhost", port),
        "service": ("127.0.0.1", hub.service_port),
        "outside": ("1.1.1.1", 443),
    }


@dataclass
class SharedFolders:
    """Folders every account may write on this machine, outside /tmp and the homes: an nbgrader
    exchange as seed.py makes it (course inbound as nbgrader makes it) and a 1777 folder."""

    exchange: Path
    shared: Path

    @property
    def inbound(self) -> Path:
        return self.exchange / COURSE / "inbound"


@contextmanager
def shared_folders() -> Iterator[SharedFolders]:
    """A fresh :class:`SharedFolders` under /srv, removed after."""
    tag = uuid.uuid4().hex[:8]
    exchange = Path(f"/srv/nbgrader/cl-sec-{tag}")
    shared = Path(f"/srv/cl-sec-{tag}-shared")
    instructor = pwd.getpwnam("instructor")
    try:
        exchange.mkdir(parents=True)
        exchange.chmod(0o1777)
        inbound = exchange / COURSE / "inbound"
        inbound.mkdir(parents=True)
        for path in (exchange / COURSE, inbound):
            os.chown(path, instructor.pw_uid, instructor.pw_gid)
        inbound.chmod(0o2733)  # nbgrader's inbound: anyone may file, no one may list
        shared.mkdir()
        shared.chmod(0o1777)
        yield SharedFolders(exchange, shared)
    finally:
        shutil.rmtree(exchange, ignore_errors=True)
        shutil.rmtree(shared, ignore_errors=True)
