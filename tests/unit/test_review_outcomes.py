"""A round's outcome on every backend: peer scores aggregated (median, mean, PG1) beside
autograde scores, overrides and exclusions, agreement, the author's feedback after release,
helpfulness ratings and flags, and a refused caller for every rule."""

from __future__ import annotations

import json
import statistics
from typing import Any

import pytest
from cohortlab.access import Caller
from cohortlab.reviews import cached, feedback, manage, results, reviewing
from cohortlab.reviews.anonymize import find_identifying

from tests.unit import test_review_store as store
from tests.unit.test_review_store import (
    CLARITY,
    ESSAY,
    LEARNERS,
    NOW,
    open_round,
    refused,
    roster,
    run,
    staff_view,
)

# the same fixtures as the rounds' tests: a database on each backend and the course's people
factory = store.factory
people = store.people

# a reviewer's scores: ada is generous, everyone else scores by the author's position
GENEROUS = "ada"


def essay_score(reviewer: str, author: str) -> float:
    base = 0.5 + 0.25 * LEARNERS.index(author)  # 0.5 .. 1.75 of 2
    return 2.0 if reviewer == GENEROUS else base


def review_everything(factory: Any, people: dict[str, Caller]) -> dict[str, Any]:
    """Open a round with k=3, every learner reviews all theirs; the staff view."""
    open_round(factory, people, LEARNERS, k=3)
    view = staff_view(factory, people)
    for sub in view["submissions"]:
        for r in sub["reviewers"]:
            body = {
                "scores": {
                    ESSAY: {"score": essay_score(r["user"], sub["author"]), "comment": "essay"},
                    CLARITY: {"score": 2, "comment": f"clear, says {r['user']}"},
                },
                "comment": "Overall fine.",
                "cell_comments": [{"notebook": "hw.ipynb", "cell": 2, "text": "Nice"}],
                "submit": True,
            }
            who = people[r["user"]]
            run(factory, reviewing.save_review, who, "hw", sub["number"], body, NOW)
    return view


def outcome(factory: Any, who: Caller) -> dict[str, Any]:
    return run(factory, results.staff_results, who, "hw", NOW)


def release(factory: Any, people: dict[str, Caller], **more: Any) -> None:
    run(factory, manage.change_round, people["teacher"], "hw", {"released": True, **more}, NOW)


def mine(factory: Any, who: Caller) -> dict[str, Any]:
    return run(factory, feedback.my_feedback, who, "hw")


def test_staff_see_peer_scores_aggregates_spread_and_agreement(
    factory: Any, people: dict[str, Caller]
) -> None:
    view = review_everything(factory, people)
    table = outcome(factory, people["teacher"])
    assert table["method"] == "median" and table["round"]["method"] == "median"
    for sub in table["submissions"]:
        essay = sub["criteria"][ESSAY]
        scores = [p["score"] for p in essay["peer"]]
        assert len(scores) == 3 and sub["reviews_counted"] == 3
        assert {p["reviewer"] for p in essay["peer"]} == {
            r["user"] for s in view["submissions"] if s["number"] == sub["number"]
            for r in s["reviewers"]
        }  # fmt: skip
        assert essay["aggregate"] == statistics.median(scores) == essay["final"]
        assert essay["spread"] == max(scores) - min(scores)
        assert essay["override"] is None and essay["autograde"] is None
        assert sub["total"] == {"score": essay["final"] + 2, "max": 5.0, "complete": True}
    agreement = {r["user"]: r["agreement"] for r in table["reviewers"]}
    assert agreement[GENEROUS] == min(agreement.values()) < 1
    # each reviewer learns their own figure, once feedback is released
    own = reviewing.round_view
    assert run(factory, own, people["ada"], "hw", roster(), NOW)[0]["my_agreement"] is None
    release(factory, people)
    for name in ("ada", "ben"):
        seen = run(factory, own, people[name], "hw", roster(), NOW)[0]["my_agreement"]
        assert seen == agreement[name]
    assert all(r["reviews_done"] == r["reviews_assigned"] == 3 for r in table["reviewers"])
    # mentors read results too; learners never
    assert outcome(factory, people["mentor"])["submissions"] == table["submissions"]
    assert refused(403, factory, results.staff_results, people["ben"], "hw", NOW) == "staff_only"


