"""The demo hub's one-shot setup: real cohort workspaces and hw1 submissions to review.

``make demo`` sets ``COHORTLAB_DEMO_SETUP=1``, and ``jupyterhub_config.py`` then runs this as
the hub service ``cohortlab-demo-setup`` (:func:`setup_service`): the hub starts it once the hub
is up, with a token that may only make tokens of the instructor. It does, as the instructor
through the CohortLab API (the routes behind ``cohortlab cohort``) and as each person with
nbgrader's own commands, what the issues' demo scenarios need before anyone logs in:

1. **cohorts** red and blue (hub groups from ``load_groups``) become full CohortLab cohorts:
   a sync (``cohortlab cohort sync``) makes each one's collaboration account and grants its members'
   and the instructor's shares (create if a cohort is missing);
2. **the cohort notebook** ``notebooks/cohort/together.ipynb`` goes into both workspaces
   (``cohortlab cohort push-template --on-conflict refuse``): written once, then ``unchanged``,
   and a cohort's edited copy is never touched;
3. **hw1** is generated and released by the instructor, fetched, answered
   (``demo_submissions.py``: different work, signed with names peer review must hide) and
   submitted by each of the six learners as themselves, then collected and autograded, with
   the learners' full names in nbgrader's gradebook. The review round is *not* opened: the
   instructor does that in the demo (README, "Try it").

Every step is idempotent, so each ``make demo`` runs it again and changes nothing that is
already there (a learner who already submitted, or edited a cell, keeps their work). Progress
goes to the hub's log (``demo setup: ...``) and to ``<state>/demo-setup.json``. A failure is
logged with its reason and leaves the hub running; the next start tries again. Managed hub
services are restarted when they exit, so after the setup the process waits, doing nothing,
until the hub stops it (``--once`` runs it once from a shell instead).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from demo_course import COHORTS, COURSE, INSTRUCTORS, LEARNERS  # noqa: E402
from demo_submissions import ASSIGNMENT, hand_in, record_students  # noqa: E402

SERVICE_NAME = "cohortlab-demo-setup"
QUIZ = "hw1-check"  # the quiz in hw1's source notebook
TEMPLATE = REPO / "notebooks" / "cohort" / "together.ipynb"
STATUS_FILE = "demo-setup.json"
HAND_IN_WORKERS = 3
DEFAULT_EXCHANGE = "/srv/nbgrader/exchange"
#: Passed from the hub's environment to the setup when set (tests move them).
PASSED_ON = (
    "COHORTLAB_NBGRADER_EXCHANGE",  # nbgrader's exchange (hub_config/nbgrader_config.py)
    "COHORTLAB_DEMO_COURSE_DIR",  # the instructor's course folder (default ~instructor/demo101)
    "COHORTLAB_DEMO_FETCH_DIR",  # where in their home learners fetch hw1 (default: the home)
)
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"


def setup_service(venv: Path, state: Path, service_url: str) -> tuple[dict, dict]:
    """The hub service that runs this file once the hub is up, and its role.

    No URL (nothing to proxy), so the hub starts it without waiting for it. Its one scope,
    ``tokens!user=instructor``, lets it make the instructor's short-lived token it works with:
    the hub does not limit such a token's scopes, so this service can act as the instructor,
    and as nobody else. It is added only with ``COHORTLAB_DEMO_SETUP=1`` (``make demo``).
    """
    env = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin:/usr/sbin:/sbin",
        "LANG": "C.UTF-8",
        "COHORTLAB_VENV": str(venv),
        "COHORTLAB_STATE_DIR": str(state),
        "COHORTLAB_SERVICE_URL": service_url,
        **{key: os.environ[key] for key in PASSED_ON if os.environ.get(key)},
    }
    service = {
        "name": SERVICE_NAME,
        "command": [str(venv / "bin" / "python"), str(Path(__file__).resolve())],
        "environment": env,
        "display": False,
    }
    role = {
        "name": SERVICE_NAME,
        "scopes": [f"tokens!user={INSTRUCTORS[0]}"],
        "services": [SERVICE_NAME],
    }
    return service, role


class SetupError(Exception):
    """A step failed; the message says which and how to retry."""


def log(message: str) -> None:
    stamp = datetime.now().strftime("%H:%M:%S")
    print(f"[{stamp} {SERVICE_NAME}] demo setup: {message}", flush=True)


#: What this run changed (logged as it goes); empty when everything was already there.
CHANGES: list[str] = []


def changed(message: str) -> None:
    CHANGES.append(message)
    log(message)


# --- running commands as people ---------------------------------------------------------

_running: set[subprocess.Popen[str]] = set()
_lock = threading.Lock()
_stopping = threading.Event()


def stop_children(*_: Any) -> None:
    """Stop every command still running (their whole process groups), start no more, and
    exit: the hub is stopping this service."""
    with _lock:
        _stopping.set()
        for proc in _running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit(0)


class Machine:
    """Where the demo lives: homes, the course folder, the exchange, and how to run a command
    as one of the demo people (their own system user when the hub runs as root)."""

    def __init__(self, venv: Path, state: Path) -> None:
        self.venv = venv
        self.state = state
        self.is_root = os.geteuid() == 0
        self.exchange = Path(os.environ.get("COHORTLAB_NBGRADER_EXCHANGE") or DEFAULT_EXCHANGE)
        default_course = self.home(INSTRUCTORS[0]) / COURSE
        self.course_dir = Path(os.environ.get("COHORTLAB_DEMO_COURSE_DIR") or default_course)
        self.fetch_subdir = os.environ.get("COHORTLAB_DEMO_FETCH_DIR", "")

    def home(self, user: str) -> Path:
        if self.is_root:
            return Path(pwd.getpwnam(user).pw_dir)
        return self.state / "home" / user  # INSECURE dev mode: seed.py's homes

    def give(self, path: Path, user: str) -> None:
        if self.is_root:
            entry = pwd.getpwnam(user)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def run(self, user: str, cwd: Path, *command: str, **extra_env: str) -> str:
        env = {
            "HOME": str(self.home(user)),
            "USER": user,
            "LOGNAME": user,
            "PATH": f"{self.venv / 'bin'}:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "COHORTLAB_NBGRADER_EXCHANGE": str(self.exchange),
            **extra_env,
        }
        argv = [RUNUSER, "-u", user, "--", *command] if self.is_root else list(command)
        with _lock:  # a stop either sees this command or happened before it would start
            if _stopping.is_set():
                raise SetupError("stopped: the hub is shutting down")
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                start_new_session=True,  # so a stop ends the command's own children too
            )
            _running.add(proc)
        try:
            out, _ = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        finally:
            with _lock:
                _running.discard(proc)
        if proc.returncode != 0:
            tail = "\n".join(out.strip().splitlines()[-15:])
            raise SetupError(f"`{' '.join(command[-3:])}` as {user} failed:\n{tail}")
        return out

    def nbgrader(self, user: str, cwd: Path, *args: str, **env: str) -> str:
        return self.run(user, cwd, str(self.venv / "bin" / "nbgrader"), *args, **env)


# --- the hub and the service ------------------------------------------------------------


class Hub:
    """The hub API as this service, and the CohortLab service as the instructor."""

    def __init__(self, api_url: str, token: str, service_url: str) -> None:
        import requests

        self.requests = requests
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.service_url = service_url
        self.instructor_token = ""
        self.token_id = ""

    def wait_for_service(self, timeout: float = 180) -> None:
        """The CohortLab service answers (401 without a token) once it is up."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                resp = self.requests.get(f"{self.service_url}api/v1", timeout=5)
                if resp.status_code == 401:
                    return
            except self.requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise SetupError(f"the CohortLab service at {self.service_url} did not answer")
            time.sleep(1)

    def mint_instructor_token(self) -> str:
        """A token of the instructor that may only reach the CohortLab service, for an hour."""
        resp = self.requests.post(
            f"{self.api_url}/users/{INSTRUCTORS[0]}/tokens",
            headers={"Authorization": f"token {self.token}"},
            json={
                "note": "CohortLab demo setup",
                "expires_in": 3600,
                "scopes": ["access:services!service=cohortlab"],
            },
            timeout=30,
        )
        if resp.status_code != 201:
            raise SetupError(f"the hub refused a token for the instructor: {resp.text[:300]}")
        model = resp.json()
        self.instructor_token, self.token_id = model["token"], model["id"]
        return self.instructor_token

    def drop_instructor_token(self) -> None:
        if self.token_id:
            with contextlib.suppress(self.requests.RequestException):
                self.requests.delete(
                    f"{self.api_url}/users/{INSTRUCTORS[0]}/tokens/{self.token_id}",
                    headers={"Authorization": f"token {self.token}"},
                    timeout=30,
                )

    def service(self, timeout: float = 15.0) -> Any:
        from cohortlab.client import ServiceClient

        return ServiceClient(url=self.service_url, token=self.instructor_token, timeout=timeout)


