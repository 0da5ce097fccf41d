"""Contribution counts tallied by the workspace server, the service's check of a server's
report, per-person lab folders, and cohorts that lost a member on the hub."""

from __future__ import annotations

import pytest
from cohortlab.cohorts.watch import all_cohorts, lost_members
from cohortlab.errors import APIError
from cohortlab.service.handlers.workspace_activity import activity_reports
from cohortlab.workspace_server.activity import ActivityReporter
from cohortlab.workspace_server.attribution import Recorder
from cohortlab.workspace_server.personal import person_folder


def test_a_cell_counts_once_per_person_and_report_however_often_it_changes() -> None:
    recorder = Recorder()
    for _ in range(50):
        recorder.edited("a.ipynb", "c1", "ada")
        recorder.ran("a.ipynb", "c1", "ada")
    recorder.edited("a.ipynb", "c2", "ada")
    recorder.ran("b.ipynb", "c9", "ben")
    assert recorder.take_tally() == [("ada", "a.ipynb", 2, 1), ("ben", "b.ipynb", 0, 1)]
    assert recorder.take_tally() == []


def test_a_report_that_failed_is_added_to_the_next_one() -> None:
    recorder = Recorder()
    reporter = ActivityReporter(recorder, "c", "red", "http://service", "t")
    recorder.edited("a.ipynb", "c1", "ada")
    reporter.unsent = reporter.pending()  # as after a failed send
    recorder.edited("a.ipynb", "c2", "ada")
    assert reporter.pending() == [("ada", "a.ipynb", 2, 0)]


def test_a_servers_report_is_checked_before_anything_is_counted() -> None:
    good = {"reports": [{"name": "ada", "notebook": "a.ipynb", "edits": 2, "runs": 1}]}
    assert activity_reports(good) == [("ada", "a.ipynb", 2, 1)]
    for bad in (
        {},
        {"reports": []},
        {"reports": [{"notebook": "a", "edits": 1}]},
        {"reports": [{"name": "ada", "notebook": "a", "edits": 1001}]},
        {"reports": [{"name": "ada", "notebook": "a"}]},
        {"reports": ["x"]},
        {"notebook": "a", "edits": 1},
    ):
        with pytest.raises(APIError) as refused:
            activity_reports(bad)
        assert refused.value.status_code == 400


def test_each_person_has_a_folder_of_their_own_whatever_their_name() -> None:
    assert str(person_folder("/s", "ada")) == "/s/people/ada"
    odd = [person_folder("/s", n) for n in ("..", "a/b", "é", "../ada", "ada ")]
    assert len({str(p) for p in odd}) == len(odd)
    assert all(p.parent == person_folder("/s", "x").parent for p in odd)


def test_cohorts_that_lost_a_member_on_the_hub_are_found() -> None:
    props = {
        "cohort-c1-red": {"cohortlab": {"kind": "cohort", "course": "c1", "cohort": "red"}},
        "cohort-c1-blue": {"cohortlab": {"kind": "cohort", "course": "c1", "cohort": "blue"}},
    }
    before = {"cohort-c1-red": ["ada", "ben"], "cohort-c1-blue": ["cy"], "nbgrader-c1": ["ada"]}
    after = {"cohort-c1-red": ["ada"], "cohort-c1-blue": ["cy", "dee"], "nbgrader-c1": []}
    assert lost_members(before, after, props) == [("c1", "red")]
    # a cohort made since the last look: its members may have come and gone in between
    props["cohort-c1-new"] = {"cohortlab": {"kind": "cohort", "course": "c1", "cohort": "new"}}
    assert lost_members(before, {**after, "cohort-c1-new": []}, props) == [
        ("c1", "new"),
        ("c1", "red"),
    ]
    assert all_cohorts(after, props) == [("c1", "blue"), ("c1", "red")]