def test_the_method_is_the_instructors_choice(factory: Any, people: dict[str, Caller]) -> None:
    review_everything(factory, people)
    teacher = people["teacher"]
    means = {}
    for method in ("mean", "pg1"):
        changed = run(factory, manage.change_round, teacher, "hw", {"method": method}, NOW)
        assert changed["round"]["method"] == method
        table = outcome(factory, teacher)
        for sub in table["submissions"]:
            essay = sub["criteria"][ESSAY]
            scores = [p["score"] for p in essay["peer"]]
            if method == "mean":
                assert essay["final"] == pytest.approx(statistics.fmean(scores), abs=1e-4)
                means[sub["number"]] = essay["final"]
                continue
            # PG1 takes the generous reviewer's bias off their scores
            assert 0 <= essay["final"] <= 2
            fair = [p["score"] for p in essay["peer"] if p["reviewer"] != GENEROUS]
            if len(fair) < len(scores):
                truth = statistics.fmean(fair)
                assert abs(essay["final"] - truth) < abs(means[sub["number"]] - truth)
    bias = {r["user"]: r["bias"] for r in table["reviewers"]}
    assert bias[GENEROUS] == max(bias.values()) > 0
    bad = {"method": "mode"}
    assert refused(400, factory, manage.change_round, teacher, "hw", bad, NOW) == (
        "invalid_settings"
    )
    code = refused(403, factory, manage.change_round, people["ben"], "hw", {"method": "x"}, NOW)
    assert code == "instructor_only"


def test_an_instructor_overrides_a_score_in_range_and_clears_it(
    factory: Any, people: dict[str, Caller]
) -> None:
    review_everything(factory, people)
    teacher = people["teacher"]
    ok = {"score": 0.3, "reason": "Misread by the peers"}  # no peer gave 0.3
    set_ = results.set_override
    done = run(factory, set_, teacher, "hw", 1, ESSAY, ok, NOW)
    assert done["override"]["score"] == 0.3 and done["override"]["by"] == "teacher"
    sub = next(s for s in outcome(factory, teacher)["submissions"] if s["number"] == 1)
    assert sub["criteria"][ESSAY]["final"] == 0.3
    assert sub["criteria"][ESSAY]["override"]["reason"] == "Misread by the peers"
    assert sub["criteria"][ESSAY]["aggregate"] != 0.3
    for body, code in [
        ({"score": 2.5}, "score_out_of_range"),
        ({"score": -1}, "score_out_of_range"),
        ({"score": "2"}, "score_out_of_range"),
        ({"score": 1, "reason": "x" * 2001}, "invalid_field"),
        ({"score": 1, "who": "me"}, "invalid_field"),
    ]:
        assert refused(400, factory, set_, teacher, "hw", 1, ESSAY, body, NOW) == code
    assert refused(404, factory, set_, teacher, "hw", 1, "hw:nope", ok, NOW) == (
        "unknown_criterion"
    )
    assert refused(404, factory, set_, teacher, "hw", 99, ESSAY, ok, NOW) == "unknown_submission"
    for who in ("ben", "mentor"):
        assert refused(403, factory, set_, people[who], "hw", 1, ESSAY, ok, NOW) == (
            "instructor_only"
        )
        code = refused(403, factory, results.clear_override, people[who], "hw", 1, ESSAY)
        assert code == "instructor_only"
    run(factory, results.clear_override, teacher, "hw", 1, ESSAY)
    sub = next(s for s in outcome(factory, teacher)["submissions"] if s["number"] == 1)
    assert sub["criteria"][ESSAY]["final"] == sub["criteria"][ESSAY]["aggregate"]
    assert refused(404, factory, results.clear_override, teacher, "hw", 1, ESSAY) == ("no_override")


