"""Leaderboards: ranks with ties, the top and "near me" windows, and the names people see.

Everything here is pure (no database, no clock), so the service can call it inside the
transaction that read the scores and tests can check it with hypothesis.

- :func:`rank` gives standard competition ranks (1, 2, 2, 4): equal scores share a rank and
  the next rank skips, so a rank always says "how many did better, plus one". An optional
  tie-break (lower is better: seconds taken, the time a score was reached) separates equal
  scores when the caller asks for it.
- :func:`leaderboard` turns ranks into what one viewer may see. The course chooses
  ``names``: ``real``, ``alias`` (everyone anonymous) or ``opt_in`` (real names only for
  those who said yes). Staff always see real names, because they grade and moderate.
- :func:`assign_aliases` makes the anonymous names ("Curious Otter"). They come from an
  HMAC-SHA256 keyed with a per-course secret the service keeps, so nobody without the
  secret can check a guessed user name against an alias (a plain hash of the name could be
  reversed by hashing the class list), and the same person gets unrelated aliases in
  different courses, so aliases cannot be linked across courses.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Names = Literal["real", "alias", "opt_in"]
NAMES: tuple[str, ...] = ("real", "alias", "opt_in")
ANONYMOUS = "Anonymous"  # shown only if the caller forgot someone's alias: never a real name
MIN_SECRET_BYTES = 16
ALIAS_ATTEMPTS = 8  # fresh word pairs tried before falling back to a numeric suffix


@dataclass(frozen=True)
class Standing:
    """One person's score before ranking.

    ``tiebreak`` is lower-is-better (e.g. total seconds taken, or when the score was
    reached as a POSIX time); ``None`` ranks after any value when ties are broken.
    """

    user: str
    score: float
    tiebreak: float | None = None


@dataclass(frozen=True)
class Ranked:
    rank: int
    user: str
    score: float
    tiebreak: float | None = None


def _tiebreak_key(value: float | None) -> tuple[int, float]:
    return (1, 0.0) if value is None else (0, value)


def rank(standings: Iterable[Standing], *, tiebreak: bool = False) -> list[Ranked]:
    """Standard competition ranking (1, 2, 2, 4), best first.

    Equal scores share a rank unless ``tiebreak`` is set, in which case equal scores with
    different tie-break values get different ranks (and equal values still share). Entries
    that share a rank are ordered by tie-break value, then user name, so the result does not
    depend on the input order (the display re-orders shared ranks by the name shown, see
    :func:`leaderboard`).
    """
    entries = list(standings)
    users = [s.user for s in entries]
    if len(set(users)) != len(users):
        raise ValueError("each person may appear once in a ranking")
    for s in entries:
        if math.isnan(s.score) or (s.tiebreak is not None and math.isnan(s.tiebreak)):
            raise ValueError(f"score and tie-break must be numbers, not NaN ({s.user!r})")
    entries.sort(key=lambda s: (-s.score, _tiebreak_key(s.tiebreak), s.user))

    def level(s: Standing) -> tuple[float, tuple[int, float] | None]:
        return (s.score, _tiebreak_key(s.tiebreak) if tiebreak else None)

    out: list[Ranked] = []
    for position, s in enumerate(entries):
        same = position > 0 and level(entries[position - 1]) == level(s)
        current = out[-1].rank if same else position + 1
        out.append(Ranked(current, s.user, s.score, s.tiebreak))
    return out


def _window(length: int, index: int, radius: int) -> range:
    return range(max(0, index - radius), min(length, index + radius + 1))


def top(ranked: Sequence[Ranked], n: int) -> list[Ranked]:
    """The first ``n`` rows (rows, not ranks: a tie at the edge is cut, the ranks show it)."""
    return list(ranked[: max(0, n)])


def near_me(ranked: Sequence[Ranked], user: str, radius: int = 2) -> list[Ranked]:
    """``user`` and up to ``radius`` rows either side, clipped at the ends; [] if unranked."""
    for index, entry in enumerate(ranked):
        if entry.user == user:
            return [ranked[i] for i in _window(len(ranked), index, max(0, radius))]
    return []


# --- what a viewer sees ----------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One leaderboard row as sent to a viewer (docs/quizzes.md ``Entry``).

    ``alias`` says the name is an alias (useful under ``opt_in``, where both kinds mix).
    ``me`` marks the viewer's own row; its name is the one others see, so a learner learns
    their alias, and the client labels the row "You".
    """

    rank: int
    name: str
    score: float
    me: bool
    alias: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "name": self.name,
            "score": self.score,
            "me": self.me,
            "alias": self.alias,
        }


