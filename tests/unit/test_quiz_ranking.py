"""Leaderboards: competition ranks with ties, windows that always hold the viewer, names as
the course chose (staff always see real ones, learners never under "alias"), and aliases
that are friendly, unique in a course, stable, and not computable from a user name."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
from cohortlab.quizzes.ranking import (
    ADJECTIVES,
    ALIAS_ATTEMPTS,
    ANIMALS,
    ANONYMOUS,
    Ranked,
    Standing,
    assign_alias,
    assign_aliases,
    base_alias,
    leaderboard,
    near_me,
    new_alias_secret,
    rank,
    top,
)
from hypothesis import given
from hypothesis import strategies as st

SECRET = b"k" * 32
users = st.text("abcdefghij", min_size=1, max_size=4)
standings_lists = st.dictionaries(
    users,
    st.tuples(st.integers(0, 6), st.one_of(st.none(), st.integers(0, 3).map(float))),
    max_size=25,
).map(lambda d: [Standing(u, s, t) for u, (s, t) in d.items()])


def test_standard_competition_ranking() -> None:
    ranked = rank([Standing("d", 1), Standing("b", 5), Standing("a", 10), Standing("c", 5)])
    assert [(r.rank, r.user) for r in ranked] == [(1, "a"), (2, "b"), (2, "c"), (4, "d")]


def test_a_tie_break_separates_equal_scores_only_when_asked() -> None:
    entries = [Standing("slow", 5, 30.0), Standing("fast", 5, 12.0), Standing("none", 5)]
    assert [(r.rank, r.user) for r in rank(entries, tiebreak=True)] == [
        (1, "fast"),
        (2, "slow"),
        (3, "none"),  # no tie-break value ranks after any value
    ]
    assert [r.rank for r in rank(entries)] == [1, 1, 1]


@given(standings_lists, st.booleans())
def test_ranks_count_who_did_better(entries: list[Standing], tiebreak: bool) -> None:
    ranked = rank(entries, tiebreak=tiebreak)

    def level(r: Any) -> tuple[float, Any]:
        tb = (r.tiebreak is None, r.tiebreak or 0.0) if tiebreak else None
        return (-r.score, tb)

    assert sorted(r.user for r in ranked) == sorted(e.user for e in entries)
    for a, b in itertools.pairwise(ranked):
        assert a.rank <= b.rank and a.score >= b.score
        assert (a.rank == b.rank) == (level(a) == level(b))  # ties, and only ties, share
    for r in ranked:
        assert r.rank == 1 + sum(level(o) < level(r) for o in ranked)


@given(standings_lists, st.randoms())
def test_ranking_does_not_depend_on_input_order(entries: list[Standing], rng: Any) -> None:
    shuffled = list(entries)
    rng.shuffle(shuffled)
    assert rank(shuffled) == rank(entries)
    assert rank(shuffled, tiebreak=True) == rank(entries, tiebreak=True)


def test_a_person_twice_or_a_nan_score_is_refused() -> None:
    with pytest.raises(ValueError, match="once"):
        rank([Standing("a", 1), Standing("a", 2)])
    with pytest.raises(ValueError, match="NaN"):
        rank([Standing("a", float("nan"))])


def _ranked(n: int) -> list[Ranked]:
    return rank(Standing(f"u{i:02}", 100 - i) for i in range(n))


@given(st.integers(0, 30), st.integers(0, 40))
def test_top_n_is_the_first_n_rows(size: int, n: int) -> None:
    ranked = _ranked(size)
    assert top(ranked, n) == ranked[: min(n, size)]


@given(st.integers(1, 30), st.data(), st.integers(0, 5))
def test_near_me_holds_me_and_my_neighbours_clipped_at_the_ends(
    size: int, data: Any, radius: int
) -> None:
    ranked = _ranked(size)
    me = data.draw(st.integers(0, size - 1))
    window = near_me(ranked, f"u{me:02}", radius)
    assert ranked[me] in window
    start = ranked.index(window[0])
    assert window == ranked[start : start + len(window)]  # contiguous
    assert start == max(0, me - radius)
    assert len(window) == min(size, me + radius + 1) - start


def test_near_me_is_empty_for_someone_not_ranked() -> None:
    assert near_me(_ranked(5), "staff") == []


# --- names -------------------------------------------------------------------------------

PEOPLE = [f"learner{i}" for i in range(12)]
REAL = {u: f"Real Person {i}" for i, u in enumerate(PEOPLE)}
ALIASES = assign_aliases(SECRET, "c1", PEOPLE)
RANKED = rank(Standing(u, (i * 7) % 5) for i, u in enumerate(PEOPLE))


def board(viewer: str, *, staff: bool = False, names: Any = "alias", **kw: Any) -> Any:
    return leaderboard(
        RANKED, viewer=viewer, staff=staff, names=names, aliases=ALIASES, real_names=REAL, **kw
    )


def test_staff_always_see_real_names() -> None:
    for names in ("real", "alias", "opt_in"):
        seen = board("teacher", staff=True, names=names, limit=100)
        assert {e.name for e in seen.top} == set(REAL.values())
        assert seen.names == "real" and seen.me is None and seen.near_me == ()


def test_under_real_names_learners_see_real_names() -> None:
    seen = board("learner3", names="real", limit=100)
    assert {e.name for e in seen.top} == set(REAL.values())
    assert not any(e.alias for e in seen.top)


@given(
    st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=15, unique=True),
    st.data(),
)
def test_learners_never_see_a_real_name_under_alias(names: list[str], data: Any) -> None:
    people = [f"user{i}" for i in range(len(names))]
    real = dict(zip(people, names, strict=True))
    ranked = rank(Standing(u, data.draw(st.integers(0, 3))) for u in people)
    viewer = data.draw(st.sampled_from([*people, "outsider"]))
    aliases = assign_aliases(SECRET, "c1", people)
    seen = leaderboard(
        ranked,
        viewer=viewer,
        staff=False,
        names="alias",
        aliases=aliases,
        real_names=real,
        opted_in=set(people),  # opting in means nothing when the course says "alias"
        limit=100,
    ).as_json("quiz")
    shown = [e["name"] for e in seen["top"] + seen["near_me"]]
    assert set(shown) <= set(aliases.values())
    assert all(e["alias"] for e in seen["top"])
    assert not set(shown) & (set(real.values()) - set(aliases.values()))
    assert seen["me"] is None or seen["me"]["name"] == aliases[viewer]


def test_opt_in_shows_real_names_only_for_those_who_chose_it() -> None:
    seen = board("learner0", names="opt_in", opted_in={"learner1", "learner2"}, limit=100)
    by_name = {e.name: e for e in seen.top}
    assert {n for n, e in by_name.items() if not e.alias} == {REAL["learner1"], REAL["learner2"]}
    assert ALIASES["learner0"] in by_name and by_name[ALIASES["learner0"]].alias


@pytest.mark.parametrize("viewer", PEOPLE)
def test_the_viewer_is_flagged_once_and_sits_in_near_me(viewer: str) -> None:
    seen = board(viewer, limit=3, radius=1)
    assert seen.me is not None and seen.me.me and seen.me.name == ALIASES[viewer]
    assert seen.me in seen.near_me
    assert sum(e.me for e in seen.near_me) == 1
    assert seen.total == len(PEOPLE) and len(seen.top) == 3


def test_shared_ranks_are_listed_by_the_shown_name_not_the_hidden_one() -> None:
    ranked = rank([Standing("zed", 5), Standing("amy", 5)])
    aliases = {"zed": "Agile Otter", "amy": "Brave Lynx"}
    seen = leaderboard(ranked, viewer="x", staff=False, names="alias", aliases=aliases)
    assert [e.name for e in seen.top] == ["Agile Otter", "Brave Lynx"]


def test_shared_ranks_keep_their_tie_break_order_first() -> None:
    """E.g. who reached the score first is listed first, though the rank is shared."""
    ranked = rank([Standing("zed", 5, 200.0), Standing("amy", 5, 100.0), Standing("bo", 5)])
    aliases = {"zed": "Agile Otter", "amy": "Brave Lynx", "bo": "Calm Crane"}
    seen = leaderboard(ranked, viewer="x", staff=False, names="alias", aliases=aliases)
    assert [(e.rank, e.name) for e in seen.top] == [
        (1, "Brave Lynx"),
        (1, "Agile Otter"),
        (1, "Calm Crane"),
    ]


def test_a_missing_alias_shows_anonymous_never_the_name() -> None:
    ranked = rank([Standing("alice", 5)])
    seen = leaderboard(ranked, viewer="bob", staff=False, names="alias", aliases={})
    assert seen.top[0].name == ANONYMOUS


def test_the_json_shape_matches_the_api_contract() -> None:
    data = board("learner4", limit=2).as_json("cohort")
    assert set(data) == {"scope", "top", "near_me", "me", "total", "names"}
    assert data["scope"] == "cohort" and data["names"] == "alias"
    assert set(data["me"]) == {"rank", "name", "score", "me", "alias"}


def test_an_unknown_names_setting_is_refused() -> None:
    with pytest.raises(ValueError, match="names must be one of"):
        board("learner1", names="secret")


# --- aliases -----------------------------------------------------------------------------

ALIAS_FORM = re.compile(r"([A-Z][a-z]+) ([A-Z][a-z]+)( [2-9]\d*)?")


@given(st.text(min_size=1, max_size=30), st.text(min_size=1, max_size=30))
def test_an_alias_is_two_friendly_words_fixed_per_course_and_user(course: str, user: str) -> None:
    alias = base_alias(SECRET, course, user)
    match = ALIAS_FORM.fullmatch(alias)
    assert match and match[1] in ADJECTIVES and match[2] in ANIMALS
    assert base_alias(SECRET, course, user) == alias


def test_the_alias_depends_on_the_secret_and_the_course() -> None:
    people = [f"u{i}" for i in range(50)]
    first = [base_alias(SECRET, "c1", u) for u in people]
    assert first != [base_alias(b"other-secret-16b!", "c1", u) for u in people]
    assert first != [base_alias(SECRET, "c2", u) for u in people]


def test_a_short_secret_is_refused_and_a_new_one_is_long_enough() -> None:
    with pytest.raises(ValueError, match="at least 16"):
        base_alias(b"short", "c1", "alice")
    secret = new_alias_secret()
    assert re.fullmatch(r"[0-9a-f]{64}", secret) and secret != new_alias_secret()
    assert ALIAS_FORM.fullmatch(base_alias(secret, "c1", "alice"))


@given(st.lists(users, max_size=60, unique=True), st.integers(0, 2**32))
def test_aliases_are_unique_within_a_course(people: list[str], seed: int) -> None:
    secret = seed.to_bytes(16, "big")
    aliases = assign_aliases(secret, "c1", people)
    assert set(aliases) == set(people)
    assert len({a.casefold() for a in aliases.values()}) == len(people)
    assert all(ALIAS_FORM.fullmatch(a) for a in aliases.values())


def test_a_large_course_has_collisions_and_still_gets_unique_aliases() -> None:
    people = [f"learner-{i}" for i in range(2000)]
    aliases = assign_aliases(SECRET, "big", people)
    assert len(set(aliases.values())) == 2000
    moved = sum(aliases[u] != base_alias(SECRET, "big", u) for u in people)
    assert moved > 0  # birthday collisions in ~10,000 pairs, resolved


@given(st.lists(users, max_size=30, unique=True), st.lists(users, max_size=10))
def test_newcomers_never_change_an_earlier_persons_alias(
    people: list[str], newcomers: list[str]
) -> None:
    before = assign_aliases(SECRET, "c1", people)
    after = assign_aliases(SECRET, "c1", people + newcomers)
    assert {u: after[u] for u in people} == before
    assert assign_aliases(SECRET, "c1", people + newcomers) == after  # deterministic


def test_stored_aliases_are_kept() -> None:
    kept = assign_aliases(SECRET, "c1", ["a", "b"], existing={"a": "Jolly Yak"})
    assert kept["a"] == "Jolly Yak" and kept["b"] != "Jolly Yak"


def test_when_every_drawn_pair_is_taken_a_number_is_added() -> None:
    drawn = set()
    for _ in range(ALIAS_ATTEMPTS):
        drawn.add(assign_alias(SECRET, "c1", "alice", drawn))
    assert len(drawn) == ALIAS_ATTEMPTS
    base = base_alias(SECRET, "c1", "alice")
    assert assign_alias(SECRET, "c1", "alice", drawn) == f"{base} 2"
    taken = {d.upper() for d in drawn} | {f"{base} 2"}  # taken is compared in any case
    assert assign_alias(SECRET, "c1", "alice", taken) == f"{base} 3"