def test_an_excluded_review_counts_for_nothing_and_is_not_shown(
    factory: Any, people: dict[str, Caller]
) -> None:
    review_everything(factory, people)
    teacher = people["teacher"]
    sub = next(s for s in outcome(factory, teacher)["submissions"] if s["author"] == "ben")
    generous = (
        next(r for r in sub["reviews"] if r["reviewer"] == GENEROUS)
        if any(r["reviewer"] == GENEROUS for r in sub["reviews"])
        else sub["reviews"][0]
    )
    ex = results.exclude_review
    for who in ("ben", "mentor"):
        assert refused(403, factory, ex, people[who], "hw", generous["id"], {}, NOW) == (
            "instructor_only"
        )
    assert refused(404, factory, ex, teacher, "hw", "nope", {}, NOW) == "unknown_review"
    run(factory, ex, teacher, "hw", generous["id"], {"reason": "Copied the rubric"}, NOW)
    after = next(s for s in outcome(factory, teacher)["submissions"] if s["author"] == "ben")
    assert after["reviews_counted"] == 2
    kept = [p["score"] for p in after["criteria"][ESSAY]["peer"] if not p["excluded"]]
    assert after["criteria"][ESSAY]["aggregate"] == statistics.median(kept)
    row = next(r for r in after["reviews"] if r["id"] == generous["id"])
    assert row["excluded"]["reason"] == "Copied the rubric" and row["excluded"]["by"] == "teacher"
    release(factory, people)
    shown = mine(factory, people["ben"])
    assert len(shown["reviews"]) == 2 and generous["id"] not in json.dumps(shown)
    assert [r["label"] for r in shown["reviews"]] == ["Review 1", "Review 2"]
    number = after["number"]
    old = run(factory, reviewing.reviews_of, people["ben"], "hw", number)
    assert len(old["reviews"]) == 2
    run(factory, results.include_review, teacher, "hw", generous["id"])
    assert len(mine(factory, people["ben"])["reviews"]) == 3
    code = refused(404, factory, results.include_review, teacher, "hw", generous["id"])
    assert code == "not_excluded"


def test_feedback_is_the_authors_alone_and_only_after_release(
    factory: Any, people: dict[str, Caller]
) -> None:
    review_everything(factory, people)
    for who in ("teacher", "mentor"):
        assert refused(404, factory, feedback.my_feedback, people[who], "hw") == "no_submission"
    assert refused(403, factory, feedback.my_feedback, people["dee"], "hw") == "not_released"
    release(factory, people)
    shown = mine(factory, people["dee"])
    assert shown["assignment"] == "hw" and shown["method"] == "median"
    assert shown["submission"]["name"] == f"Submission {shown['submission']['number']}"
    [nb] = shown["submission"]["notebooks"]
    assert nb["name"] == "hw.ipynb" and len(nb["content"]["cells"]) == len(nb["cells"]) == 3
    assert [c["key"] for c in shown["rubric"]] == [ESSAY, CLARITY]
    assert shown["scores"][CLARITY] == 2 and shown["scores"][ESSAY] is not None
    assert len(shown["reviews"]) == 3
    for review in shown["reviews"]:
        assert set(review) == {
            "id", "label", "scores", "comment", "cell_comments", "helpfulness", "flagged"
        }  # fmt: skip
        assert review["cell_comments"] == [
            {"notebook": "hw.ipynb", "cell": 2, "output": None, "text": "Nice"}
        ]
        assert review["helpfulness"] is None and review["flagged"] is False
    others = [n for n in LEARNERS if n != "dee"]
    text = json.dumps(shown).replace("says", "")
    assert find_identifying(json.loads(text), others, whole_words=True) != []  # comments name
    # ...reviewers only in what they wrote themselves; the service adds no name of its own
    stripped = [{k: v for k, v in r.items() if k != "scores"} for r in shown["reviews"]]
    assert find_identifying(stripped, others, whole_words=True) == []
    release(factory, people, names_visible=True)
    named = mine(factory, people["dee"])
    view = staff_view(factory, people)
    sub = next(s for s in view["submissions"] if s["author"] == "dee")
    assert {r["reviewer"] for r in named["reviews"]} == {r["user"] for r in sub["reviewers"]}


