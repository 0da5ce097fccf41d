"""``cohortlab cohort ...``: an instructor's cohort management from a terminal.

Run where the instructor works (a terminal in their JupyterLab has ``JUPYTERHUB_API_TOKEN``
and ``COHORTLAB_SERVICE_URL``). Every command calls the service's cohort API as the person
whose hub token it holds (:class:`cohortlab.client.ServiceClient`); the service decides
what they may do, so this module holds no rules of its own.

    cohortlab cohort list [NAME] [--json]
    cohortlab cohort create NAME [USER ...]
    cohortlab cohort add NAME USER [USER ...]
    cohortlab cohort remove NAME USER [USER ...]
    cohortlab cohort archive NAME [--no-snapshot]
    cohortlab cohort snapshots NAME [SNAPSHOT_ID]
    cohortlab cohort sync NAME
    cohortlab cohort team list|create|delete|add|remove COHORT ...
    cohortlab cohort push-template NOTEBOOK [--name N] [--on-conflict rename|refuse]

``--course`` (default ``$COHORTLAB_COURSE``) names the course. Mistakes end in one line on
stderr and exit 1; what was done before a mistake is printed on stdout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from traitlets import Bool, Enum, Unicode

from ._version import __version__
from .appbase import CommandGroup
from .client import ServiceClient, ServiceError
from .commands import CommandError, ServiceCommand, service_path


class CohortCommandError(CommandError):
    """A mistake in a ``cohortlab cohort`` command; the message says how to fix it."""


class CohortCommand(ServiceCommand):
    """What every ``cohortlab cohort`` command shares: course, service, one-line errors."""

    #: (fewest, most) positional arguments, and what they are, for the usage message.
    arguments: tuple[int, int | None, str] = (1, 1, "NAME")

    @property
    def command(self) -> str:
        """The words after ``cohortlab cohort`` (``team add`` for ``cohortlab-cohort-team-add``)."""
        return self.name.removeprefix("cohortlab-cohort-").replace("-", " ")

    def check_arguments(self) -> None:
        fewest, most, usage = self.arguments
        count = len(self.extra_args)
        if count < fewest or (most is not None and count > most):
            raise CohortCommandError(
                f"usage: cohortlab cohort {self.command} {usage} "
                f"(got {count} argument(s)); see --help."
            )

    def path(self, *parts: str) -> str:
        """The service path under the course's cohorts."""
        return service_path("courses", self.course_id(), "cohorts", *parts)


def _names(names: list[str]) -> str:
    return ", ".join(names) if names else "none"


def describe(cohort: dict[str, Any]) -> str:
    """A cohort as a few aligned lines for a person."""
    state = " (archived)" if cohort.get("archived") else ""
    lines = [
        f"cohort {cohort['name']} of {cohort['course']}{state}",
        f"  group      {cohort['group']}",
        f"  workspace  {cohort['workspace_url']} (account {cohort['account']})",
        f"  members    {_names(cohort['members'])}",
        f"  staff      {_names(cohort['staff'])}",
    ]
    if "access" in cohort:
        lines.append(f"  access     {_names(cohort['access'])}")
    return "\n".join(lines)


class ListCohortsApp(CohortCommand):
    name = "cohortlab-cohort-list"
    description = "List the course's cohorts, or show one with its members and access."
    arguments = (0, 1, "[NAME]")
    as_json = Bool(False, help="Print the service's JSON instead of text.").tag(config=True)
    flags = {"json": ({"ListCohortsApp": {"as_json": True}}, "Print JSON.")}

    def run(self) -> None:
        client = self.client()
        if self.extra_args:
            cohort = client.get(self.path(self.extra_args[0]))["cohort"]
            print(json.dumps(cohort, indent=1) if self.as_json else describe(cohort))
            return
        cohorts = client.get(self.path())["cohorts"]
        if self.as_json:
            print(json.dumps(cohorts, indent=1))
            return
        if not cohorts:
            print(f"{self.course_id()} has no cohorts you can see.")
        for c in cohorts:
            state = "  archived" if c["archived"] else ""
            print(f"{c['name']}\t{len(c['members'])} member(s)\t{c['workspace_url']}{state}")


