"""Teams: optional sub-groups inside a cohort, kept on the hub like cohorts themselves.

A team is a hub group ``team-<course>-<cohort>-<team>`` with the properties
``{"cohortlab": {"kind": "team", "course", "cohort", "team"}}``: the shape live quizzes
already read for team totals (``service/handlers/live.py``), so a team made here counts
there at once. The name starts ``team-`` and never ``cohort-``, so no reader of cohorts
(``courses.parse_cohort``) can mistake a team for a cohort named ``<cohort>-<team>``.

Rules (each an :class:`~cohortlab.errors.APIError` a person can act on):

- a team member must be a member of the cohort (422 ``not_a_cohort_member``; a name the
  hub does not know is 404 ``unknown_user``); removing
  someone from the cohort takes them out of its teams too (:func:`drop_from_teams`);
- names are slugs like cohort names (400 ``invalid_name``); a team name in use in the cohort
  is 409 ``team_exists``; a hub group of that name that is not this team is 409
  ``team_name_taken`` and is never taken over;
- an archived cohort's teams stay (nothing is deleted) but do not change (409
  ``cohort_archived``).

Teams grant no access of their own: the cohort's workspace shares follow the cohort.
Changes run under the cohort's lock (``HubClient.lock``), like member changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import APIError
from .hub import HubCallError, HubClient, _undo, hub_refused, load_cohort, q, require_user
from .manage import (
    CohortState,
    check_cohort_name,
    named_group_body,
    require_active,
)

TEAM_PREFIX = "team-"


def team_group(course: str, cohort: str, team: str) -> str:
    return f"{TEAM_PREFIX}{course}-{cohort}-{team}"


def team_properties(course: str, cohort: str, team: str) -> dict[str, Any]:
    return {"cohortlab": {"kind": "team", "course": course, "cohort": cohort, "team": team}}


def check_team_name(name: Any) -> str:
    """Team names follow the cohort name rule (a slug of 1-32 characters)."""
    try:
        return check_cohort_name(name)
    except APIError:
        raise APIError(
            400,
            "invalid_name",
            f"{name!r} is not a valid team name: use 1-32 lowercase letters, digits and "
            "hyphens, starting and ending with a letter or digit (e.g. 'a' or 'team-2').",
        ) from None


@dataclass(frozen=True)
class TeamState:
    course: str
    cohort: str
    name: str
    group: str
    members: tuple[str, ...]

    @classmethod
    def from_group(cls, model: Mapping[str, Any]) -> TeamState | None:
        """A hub group model as a team; ``None`` unless its properties say it is one and
        its name matches them (the same test live quizzes and this module apply)."""
        props = model.get("properties") or {}
        meta = props.get("cohortlab") if isinstance(props, Mapping) else None
        if not isinstance(meta, Mapping) or meta.get("kind") != "team":
            return None
        course, cohort, team = meta.get("course"), meta.get("cohort"), meta.get("team")
        if not all(isinstance(v, str) and v for v in (course, cohort, team)):
            return None
        if model.get("name") != team_group(course, cohort, team):  # type: ignore[arg-type]
            return None
        members = tuple(sorted(model.get("users") or ()))
        return cls(course, cohort, team, model["name"], members)  # type: ignore[arg-type]

    def to_json(self) -> dict[str, Any]:
        return {
            "course": self.course,
            "cohort": self.cohort,
            "name": self.name,
            "group": self.group,
            "members": list(self.members),
        }


@dataclass(frozen=True)
class NewTeam:
    name: str
    members: tuple[str, ...]


def new_team(data: Mapping[str, Any]) -> NewTeam:
    return NewTeam(*named_group_body(data, "team", check_team_name))


def check_team_members(cohort: CohortState, users: Iterable[str]) -> None:
    """Every user is a member of the cohort (teams are sub-groups of it)."""
    outside = [u for u in users if u not in cohort.members]
    if outside:
        raise APIError(
            422,
            "not_a_cohort_member",
            f"{', '.join(outside)} {'is' if len(outside) == 1 else 'are'} not in cohort "
            f"{cohort.name!r}; a team's members must be members of its cohort (add them to "
            "the cohort first).",
        )


async def require_team_members(hub: HubClient, cohort: CohortState, users: Iterable[str]) -> None:
    """:func:`check_team_members`, after a 404 for a name the hub does not know at all."""
    for user in users:
        if user not in cohort.members:
            await require_user(hub, user)
    check_team_members(cohort, users)


def unknown_team(cohort: CohortState, name: str) -> APIError:
    return APIError(404, "unknown_team", f"Cohort {cohort.name!r} has no team {name!r}.")


# --- hub calls ---------------------------------------------------------------------------


async def list_teams(hub: HubClient, cohort: CohortState) -> list[TeamState]:
    """The cohort's teams, by name (read from every hub group's properties)."""
    found = (TeamState.from_group(g) for g in await hub.paged("/groups"))
    return sorted(
        (t for t in found if t and (t.course, t.cohort) == (cohort.course, cohort.name)),
        key=lambda t: t.name,
    )


async def load_team(hub: HubClient, cohort: CohortState, name: str) -> TeamState:
    model = await hub.find(f"/groups/{q(team_group(cohort.course, cohort.name, name))}")
    team = TeamState.from_group(model) if model else None
    if team is None or (team.course, team.cohort, team.name) != (
        cohort.course,
        cohort.name,
        name,
    ):
        raise unknown_team(cohort, name)
    return team


async def create_team(hub: HubClient, course: str, cohort_name: str, new: NewTeam) -> TeamState:
    """Create the team's group with its members and properties; undone if a step fails."""
    cohort = await load_cohort(hub, course, cohort_name)
    async with hub.lock(cohort.group):
        cohort = await load_cohort(hub, course, cohort_name)
        require_active(cohort, "get new teams")
        await require_team_members(hub, cohort, new.members)
        group = team_group(course, cohort.name, new.name)
        try:
            await hub.call("POST", f"/groups/{q(group)}", {"users": list(new.members)})
        except HubCallError as e:
            if e.status == 409:
                raise await _existing(hub, cohort, new.name, group) from None
            raise hub_refused(e, f"create the group {group}") from None
        try:
            await hub.call(
                "PUT",
                f"/groups/{q(group)}/properties",
                team_properties(course, cohort.name, new.name),
            )
        except HubCallError as e:
            await _undo(hub, [("DELETE", f"/groups/{q(group)}")])
            raise hub_refused(e, f"mark {group} as a team") from None
        return TeamState(course, cohort.name, new.name, group, tuple(sorted(new.members)))