def test_authors_rate_and_flag_the_reviews_of_their_own_work(
    factory: Any, people: dict[str, Caller]
) -> None:
    review_everything(factory, people)
    eli, fay = people["eli"], people["fay"]
    rate, flag = feedback.rate_review, feedback.flag_review
    # before release, nobody rates or flags
    table = outcome(factory, people["teacher"])
    elis = next(s for s in table["submissions"] if s["author"] == "eli")
    token = elis["reviews"][0]["id"]
    assert refused(403, factory, rate, eli, "hw", token, {"helpfulness": 4}, NOW) == (
        "not_released"
    )
    assert refused(403, factory, flag, eli, "hw", token, {"reason": "rude"}, NOW) == (
        "not_released"
    )
    release(factory, people)
    token = mine(factory, eli)["reviews"][0]["id"]
    assert token == elis["reviews"][0]["id"]
    for body in ({"helpfulness": 0}, {"helpfulness": 6}, {"helpfulness": "5"}, {"helpfulness": 2.5},
                 {"helpfulness": True}, {}, {"helpfulness": 3, "x": 1}):  # fmt: skip
        code = refused(400, factory, rate, eli, "hw", token, body, NOW)
        assert code in ("invalid_rating", "invalid_field"), body
    # another learner cannot rate or flag eli's reviews, nor read eli's feedback as theirs
    assert refused(404, factory, rate, fay, "hw", token, {"helpfulness": 1}, NOW) == (
        "unknown_review"
    )
    assert refused(404, factory, flag, fay, "hw", token, {"reason": "x"}, NOW) == "unknown_review"
    assert token not in json.dumps(mine(factory, fay))
    for who in ("teacher", "mentor"):
        code = refused(404, factory, rate, people[who], "hw", token, {"helpfulness": 1}, NOW)
        assert code == "no_submission"
    rated = run(factory, rate, eli, "hw", token, {"helpfulness": 4}, NOW)
    assert rated["id"] == token and rated["helpfulness"] == 4 and rated["label"] == "Review 1"
    assert run(factory, rate, eli, "hw", token, {"helpfulness": 5}, NOW)["helpfulness"] == 5
    assert mine(factory, eli)["reviews"][0]["helpfulness"] == 5
    for body in ({"reason": ""}, {"reason": "   "}, {"reason": "x" * 2001}, {}):
        assert refused(400, factory, flag, eli, "hw", token, body, NOW) == "invalid_field"
    flagged, flag_id, number = run(factory, flag, eli, "hw", token, {"reason": "Rude"}, NOW)
    assert flagged["review"]["flagged"] is True and number == elis["number"]
    assert refused(409, factory, flag, eli, "hw", token, {"reason": "again"}, NOW) == (
        "already_flagged"
    )
    # staff see who flagged whose review; learners see no flags
    flags = run(factory, feedback.list_flags, people["mentor"], "hw")["flags"]
    [row] = flags
    reviewer = elis["reviews"][0]["reviewer"]
    assert row["author"] == "eli" and row["reviewer"] == reviewer and row["reason"] == "Rude"
    assert row["resolved"] is False and row["id"] == flag_id
    assert refused(403, factory, feedback.list_flags, eli, "hw") == "staff_only"
    resolve = feedback.resolve_flag
    done = {"resolved": True, "resolution": "Talked to them"}
    assert refused(403, factory, resolve, eli, "hw", flag_id, done, NOW) == "staff_only"
    assert refused(404, factory, resolve, people["mentor"], "hw", 999, done, NOW) == "unknown_flag"
    resolved = run(factory, resolve, people["mentor"], "hw", flag_id, done, NOW)["flag"]
    assert resolved["resolved"] and resolved["resolved_by"] == "mentor"
    table = outcome(factory, people["teacher"])
    who = next(r for r in table["reviewers"] if r["user"] == reviewer)
    assert who["helpfulness"] == 5 and who["ratings"] == 1 and who["open_flags"] == 0
    assert table["open_flags"] == 0