class CreateCohortApp(CohortCommand):
    name = "cohortlab-cohort-create"
    description = "Create a cohort (its hub group and workspace account), optionally with members."
    arguments = (1, None, "NAME [USER ...]")

    def run(self) -> None:
        name, *members = self.extra_args
        cohort = self.client().post(self.path(), {"name": name, "members": members})["cohort"]
        print(
            f"created cohort {cohort['name']} in {cohort['course']}: workspace "
            f"{cohort['workspace_url']}, members {_names(cohort['members'])}"
        )


class AddMembersApp(CohortCommand):
    name = "cohortlab-cohort-add"
    description = "Add learners or mentors of the course to a cohort (they get its workspace)."
    arguments = (2, None, "NAME USER [USER ...]")

    def run(self) -> None:
        name, *users = self.extra_args
        client = self.client()
        for user in users:
            added = client.put(self.path(name, "members", user))["added"]
            print(f"added {user} to {name}" if added else f"{user} was already in {name}")


class RemoveMembersApp(CohortCommand):
    name = "cohortlab-cohort-remove"
    description = "Remove members from a cohort; their workspace access is revoked first."
    arguments = (2, None, "NAME USER [USER ...]")

    def run(self) -> None:
        name, *users = self.extra_args
        client = self.client()
        for user in users:
            client.request("DELETE", self.path(name, "members", user))
            print(
                f"removed {user} from {name}; new workspace requests from them are refused "
                "within the workspace's auth cache period (30 s by default)"
            )


class ArchiveCohortApp(CohortCommand):
    name = "cohortlab-cohort-archive"
    description = (
        "Archive a cohort: nobody keeps access, a snapshot of its workspace's files is kept "
        "(read-only, for its members and staff), its server stops, nothing is deleted."
    )
    snapshot = Bool(True, help="Keep a snapshot of the workspace's files.").tag(config=True)
    flags = {
        "no-snapshot": (
            {"ArchiveCohortApp": {"snapshot": False}},
            "Archive without a snapshot (when one cannot be taken).",
        )
    }

    def run(self) -> None:
        name = self.extra_args[0]
        client = ServiceClient(url=self.service_url or None, timeout=PUSH_TIMEOUT)
        body = None if self.snapshot else {"snapshot": False}
        result = client.post(self.path(name, "archive"), body)
        server = "stopped" if result.get("server_stopped") else "still stopping"
        print(f"archived {name}: nobody has access to its workspace; the server is {server}")
        snap = result.get("snapshot")
        if snap:
            made = "kept" if result.get("snapshot_created") else "already kept"
            print(
                f"snapshot {snap['id']} {made}: {snap['file_count']} file(s), "
                f"{snap['total_bytes']} bytes; see `cohortlab cohort snapshots {name}`"
            )
            for skipped in snap.get("skipped") or []:
                print(f"  left out {skipped['path']}: {skipped['reason']}")


class SnapshotsApp(CohortCommand):
    name = "cohortlab-cohort-snapshots"
    description = "List an archived cohort's snapshots, or the files of one."
    arguments = (1, 2, "NAME [SNAPSHOT_ID]")
    as_json = Bool(False, help="Print the service's JSON instead of text.").tag(config=True)
    flags = {"json": ({"SnapshotsApp": {"as_json": True}}, "Print JSON.")}

    def run(self) -> None:
        name, *which = self.extra_args
        client = self.client()
        if which:
            snap = client.get(self.path(name, "snapshots", which[0]))["snapshot"]
            if self.as_json:
                print(json.dumps(snap, indent=1))
                return
            # Where a person's browser opens the read-only view (through the hub's proxy).
            base = "/services/cohortlab/api/v1/" + self.path(name, "snapshots", str(snap["id"]))
            print(f"snapshot {snap['id']} of {name}, taken {snap['taken_at']}")
            for f in snap["files"]:
                viewable = f["format"] in ("json", "text")
                where = f"\t{base}/view/{service_path(*f['path'].split('/'))}" if viewable else ""
                print(f"{f['path']}\t{f['size']} bytes{where}")
            return
        snaps = client.get(self.path(name, "snapshots"))["snapshots"]
        if self.as_json:
            print(json.dumps(snaps, indent=1))
            return
        if not snaps:
            print(f"cohort {name} has no snapshots")
        for snap in snaps:
            print(
                f"{snap['id']}\t{snap['taken_at']}\t{snap['file_count']} file(s)\t"
                f"by {snap['taken_by'] or '?'}"
            )


