"""``make demo`` leaves the demo hub ready for the "Done means" of issues 4 and 6.

A hub of its own, started as ``make demo`` starts it (``COHORTLAB_DEMO_SETUP=1``: the hub runs
``hub_config/demo_setup.py`` as a service once it is up), with its own exchange, a private copy
of the course folder (``private_course``) and a fresh folder in each learner's home to fetch
into, all removed afterwards. Then, as the demo's people:

- red and blue are CohortLab cohorts with a collaboration account: ada opens red's workspace
  and finds the cohort notebook there, dee (blue) is refused;
- the six learners' hw1 submissions are collected and autograded, and the instructor's
  ``cohortlab review open hw1 --per-submission 2`` opens the round on them, with every
  learner reviewing two anonymous copies that name nobody;
- running the setup again changes nothing.

Its own hub because the setup makes real workspaces and a released, submitted hw1, which the
session's hub must not see; the round disappears with this hub's service database.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from cohortlab.cohorts.manage import account_name, cohort_properties
from cohortlab.reviews.anonymize import find_identifying

from tests.helpers.hub import REPO, Hub, start_hub, stop_hub
from tests.helpers.nbgrader import RUNUSER, VENV, home, person_env, private_course, seed_module
from tests.helpers.waiting import wait_until

sys.path.insert(0, str(REPO / "hub_config"))
from demo_course import COHORTS, COURSE, FULL_NAMES, LEARNERS, demo_groups
from demo_submissions import cell_key, email, fill_in

SETUP_TIMEOUT = 300  # seconds; about 80 on 2 busy cores
API = f"/services/cohortlab/api/v1/courses/{COURSE}"
TEMPLATE = REPO / "notebooks" / "cohort" / "together.ipynb"


@dataclass
class Demo:
    hub: Hub
    course: Path  # the instructor's course folder (a private copy)
    env: dict[str, str]  # what the hub passed to the setup, for running it again
    status: dict[str, Any]

    def api(self, method: str, user: str, path: str, **kw: Any) -> Any:
        return self.hub.api(method, f"{API}{path}", self.hub.token_for(user), **kw)

    def ok(self, method: str, user: str, path: str, **kw: Any) -> Any:
        resp = self.api(method, user, path, **kw)
        assert resp.status_code < 300, f"{user} {method} {path}: {resp.status_code} {resp.text}"
        return resp.json()

    def as_instructor(self, *command: str) -> subprocess.CompletedProcess[str]:
        """A command in the instructor's JupyterLab terminal, in their course folder."""
        env = person_env(
            "instructor",
            JUPYTERHUB_API_TOKEN=self.hub.token_for("instructor"),
            COHORTLAB_SERVICE_URL=f"http://127.0.0.1:{self.hub.service_port}/services/cohortlab/",
        )
        return subprocess.run(
            [RUNUSER, "-u", "instructor", "--", *command],
            cwd=self.course,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )


def wait_for_setup(hub: Hub) -> dict[str, Any]:
    """The setup's last status, once it has finished; at once if the hub exits first."""
    status = hub.state / "demo-setup.json"

    def over() -> tuple[str, dict[str, Any] | None] | None:
        if status.exists():
            data = json.loads(status.read_text())
            if data["state"] != "running":
                return "finished", data
        return ("hub exited", None) if hub.proc.poll() is not None else None

    try:
        _, data = wait_until(over, timeout=SETUP_TIMEOUT, interval=1, what="the demo setup")
    except AssertionError as e:
        raise TimeoutError(f"{e}:\n{hub.log_tail()}") from None
    if data is None:
        raise RuntimeError(f"the hub exited:\n{hub.log_tail()}")
    return data


@pytest.fixture(scope="module")
def cl_demo() -> Iterator[Demo]:
    if os.geteuid() != 0:
        pytest.skip("the one-machine hub runs servers as system users, which needs root")
    tag = uuid.uuid4().hex[:8]
    exchange = Path(f"/tmp/cl-demo-exchange-{tag}")
    fetch_dir = f"cl-demo-{tag}"
    seed_module().ensure_exchange(exchange)
    try:
        with private_course("demo") as course:
            env = {
                "COHORTLAB_DEMO_SETUP": "1",
                "COHORTLAB_NBGRADER_EXCHANGE": str(exchange),
                "COHORTLAB_DEMO_COURSE_DIR": str(course),
                "COHORTLAB_DEMO_FETCH_DIR": fetch_dir,
            }
            hub = start_hub(env)
            try:
                yield Demo(hub, course, env, wait_for_setup(hub))
            finally:
                stop_hub(hub)
    finally:
        shutil.rmtree(exchange, ignore_errors=True)
        for learner in LEARNERS:
            shutil.rmtree(home(learner) / fetch_dir, ignore_errors=True)


def test_load_groups_declares_the_properties_cohortlab_writes() -> None:
    """The hub rewrites load_groups properties at each start: equal ones mean no fight."""
    groups = demo_groups()
    for cohort in COHORTS:
        expected = cohort_properties(COURSE, cohort, account_name(COURSE, cohort))
        assert groups[f"cohort-{COURSE}-{cohort}"]["properties"] == expected