def test_autograde_scores_are_recorded_by_instructors_for_the_round(
    factory: Any, people: dict[str, Caller]
) -> None:
    review_everything(factory, people)
    record = results.record_autograde
    body = {
        "submissions": {
            "ada": {"scores": {ESSAY: None}, "total": 3.0, "max_total": 5.0},
            "zed": {"total": 1.0},
        }
    }
    assert refused(403, factory, record, people["ada"], "hw", body, NOW) == "instructor_only"
    for bad in (
        {"submissions": []},
        {"submissions": {"ada": {"scores": {"hw:nope": 1}}}},
        {"submissions": {"ada": {"total": "3"}}},
        {"other": 1},
    ):
        assert refused(400, factory, record, people["teacher"], "hw", bad, NOW) == "invalid_field"
    done = run(factory, record, people["teacher"], "hw", body, NOW)
    assert done == {"stored": 1, "not_in_round": ["zed"]}
    sub = next(
        s for s in outcome(factory, people["teacher"])["submissions"] if s["author"] == "ada"
    )
    assert sub["autograde"] == {"total": 3.0, "max": 5.0}
    assert sub["criteria"][ESSAY]["autograde"] is None


def test_roster_is_untouched_by_outcomes(factory: Any, people: dict[str, Caller]) -> None:
    """Reading results settles nothing and gives nobody work (it reads, never allocates)."""
    review_everything(factory, people)
    before = staff_view(factory, people)
    outcome(factory, people["teacher"])
    assert staff_view(factory, people) == before
    assert roster()  # the shared helper still describes the same course


def test_pg1_is_computed_outside_the_transaction_and_then_read_from_the_cache(
    factory: Any, people: dict[str, Caller], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the service reads results: the transaction that finds no cached aggregate asks for
    it (rolled back, nothing computed while the database is held), the aggregate is computed
    with no session at all, and the second transaction finds it; a changed score asks again."""
    review_everything(factory, people)
    teacher = people["teacher"]
    run(factory, manage.change_round, teacher, "hw", {"method": "pg1"}, NOW)
    monkeypatch.setattr(cached, "_AGGREGATES", {})
    computed: list[str] = []
    real = cached.aggregate
    monkeypatch.setattr(cached, "aggregate", lambda *a: computed.append(a[2]) or real(*a))
    deferred = cached.outside_transaction(results.staff_results)
    with pytest.raises(cached.AggregateNeeded) as need:
        run(factory, deferred, teacher, "hw", NOW)
    assert computed == []
    need.value.compute()
    assert computed == ["pg1"]
    table = run(factory, deferred, teacher, "hw", NOW)
    assert computed == ["pg1"]  # from the cache, in the second short transaction
    assert table == outcome(factory, teacher)  # the same as computing in place
    # learners' own reads too: after release, my agreement needs the same aggregate
    release(factory, people)
    view, _told = run(
        factory, cached.outside_transaction(reviewing.round_view), people["ben"], "hw",
        store.roster(), NOW,
    )  # fmt: skip
    assert view["my_agreement"] is not None and computed == ["pg1"]
    # an excluded review changes the counted scores: a new aggregate is needed
    review = table["submissions"][0]["reviews"][0]["id"]
    run(factory, results.exclude_review, teacher, "hw", review, {"reason": "off"}, NOW)
    with pytest.raises(cached.AggregateNeeded):
        run(factory, deferred, teacher, "hw", NOW)