async def _existing(hub: HubClient, cohort: CohortState, name: str, group: str) -> APIError:
    model = await hub.find(f"/groups/{q(group)}")
    team = TeamState.from_group(model) if model else None
    if team and (team.course, team.cohort, team.name) == (cohort.course, cohort.name, name):
        return APIError(409, "team_exists", f"Cohort {cohort.name!r} already has a team {name!r}.")
    return APIError(
        409,
        "team_name_taken",
        f"JupyterHub already has a group {group} that is not team {name!r} of cohort "
        f"{cohort.name!r} (another cohort's team or someone else's group); pick another name.",
    )


async def delete_team(hub: HubClient, course: str, cohort_name: str, name: str) -> TeamState:
    """Delete the team's group: its members stay in the cohort."""
    cohort = await load_cohort(hub, course, cohort_name)
    async with hub.lock(cohort.group):
        cohort = await load_cohort(hub, course, cohort_name)
        require_active(cohort, "change its teams")
        team = await load_team(hub, cohort, name)
        try:
            await hub.call("DELETE", f"/groups/{q(team.group)}")
        except HubCallError as e:
            if e.status != 404:
                raise hub_refused(e, f"delete the group {team.group}") from None
        return team


async def change_team_member(
    hub: HubClient, course: str, cohort_name: str, name: str, user: str, *, add: bool
) -> tuple[TeamState, bool]:
    """Add or remove one member; (the team now, whether anything changed)."""
    cohort = await load_cohort(hub, course, cohort_name)
    async with hub.lock(cohort.group):
        cohort = await load_cohort(hub, course, cohort_name)
        require_active(cohort, "change its teams")
        team = await load_team(hub, cohort, name)
        if add:
            await require_team_members(hub, cohort, [user])
            if user in team.members:
                return team, False
            method, members = "POST", tuple(sorted({*team.members, user}))
        else:
            if user not in team.members:
                raise APIError(
                    404, "not_a_team_member", f"{user} is not in team {name!r} of {cohort.name!r}."
                )
            method, members = "DELETE", tuple(m for m in team.members if m != user)
        try:
            await hub.call(method, f"/groups/{q(team.group)}/users", {"users": [user]})
        except HubCallError as e:
            raise hub_refused(e, f"change the members of {team.group}") from None
        return TeamState(team.course, team.cohort, team.name, team.group, members), True


async def drop_from_teams(hub: HubClient, cohort: CohortState, user: str) -> list[str]:
    """Take ``user`` out of every team of ``cohort`` (they left the cohort); the team names.

    Called under the cohort's lock by ``hub.remove_member`` after the membership is gone.
    """
    left = []
    for team in await list_teams(hub, cohort):
        if user in team.members:
            try:
                await hub.call("DELETE", f"/groups/{q(team.group)}/users", {"users": [user]})
            except HubCallError as e:
                raise hub_refused(e, f"remove {user} from {team.group}") from None
            left.append(team.name)
    return left


__all__ = [
    "NewTeam",
    "TeamState",
    "change_team_member",
    "check_team_members",
    "create_team",
    "delete_team",
    "drop_from_teams",
    "list_teams",
    "load_team",
    "new_team",
    "team_group",
    "team_properties",
]