class ActivityApp(CohortCommand):
    name = "cohortlab-cohort-activity"
    description = "Who contributed what in a cohort's workspace: edits and runs per member."
    as_json = Bool(False, help="Print the service's JSON instead of text.").tag(config=True)
    flags = {"json": ({"ActivityApp": {"as_json": True}}, "Print JSON.")}

    def run(self) -> None:
        (name,) = self.extra_args
        data = self.client().get(self.path(name, "activity"))
        if self.as_json:
            print(json.dumps(data, indent=1))
            return
        members = data["members"]
        print(f"cohort {name}: edits and runs in its workspace, most active first")
        for m in members:
            last = m["last_at"] or "never"
            print(f"{m['name']}\t{m['edits']} edit(s)\t{m['runs']} run(s)\tlast {last}")
            for notebook, counts in sorted(m["notebooks"].items()):
                print(f"  {notebook}\t{counts['edits']} edit(s)\t{counts['runs']} run(s)")
        if not members:
            print("  no members yet")


class SyncCohortApp(CohortCommand):
    name = "cohortlab-cohort-sync"
    description = "Make workspace access match the cohort's hub group again (idempotent)."

    def run(self) -> None:
        name = self.extra_args[0]
        result = self.client().post(self.path(name, "sync"))
        if not (result["granted"] or result["revoked"] or result["created_account"]):
            print(f"{name}: workspace access already matches its members")
            return
        if result["created_account"]:
            print(f"{name}: created workspace account {result['cohort']['account']}")
        print(f"{name}: granted {_names(result['granted'])}; revoked {_names(result['revoked'])}")


# --- templates --------------------------------------------------------------------------

#: Seconds one cohort's push may take: a cold workspace start (up to 25 s) and the writes.
PUSH_TIMEOUT = 90.0


class PushTemplateApp(CohortCommand):
    name = "cohortlab-cohort-push-template"
    description = (
        "Write a notebook into the shared workspace of every active cohort of the course, "
        "never over existing work: a new name (`name (2).ipynb`) by default, or with "
        "--on-conflict refuse the cohorts that already have one are reported."
    )
    arguments = (1, 1, "NOTEBOOK.ipynb")
    file_name = Unicode("", help="Name in the workspaces (default: the notebook's file name).").tag(
        config=True
    )
    on_conflict = Enum(
        ["rename", "refuse"], "rename", help="When a workspace has a file of that name."
    ).tag(config=True)
    aliases = {
        **CohortCommand.aliases,
        "name": "PushTemplateApp.file_name",
        "on-conflict": "PushTemplateApp.on_conflict",
    }

    @property
    def command(self) -> str:
        return "push-template"

    def run(self) -> None:
        source = Path(self.extra_args[0])
        try:
            notebook = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise CohortCommandError(f"cannot read {source} as a notebook: {e}") from None
        name = self.file_name or source.name
        client = ServiceClient(url=self.service_url or None, timeout=PUSH_TIMEOUT)
        cohorts = [c["name"] for c in client.get(self.path())["cohorts"] if not c["archived"]]
        if not cohorts:
            raise CohortCommandError(f"{self.course_id()} has no active cohorts to push to.")
        path = service_path("courses", self.course_id(), "cohort-templates")
        body = {"name": name, "notebook": notebook, "on_conflict": self.on_conflict}
        counts: dict[str, int] = {}
        for i, cohort in enumerate(cohorts, 1):
            print(f"[{i}/{len(cohorts)}] {cohort}: ", end="", flush=True)
            try:
                result = client.post(path, {**body, "cohorts": [cohort]})["results"][0]
            except ServiceError as e:
                if e.status in (400, 401, 403, 404, 413):  # the same for every cohort: stop
                    print("not pushed")
                    raise
                result = {"status": "failed", "message": e.message}
            counts[result["status"]] = counts.get(result["status"], 0) + 1
            print(f"{result['status']}: {result['message']}", flush=True)
        summary = ", ".join(f"{n} {status}" for status, n in counts.items())
        print(f"{name} into {len(cohorts)} cohort(s) of {self.course_id()}: {summary}")
        if counts.get("failed") or counts.get("refused"):
            print(
                "cohortlab: some cohorts did not get the template (see above); pushing again "
                "skips those that have it",
                file=sys.stderr,
            )
            self.exit(1)