@dataclass(frozen=True)
class Leaderboard:
    top: tuple[Entry, ...]
    near_me: tuple[Entry, ...]
    me: Entry | None
    total: int
    names: Names  # what this viewer is shown: always "real" for staff

    def as_json(self, scope: str) -> dict[str, Any]:
        """The ``Leaderboard`` shape of docs/quizzes.md, for ``scope`` quiz/cohort/course/live."""
        return {
            "scope": scope,
            "top": [e.as_json() for e in self.top],
            "near_me": [e.as_json() for e in self.near_me],
            "me": self.me.as_json() if self.me else None,
            "total": self.total,
            "names": self.names,
        }


def shown_name(
    user: str,
    *,
    staff: bool,
    names: Names,
    aliases: Mapping[str, str],
    real_names: Mapping[str, str] | None = None,
    opted_in: Collection[str] = (),
) -> tuple[str, bool]:
    """The name a viewer sees for ``user`` and whether it is an alias.

    A missing alias shows as "Anonymous" rather than failing or falling back to the real
    name: a leaderboard must never leak a name because an alias was not assigned yet.
    """
    if names not in NAMES:
        raise ValueError(f"names must be one of {', '.join(NAMES)}, got {names!r}")
    if staff or names == "real" or (names == "opt_in" and user in opted_in):
        return (real_names or {}).get(user, user), False
    return aliases.get(user, ANONYMOUS), True


def leaderboard(
    ranked: Sequence[Ranked],
    *,
    viewer: str,
    staff: bool,
    names: Names,
    aliases: Mapping[str, str],
    real_names: Mapping[str, str] | None = None,
    opted_in: Collection[str] = (),
    limit: int = 10,
    radius: int = 2,
) -> Leaderboard:
    """What ``viewer`` sees: the top ``limit`` rows and their own neighbourhood.

    Rows that share a rank keep their tie-break order (e.g. who reached the score first),
    then go by the name displayed, never by the hidden user names (whose order could hint
    at who is behind an alias).
    """
    rows: list[tuple[tuple[Any, ...], Entry]] = []
    for r in ranked:
        name, is_alias = shown_name(
            r.user,
            staff=staff,
            names=names,
            aliases=aliases,
            real_names=real_names,
            opted_in=opted_in,
        )
        order = (r.rank, _tiebreak_key(r.tiebreak), name.casefold(), name, r.user)
        rows.append((order, Entry(r.rank, name, r.score, r.user == viewer, is_alias)))
    rows.sort(key=lambda row: row[0])
    entries = [entry for _, entry in rows]
    mine = next((i for i, e in enumerate(entries) if e.me), None)
    return Leaderboard(
        top=tuple(entries[: max(0, limit)]),
        near_me=(
            ()
            if mine is None
            else tuple(entries[i] for i in _window(len(entries), mine, max(0, radius)))
        ),
        me=None if mine is None else entries[mine],
        total=len(entries),
        names="real" if staff else names,
    )


# --- teams: groups ranked by their members' mean ------------------------------------


@dataclass(frozen=True)
class TeamScore:
    rank: int
    team: str
    score: float  # mean total of the members who joined
    members: int  # members who joined


def team_scores(
    totals: Mapping[str, float],
    team_of: Mapping[str, str],
    answer_time: Mapping[str, float] | None = None,
) -> list[TeamScore]:
    """Rank teams (cohorts, or teams inside a cohort) by their members' mean total.

    ``totals`` holds every person who joined the session (0 for no points); ``team_of``
    maps people to team names. Only members who joined count, so a big team neither wins
    by numbers nor loses by absentees, and a team with nobody present is not listed.
    People without a team are left out. With ``answer_time`` (tie-break mode), equal means
    go to the team whose members were faster on average.
    """
    members: dict[str, list[str]] = {}
    for user in totals:
        team = team_of.get(user)
        if team is not None:
            members.setdefault(team, []).append(user)

    def mean(values: list[float]) -> float:
        # fsum and rounding keep equal means equal, whatever order members are listed in.
        return round(math.fsum(values) / len(values), 6)

    ranked = rank(
        (
            Standing(
                team,
                mean([totals[u] for u in people]),
                None if answer_time is None else mean([answer_time.get(u, 0.0) for u in people]),
            )
            for team, people in members.items()
        ),
        tiebreak=answer_time is not None,
    )
    return [TeamScore(r.rank, r.user, r.score, len(members[r.user])) for r in ranked]


# --- anonymous aliases -----------------------------------------------------------------