# --- 1 and 2: cohorts and their notebook ------------------------------------------------


def cohorts_path(*parts: str) -> str:
    from cohortlab.commands import service_path

    return service_path("courses", COURSE, "cohorts", *parts)


def make_cohorts(hub: Hub) -> dict[str, Any]:
    """``cohortlab cohort sync`` each demo cohort (``create`` one that is missing)."""
    from cohortlab.client import ServiceError

    client = hub.service()
    done: dict[str, Any] = {}
    for name, members in COHORTS.items():
        try:
            result = client.post(cohorts_path(name, "sync"))
            cohort, granted = result["cohort"], result["granted"]
            if result["created_account"] or granted or result["revoked"]:
                made = "made its workspace account; " if result["created_account"] else ""
                changed(f"cohort {name}: {made}access granted to {', '.join(granted) or '-'}")
            else:
                log(f"cohort {name}: workspace account and access already in place")
        except ServiceError as e:
            if e.code != "unknown_cohort":
                raise
            cohort = client.post(cohorts_path(), {"name": name, "members": members})["cohort"]
            changed(f"cohort {name}: created with {', '.join(members)}")
        done[name] = {"account": cohort["account"], "members": cohort["members"]}
    return done


def push_template(hub: Hub) -> dict[str, str]:
    """``cohortlab cohort push-template together.ipynb --on-conflict refuse``, one cohort at a
    time (each may start its workspace). ``refused`` means the cohort already has its own
    ``together.ipynb`` (edited): kept."""
    from cohortlab.commands import service_path

    client = hub.service(timeout=90)
    notebook = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    body = {"name": TEMPLATE.name, "notebook": notebook, "on_conflict": "refuse"}
    statuses: dict[str, str] = {}
    for name in COHORTS:
        path = service_path("courses", COURSE, "cohort-templates")
        result = client.post(path, {**body, "cohorts": [name]})["results"][0]
        statuses[name] = result["status"]
        if result["status"] == "failed":
            raise SetupError(f"{TEMPLATE.name} into cohort {name}: {result['message']}")
        say = changed if result["status"] in ("written", "renamed") else log
        say(f"cohort {name}: {TEMPLATE.name} {result['status']} ({result['message']})")
    return statuses


