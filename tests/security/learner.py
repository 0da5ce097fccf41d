"""A learner at her own terminal, for the attack tests: commands run as her system user
(``runuser``, as from the terminal JupyterLab gives her), files she writes in her home, and her
server stopped and started through the hub as she can do herself.

Every file planted here is new (one with a fixed name, such as
``~/.jupyter/jupyter_server_config.py``, must not exist yet; the others carry a random tag) and
is removed again: the demo people's homes are shared by every hub the test sessions on this
machine start.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.helpers.hub import Hub
from tests.helpers.nbgrader import RUNUSER, home
from tests.helpers.waiting import wait_until

#: The Python user site of the system Python (3.11) the venv is built from.
USER_SITE = ".local/lib/python3.11/site-packages"


def terminal_env(user: str) -> dict[str, str]:
    """A plain environment for ``user``, with the system's Python first on PATH."""
    return {"HOME": str(home(user)), "USER": user, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def run_as(user: str, script: str, *args: str, stdin: bytes | None = None) -> str:
    """Run the bash ``script`` (with ``args`` as ``$1``...) as ``user``; its stdout."""
    done = subprocess.run(
        [RUNUSER, "-u", user, "--", "bash", "-c", script, "bash", *args],
        env=terminal_env(user),
        input=stdin,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, f"as {user}: {script}\n{done.stderr.decode(errors='replace')}"
    return done.stdout.decode()


def spawn_as(user: str, script: str, log: Path) -> subprocess.Popen[bytes]:
    """Start the bash ``script`` as ``user`` in the background, in its own process group
    (stop it with :func:`stop_group`)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [RUNUSER, "-u", user, "--", "bash", "-c", script],
            env=terminal_env(user),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """End the process group :func:`spawn_as` started (by its id), and wait for it."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


@dataclass
class LearnerHome:
    """Files a learner writes in her home (as her), all removed by :meth:`clean`."""

    user: str
    created: list[Path] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return home(self.user)

    def plant(self, relative: str, content: str | bytes) -> Path:
        """Write ``content`` to ``~/relative`` as the learner; the file must be new."""
        target = self.path / relative
        assert not target.exists(), f"{target} exists already: not ours to overwrite or remove"
        top = target
        while not top.parent.exists():
            top = top.parent
        data = content.encode() if isinstance(content, str) else content
        run_as(self.user, 'mkdir -p -- "$(dirname -- "$1")" && cat > "$1"', str(target), stdin=data)
        if top not in self.created:
            self.created.append(top)
        return target

    def temp_dir(self) -> Path:
        """A fresh folder of the learner's in /tmp (removed by :meth:`clean`)."""
        path = Path(run_as(self.user, "mktemp -d /tmp/cl-sec-XXXXXXXX").strip())
        self.created.append(path)
        return path

    def clean(self) -> None:
        for path in reversed(self.created):
            run_as(self.user, 'rm -rf -- "$1"', str(path))
        self.created.clear()


@contextmanager
def learner_home(user: str) -> Iterator[LearnerHome]:
    planted = LearnerHome(user)
    try:
        yield planted
    finally:
        planted.clean()


def marks(path: Path) -> list[dict[str, Any]]:
    """The JSON lines planted code appended to ``path`` (each its pid and command line)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def mark_code(path: Path, what: str) -> str:
    """One line of Python appending ``what``, the process's pid and command line to ``path``."""
    record = f"{{'what': {what!r}, 'pid': os.getpid(), 'cmdline': open('/proc/self/cmdline')"
    return (
        f"import json, os; open({str(path)!r}, 'a').write(json.dumps({record}"
        ".read().split(chr(0))}) + chr(10))"
    )


def server_model(hub: Hub, user: str) -> dict[str, Any] | None:
    """``user``'s default server as the hub's admin sees it (with its pid), or None."""
    return hub.admin("GET", f"/users/{user}").json().get("servers", {}).get("")


def stop_server(hub: Hub, user: str, timeout: float = 60) -> None:
    """Stop ``user``'s server with her own token, as she can from the hub's home page."""
    resp = hub.api("DELETE", f"/hub/api/users/{user}/server", hub.token_for(user))
    assert resp.status_code in (202, 204, 400), resp.text
    wait_until(lambda: server_model(hub, user) is None, timeout, f"{user}'s server to stop")


def restart_server(hub: Hub, user: str) -> int:
    """Stop and start ``user``'s server; the new server's pid."""
    stop_server(hub, user)
    hub.start_server(user)
    model = server_model(hub, user)
    assert model and model["ready"], model
    return int(model["state"]["pid"])


@contextmanager
def server_restored(hub: Hub, user: str) -> Iterator[None]:
    """Whatever happens inside, ``user``'s server ends as a fresh one if it was running
    before (started again from what is in her home now), else stopped."""
    model = server_model(hub, user)
    was_running = bool(model and model.get("ready"))
    try:
        yield
    finally:
        stop_server(hub, user)
        if was_running:
            hub.start_server(user)