# Friendly and never unkind: no adjective here could read as a judgement of the person.
_ADJECTIVE_WORDS = """
    Agile Amber Ample Aqua Artful Azure Balmy Bold Bouncy Brave Breezy Bright Brisk Bubbly
    Calm Candid Cheerful Chipper Civil Clever Cosmic Cozy Crafty Crisp Curious Daring Dapper
    Dazzling Deft Eager Earnest Elegant Electric Epic Fearless Festive Fluent Fond Frank Gentle
    Gleaming Glowing Golden Graceful Grand Happy Hardy Hearty Helpful Honest Hopeful Jade
    Jolly Jovial Keen Kind Lively Loyal Lucky Lunar Merry Mighty Mindful Modest Nimble Noble
    Patient Plucky Polar Polite Proud Quick Humble Radiant Rapid Ready Roving Rustic Sage
    Scarlet Serene Sharp Shiny Silver Sincere Snappy Solar Sparkling Spry Steady Sturdy
    Sunny Swift Tidy Tranquil Trusty Upbeat Valiant Vivid Warm Wise Witty Zesty
"""
_ANIMAL_WORDS = """
    Albatross Alpaca Antelope Armadillo Badger Beaver Bison Bobcat Buffalo Camel Capybara
    Caribou Cheetah Chinchilla Cormorant Coyote Crane Dingo Dolphin Dormouse Dove Eagle Egret
    Elk Falcon Ferret Finch Flamingo Fox Gazelle Gecko Gibbon Giraffe Gopher Grouse Hare Hawk
    Hedgehog Heron Ibex Ibis Iguana Jackal Jaguar Kestrel Kingfisher Koala Kudu Lemur Leopard
    Llama Lobster Lynx Macaw Magpie Manatee Marmot Meerkat Mink Moose Narwhal Newt Ocelot
    Octopus Okapi Orca Oriole Osprey Otter Owl Panda Panther Pelican Penguin Puffin Quail
    Quokka Rabbit Raccoon Raven Reindeer Robin Salamander Seahorse Seal Sparrow Squirrel
    Starling Stork Swan Tapir Tiger Toucan Turtle Walrus Warbler Weasel Wombat Wren Yak Zebra
"""
ADJECTIVES: tuple[str, ...] = tuple(_ADJECTIVE_WORDS.split())
ANIMALS: tuple[str, ...] = tuple(_ANIMAL_WORDS.split())


Secret = bytes | str


def new_alias_secret() -> str:
    """A fresh per-course alias secret (64 hex digits); keep it with the course's settings,
    readable by the service only. Changing it changes every alias in the course."""
    return secrets.token_hex(32)


def _digest(secret: Secret, course: str, user: str, attempt: int) -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    if not isinstance(key, bytes) or len(key) < MIN_SECRET_BYTES:
        raise ValueError(f"the alias secret must be at least {MIN_SECRET_BYTES} random bytes")
    # JSON keeps the fields apart: ("a b", "c") and ("a", "b c") never give the same message.
    message = json.dumps([course, user, attempt]).encode()
    return hmac.new(key, message, hashlib.sha256).digest()


def _pair(digest: bytes) -> str:
    adjective = int.from_bytes(digest[:8], "big") % len(ADJECTIVES)
    animal = int.from_bytes(digest[8:16], "big") % len(ANIMALS)
    return f"{ADJECTIVES[adjective]} {ANIMALS[animal]}"


def base_alias(secret: Secret, course: str, user: str) -> str:
    """The alias ``user`` gets in ``course`` when nobody else holds it already."""
    return _pair(_digest(secret, course, user, 0))


def assign_alias(secret: Secret, course: str, user: str, taken: Collection[str]) -> str:
    """An alias for ``user`` that is not in ``taken`` (the course's aliases, any case).

    Tries :data:`ALIAS_ATTEMPTS` word pairs drawn from the keyed hash, then the first pair
    with the smallest free number ("Curious Otter 2"). The result depends only on the
    secret, course, user and ``taken``, so a retried transaction picks the same alias.
    """
    used = {t.casefold() for t in taken}
    for attempt in range(ALIAS_ATTEMPTS):
        candidate = _pair(_digest(secret, course, user, attempt))
        if candidate.casefold() not in used:
            return candidate
    base = base_alias(secret, course, user)
    number = 2
    while f"{base} {number}".casefold() in used:
        number += 1
    return f"{base} {number}"


def assign_aliases(
    secret: Secret,
    course: str,
    users: Iterable[str],
    existing: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Unique aliases for ``users`` (in priority order), keeping those in ``existing``.

    Pass people in a stable order, e.g. by the service's user id (first seen first): then
    someone arriving later never changes an earlier person's alias, even without storing
    aliases, because a newcomer only takes what is left. Given the same order the result is
    always the same. Storing aliases and passing them as ``existing`` makes them permanent
    whatever the order.
    """
    result = dict(existing or {})
    taken = set(result.values())
    for user in users:
        if user not in result:
            alias = assign_alias(secret, course, user, taken)
            result[user] = alias
            taken.add(alias)
    return result