def test_the_demo_answers_never_replace_a_learners_own_work() -> None:
    released = json.loads((REPO / "notebooks" / "source" / "hw1" / "hw1.ipynb").read_text())
    copy = json.loads(json.dumps(released))
    mine = next(c for c in copy["cells"] if cell_key(c) == "mean")
    mine["source"] = "def mean(values):\n    return 42  # my own"
    assert fill_in(copy, released, "ada") == 3  # unusual_days, interpretation, try-it
    assert mine["source"].endswith("# my own")
    assert "Ada Lovelace" in json.dumps(copy["cells"])
    assert copy["metadata"]["authors"] == [{"name": "Ada Lovelace"}]
    assert fill_in(copy, released, "ada") == 0  # filled cells are the learner's now
    nbformat.validate(nbformat.from_dict(copy))


def test_the_setup_is_ready_with_every_learner_submitted_and_autograded(cl_demo: Demo) -> None:
    status = cl_demo.status
    assert status["state"] == "ready", f"{status.get('error')}\n{cl_demo.hub.log_tail()}"
    assignment = status["steps"]["assignment"]
    assert assignment["submitted"] == sorted(LEARNERS)
    assert assignment["autograded"] == sorted(LEARNERS)
    # refused: the workspace (a system account's home, shared with this machine's own demo)
    # already has a together.ipynb someone edited, which is kept
    assert set(status["steps"]["cohorts"]["template"].values()) <= {
        "written",
        "unchanged",
        "refused",
    }


def test_red_and_blue_are_cohortlab_cohorts_with_collaboration_accounts(cl_demo: Demo) -> None:
    for name, members in COHORTS.items():
        cohort = cl_demo.ok("GET", "instructor", f"/cohorts/{name}")["cohort"]
        assert cohort["account"] == f"cohort-{COURSE}-{name}" and not cohort["archived"]
        assert cohort["members"] == sorted(members)
        assert set(cohort["access"]) == {*members, "instructor"}  # a share each
        account = cl_demo.hub.admin("GET", f"/users/{cohort['account']}").json()
        assert "cohortlab-workspaces" in account["groups"]
        group = cl_demo.hub.admin("GET", f"/groups/cohort-{COURSE}-{name}").json()
        assert group["properties"]["cohortlab"]["account"] == cohort["account"]


def test_ada_opens_the_red_workspace_with_its_notebook_and_dee_is_refused(cl_demo: Demo) -> None:
    opened = cl_demo.ok("POST", "ada", "/cohorts/red/workspace", json={"wait": 25})["workspace"]
    assert opened["state"] == "ready" and opened["url"] == cl_demo.hub.at(
        f"/user/cohort-{COURSE}-red/lab"
    )
    contents = f"/user/cohort-{COURSE}-red/api/contents/{TEMPLATE.name}"
    resp = cl_demo.hub.api("GET", contents, cl_demo.hub.token_for("ada"))
    assert resp.status_code == 200, resp.text
    if cl_demo.status["steps"]["cohorts"]["template"]["red"] != "refused":  # else edited
        template = json.loads(TEMPLATE.read_text())
        cells = [(c["cell_type"], "".join(c["source"])) for c in template["cells"]]
        in_workspace = [(c["cell_type"], c["source"]) for c in resp.json()["content"]["cells"]]
        assert in_workspace == cells
    refused = cl_demo.api("POST", "dee", "/cohorts/red/workspace", json={"wait": 0})
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "unknown_cohort"
    assert cl_demo.hub.api("GET", contents, cl_demo.hub.token_for("dee")).status_code == 403


def test_running_the_setup_again_changes_nothing(cl_demo: Demo) -> None:
    hub = cl_demo.hub
    env = {
        **os.environ,
        **cl_demo.env,
        "COHORTLAB_STATE_DIR": str(hub.state),
        "COHORTLAB_VENV": str(VENV),
        "COHORTLAB_SERVICE_URL": f"http://127.0.0.1:{hub.service_port}/services/cohortlab/",
        "JUPYTERHUB_API_URL": f"{hub.url}/hub/api",
        "JUPYTERHUB_API_TOKEN": hub.admin_token,  # may make the instructor's tokens
    }
    setup = [str(VENV / "bin" / "python"), str(REPO / "hub_config" / "demo_setup.py"), "--once"]
    result = subprocess.run(setup, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads((hub.state / "demo-setup.json").read_text())
    assert status["state"] == "ready" and status["changes"] == [], result.stdout
    assert set(status["steps"]["cohorts"]["template"].values()) <= {"unchanged", "refused"}


def test_the_instructor_opens_the_review_round_and_learners_review_two_anonymous_peers(
    cl_demo: Demo,
) -> None:
    result = cl_demo.as_instructor(
        str(VENV / "bin" / "cohortlab"), "review", "open", "hw1", "--course", COURSE,
        "--per-submission", "2",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "opened peer review of hw1: 6 submission(s)" in result.stdout, result.stdout
    identifying = [
        text
        for user, (first, last) in FULL_NAMES.items()
        for text in (f"{first} {last}", email(user), f"/home/{user}")
    ]
    user_names = [user for user in LEARNERS if len(user) >= 3]  # shorter ones: homes only
    for learner in LEARNERS:
        mine = cl_demo.ok("GET", learner, "/reviews/hw1")["assignments"]
        assert len(mine) == 2, mine
        for assignment in mine:
            number = assignment["submission"]
            copy = cl_demo.ok("GET", learner, f"/reviews/hw1/submissions/{number}")
            notebooks = copy["submission"]["notebooks"]
            assert find_identifying(notebooks, identifying) == []
            assert find_identifying(notebooks, user_names, whole_words=True) == []
