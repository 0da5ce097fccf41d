"""``cohortlab review results|override|exclude`` against a fake service: the table a person
reads, the JSON as the service sent it, the routes and bodies the changes send, and refusals
in one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tornado import web

from tests.helpers.threaded_server import serve_in_thread
from tests.unit import test_review_export as export_tests
from tests.unit.test_review_export import (
    COURSE,
    FakeHandler,
    FakeService,
    ResultsHandler,
    one_line_error,
)

cl_review = export_tests.cl_review  # the same runner: a fixture, shared


class OverrideHandler(FakeHandler):
    def put(self, course: str, assignment: str, number: str, criterion: str) -> None:
        if criterion != "hw1:essay":
            self.set_status(404)
            self.finish({"error": {"code": "unknown_criterion", "message": "No such criterion."}})
            return
        body = json.loads(self.request.body)
        override = {"score": body["score"], "reason": body.get("reason", ""), "by": "ins"}
        self.finish({"submission": int(number), "criterion": criterion, "override": override})

    def delete(self, course: str, assignment: str, number: str, criterion: str) -> None:
        self.set_status(204)


class ExclusionHandler(FakeHandler):
    def put(self, course: str, assignment: str, review: str) -> None:
        self.finish({"review": review, "excluded": {"reason": "x", "by": "ins", "at": None}})

    def delete(self, course: str, assignment: str, review: str) -> None:
        self.set_status(204)


@pytest.fixture
def cl_service() -> Iterator[FakeService]:
    state = FakeService()
    rnd = r"/services/cohortlab/api/v1/courses/([^/]+)/reviews/([^/]+)"

    def app() -> web.Application:
        return web.Application(
            [
                (rf"{rnd}/results", ResultsHandler),
                (rf"{rnd}/overrides/([^/]+)/([^/]+)", OverrideHandler),
                (rf"{rnd}/exclusions/([^/]+)", ExclusionHandler),
            ],
            state=state,
        )

    with serve_in_thread(app) as port:
        state.port = port
        yield state


def test_results_are_a_table_of_scores_reviews_and_reviewers(
    cl_review: Any, cl_service: FakeService
) -> None:
    cl_service.results["reviewers"] = [
        {
            "user": "dee",
            "reviews_assigned": 2,
            "reviews_done": 1,
            "reviews_excluded": 0,
            "agreement": 0.875,
            "helpfulness": None,
            "open_flags": 1,
        }
    ]
    cl_service.results["submissions"][0]["criteria"]["hw1:essay"]["spread"] = 0.25
    done = cl_review(cl_service, "results", "hw1")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "peer review of hw1: closed, median, 2 submission(s)"
    header = next(line for line in lines if line.startswith("#  author"))
    assert header.split() == [
        "#", "author", "criterion", "final", "peers", "aggregate", "autograde", "disagreement"
    ]  # fmt: skip
    essay = next(line for line in lines if line.startswith("1  ada"))
    # final, the peers' scores (the excluded one in brackets), aggregate, autograde, spread
    assert essay.split()[-7:] == ["1.25", "1.5,", "[0],", "1", "1.25", "-", "0.25"]
    assert "* submission 2, hw1:essay: 2: Checked myself" in done.stdout
    assert any(line.split()[:4] == ["1", "r2", "cy", "-"] and "rude" in line for line in lines)
    dee = next(line for line in lines if line.strip().startswith("dee "))
    assert dee.split() == ["dee", "1/2", "0", "0.875", "-", "1"]
    assert cl_service.requests[-1][:2] == (
        "GET",
        f"/services/cohortlab/api/v1/courses/{COURSE}/reviews/hw1/results",
    )
    raw = cl_review(cl_service, "results", "hw1", "--json")
    assert json.loads(raw.stdout) == cl_service.results


def test_override_sets_and_clears_one_criterion(cl_review: Any, cl_service: FakeService) -> None:
    done = cl_review(cl_service, "override", "hw1", "2", "hw1:essay", "1.5", "--reason", "Fair")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "submission 2, hw1:essay: 1.5 set by you (Fair)"
    method, path, body = cl_service.requests[-1]
    assert (method, body) == ("PUT", {"score": 1.5, "reason": "Fair"})
    assert path.endswith("/reviews/hw1/overrides/2/hw1%3Aessay")
    cleared = cl_review(cl_service, "override", "hw1", "2", "hw1:essay", "--clear")
    assert cleared.returncode == 0 and "the peers' score counts again" in cleared.stdout
    assert cl_service.requests[-1][0] == "DELETE"


def test_exclude_and_include_a_review(cl_review: Any, cl_service: FakeService) -> None:
    done = cl_review(cl_service, "exclude", "hw1", "r2", "--reason", "Off topic")
    assert done.returncode == 0 and "review r2 is excluded" in done.stdout
    assert cl_service.requests[-1][0] == "PUT" and cl_service.requests[-1][2] == {
        "reason": "Off topic"
    }
    assert cl_service.requests[-1][1].endswith("/reviews/hw1/exclusions/r2")
    back = cl_review(cl_service, "exclude", "hw1", "r2", "--include")
    assert back.returncode == 0 and "review r2 counts again" in back.stdout
    assert cl_service.requests[-1][0] == "DELETE"


def test_refusals_are_one_line(cl_review: Any, cl_service: FakeService) -> None:
    line = one_line_error(cl_review(cl_service, "results", "hw1", token="learner"))
    assert line == "cohortlab: Only instructors."
    line = one_line_error(cl_review(cl_service, "override", "hw1", "two", "hw1:essay", "1"))
    assert "'two' is not a submission number" in line
    line = one_line_error(cl_review(cl_service, "override", "hw1", "2", "hw1:essay"))
    assert "give <assignment> <submission> <criterion> <score>" in line
    line = one_line_error(cl_review(cl_service, "override", "hw1", "2", "hw1:essay", "lots"))
    assert "'lots' is not a score" in line
    line = one_line_error(cl_review(cl_service, "override", "hw1", "2", "nope", "1"))
    assert line == "cohortlab: No such criterion."
    line = one_line_error(cl_review(cl_service, "exclude", "hw1"))
    assert "give <assignment> <review>" in line
    sent = len(cl_service.requests)
    one_line_error(cl_review(cl_service, "override", "hw1", "x", "hw1:essay", "1"))
    assert len(cl_service.requests) == sent  # refused before anything was sent