# --- 3: hw1 released, submitted by every learner, collected, autograded ------------------


def prepare_assignment(machine: Machine, hub: Hub) -> dict[str, Any]:
    teacher, course = INSTRUCTORS[0], machine.course_dir
    if not (course / "nbgrader_config.py").exists():
        raise SetupError(f"no nbgrader course at {course}: run hub_config/seed.py first")
    as_teacher = {
        "JUPYTERHUB_API_TOKEN": hub.instructor_token,  # generating publishes hw1's quiz
        "COHORTLAB_SERVICE_URL": hub.service_url,
    }
    released = course / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    if not released.exists():
        generate(machine, course, **as_teacher)
        changed(f"{ASSIGNMENT} generated (its quiz published)")
    elif not quiz_published(hub):
        # generated before, for another service database (the demo's state folder was removed
        # but the course folder is in a home): generating again publishes the quiz again
        generate(machine, course, "--force", **as_teacher)
        changed(f"{ASSIGNMENT} generated again (its quiz published to this service)")
    if not (machine.exchange / COURSE / "outbound" / ASSIGNMENT).is_dir():
        machine.nbgrader(teacher, course, "release_assignment", ASSIGNMENT)
        changed(f"{ASSIGNMENT} released")
    to_collect = [s for s in LEARNERS if not (course / "submitted" / s / ASSIGNMENT).is_dir()]
    to_grade = [s for s in LEARNERS if not (course / "autograded" / s / ASSIGNMENT).is_dir()]
    # Each learner as themselves, a few at a time (each nbgrader run starts a Python); the
    # instructor records their names meanwhile, for review open to remove.
    with ThreadPoolExecutor(HAND_IN_WORKERS) as pool:
        names = pool.submit(record_students, machine, course) if to_collect or to_grade else None
        new = list(pool.map(lambda learner: hand_in(machine, learner), LEARNERS))
        if names:
            names.result()
    if handed_in := [learner for learner, fresh in zip(LEARNERS, new, strict=True) if fresh]:
        changed(f"{ASSIGNMENT} fetched, answered and submitted by {', '.join(handed_in)}")
    if to_collect:
        machine.nbgrader(teacher, course, "collect", ASSIGNMENT)
        changed(f"{ASSIGNMENT} collected")
    if to_grade:
        machine.nbgrader(teacher, course, "autograde", ASSIGNMENT)
        changed(f"{ASSIGNMENT} autograded")
    return {
        "course_dir": str(course),
        "submitted": sorted(p.parent.name for p in (course / "submitted").glob(f"*/{ASSIGNMENT}")),
        "autograded": sorted(
            p.parent.name for p in (course / "autograded").glob(f"*/{ASSIGNMENT}")
        ),
    }