# --- teams ------------------------------------------------------------------------------


def describe_team(team: dict[str, Any]) -> str:
    return f"{team['name']}\t{_names(team['members'])}"


class ListTeamsApp(CohortCommand):
    name = "cohortlab-cohort-team-list"
    description = "List a cohort's teams and their members."
    arguments = (1, 1, "COHORT")

    def run(self) -> None:
        cohort = self.extra_args[0]
        teams = self.client().get(self.path(cohort, "teams"))["teams"]
        if not teams:
            print(f"cohort {cohort} has no teams")
        for team in teams:
            print(describe_team(team))


class CreateTeamApp(CohortCommand):
    name = "cohortlab-cohort-team-create"
    description = "Make a team inside a cohort, optionally with members of the cohort."
    arguments = (2, None, "COHORT TEAM [USER ...]")

    def run(self) -> None:
        cohort, team, *members = self.extra_args
        made = self.client().post(self.path(cohort, "teams"), {"name": team, "members": members})
        print(f"created team {team} in cohort {cohort}: members {_names(made['team']['members'])}")


class DeleteTeamApp(CohortCommand):
    name = "cohortlab-cohort-team-delete"
    description = "Delete a team; its members stay in the cohort."
    arguments = (2, 2, "COHORT TEAM")

    def run(self) -> None:
        cohort, team = self.extra_args
        self.client().request("DELETE", self.path(cohort, "teams", team))
        print(f"deleted team {team} of cohort {cohort}; its members stay in the cohort")


class AddTeamMembersApp(CohortCommand):
    name = "cohortlab-cohort-team-add"
    description = "Add members of the cohort to one of its teams."
    arguments = (3, None, "COHORT TEAM USER [USER ...]")

    def run(self) -> None:
        cohort, team, *users = self.extra_args
        client = self.client()
        for user in users:
            changed = client.put(self.path(cohort, "teams", team, "members", user))["changed"]
            print(f"added {user} to team {team}" if changed else f"{user} was already in {team}")


class RemoveTeamMembersApp(CohortCommand):
    name = "cohortlab-cohort-team-remove"
    description = "Take people out of a team (they stay in the cohort)."
    arguments = (3, None, "COHORT TEAM USER [USER ...]")

    def run(self) -> None:
        cohort, team, *users = self.extra_args
        client = self.client()
        for user in users:
            client.request("DELETE", self.path(cohort, "teams", team, "members", user))
            print(f"removed {user} from team {team}")


class TeamApp(CommandGroup):
    name = "cohortlab-cohort-team"
    version = __version__
    description = "Teams: optional sub-groups inside a cohort (instructors change them)."
    subcommands = {
        "list": (ListTeamsApp, "List a cohort's teams."),
        "create": (CreateTeamApp, "Make a team in a cohort."),
        "delete": (DeleteTeamApp, "Delete a team."),
        "add": (AddTeamMembersApp, "Add cohort members to a team."),
        "remove": (RemoveTeamMembersApp, "Take people out of a team."),
    }


class CohortApp(CommandGroup):
    name = "cohortlab-cohort"
    version = __version__
    description = "Create cohorts, change their members, archive them (instructors)."
    subcommands = {
        "list": (ListCohortsApp, "List cohorts, or show one."),
        "create": (CreateCohortApp, "Create a cohort with its workspace."),
        "add": (AddMembersApp, "Add members to a cohort."),
        "remove": (RemoveMembersApp, "Remove members from a cohort."),
        "archive": (ArchiveCohortApp, "Archive a cohort."),
        "sync": (SyncCohortApp, "Repair a cohort's workspace access."),
        "team": (TeamApp, "Teams inside a cohort."),
        "push-template": (PushTemplateApp, "Put a notebook into every cohort's workspace."),
        "snapshots": (SnapshotsApp, "Read an archived cohort's snapshots."),
        "activity": (ActivityApp, "Who contributed what in a cohort's workspace."),
    }