def generate(machine: Machine, course: Path, *args: str, **env: str) -> None:
    """``nbgrader generate_assignment hw1`` as the instructor, with the way out of the one
    failure a person must settle: a gradebook holding submissions of another hw1."""
    try:
        machine.nbgrader(INSTRUCTORS[0], course, "generate_assignment", ASSIGNMENT, *args, **env)
    except SetupError as e:
        if "there are submissions associated with it" not in str(e):
            raise
        raise SetupError(
            f"{e}\n{course / 'gradebook.db'} holds submissions of an older {ASSIGNMENT}; the "
            f"demo's {ASSIGNMENT} cannot replace it. Move that gradebook aside (it is the "
            "instructor's) and start the demo again."
        ) from None


def quiz_published(hub: Hub) -> bool:
    """Whether the service knows hw1's quiz (``hw1-check``, from its spec cell)."""
    from cohortlab.client import ServiceError
    from cohortlab.commands import service_path

    try:
        hub.service().get(service_path("courses", COURSE, "quizzes", QUIZ))
    except ServiceError as e:
        if e.status == 404:
            return False
        raise
    return True


# --- the run ----------------------------------------------------------------------------


class Status:
    """``<state>/demo-setup.json``: what the setup did, for people and tests to read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"state": "running", "started_at": now(), "steps": {}}
        self.write()

    def step(self, name: str, result: Any) -> None:
        self.data["steps"][name] = result
        self.write()

    def finish(self, state: str, error: str = "") -> None:
        self.data.update(state=state, finished_at=now(), error=error, changes=CHANGES)
        self.write()

    def write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1), encoding="utf-8")
        os.chmod(tmp, 0o644)
        tmp.replace(self.path)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def run_setup(machine: Machine, hub: Hub, status: Status) -> None:
    hub.wait_for_service()
    hub.mint_instructor_token()
    try:
        parts: dict[str, Callable[[], Any]] = {
            "cohorts": lambda: {"cohorts": make_cohorts(hub), "template": push_template(hub)},
            "assignment": lambda: prepare_assignment(machine, hub),
        }
        # The two parts share nothing; workspace starts and nbgrader runs overlap.
        with ThreadPoolExecutor(len(parts)) as pool:
            futures = {name: pool.submit(part) for name, part in parts.items()}
            for name, future in futures.items():
                status.step(name, future.result())
    finally:
        hub.drop_instructor_token()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--once",
        action="store_true",
        help="Exit when done (status 1 on failure) instead of waiting for the hub to stop it; "
        "needs JUPYTERHUB_API_URL and a JUPYTERHUB_API_TOKEN that may make the instructor's "
        "tokens.",
    )
    once = parser.parse_args().once
    signal.signal(signal.SIGTERM, stop_children)
    signal.signal(signal.SIGINT, stop_children)
    venv = Path(os.environ.get("COHORTLAB_VENV", sys.prefix))
    state = Path(os.environ.get("COHORTLAB_STATE_DIR", REPO / ".demo"))
    status = Status(state / STATUS_FILE)
    hub = Hub(
        os.environ["JUPYTERHUB_API_URL"],
        os.environ["JUPYTERHUB_API_TOKEN"],
        os.environ["COHORTLAB_SERVICE_URL"],
    )
    started = time.monotonic()
    log("making the demo's cohort workspaces and hw1 submissions (a minute or two)")
    try:
        run_setup(Machine(venv, state), hub, status)
    except Exception as e:  # any failure: say so, and keep the hub running
        status.finish("failed", str(e))
        log(f"FAILED: {e}\nThe hub works without it; restart `make demo` to try again.")
        if once:
            sys.exit(1)
    else:
        status.finish("ready")
        log(
            f"ready in {time.monotonic() - started:.0f} s ({len(CHANGES)} change(s)): cohorts "
            f"red and blue have their workspaces with {TEMPLATE.name}; the {len(LEARNERS)} "
            f"learners have submitted {ASSIGNMENT}. See the README's 'Try it'."
        )
    while not once:  # the hub restarts a managed service that exits
        signal.pause()


if __name__ == "__main__":
    main()
