"""``cohortlab review results|override|exclude``: read a peer review round's results and
adjust them from a terminal, as the lab's staff view does.

- ``results`` prints the staff results table: for each submission and criterion the final
  score, the peers' scores (excluded ones in brackets), their aggregate, nbgrader's autograde
  score and how far the peers disagreed; then each review (its id, for ``exclude``) and each
  reviewer's agreement with the others. ``--json`` prints the service's JSON as it is;
- ``override`` sets the instructor's score for one criterion of one submission (``--clear``
  gives it back to the peers);
- ``exclude`` leaves one review out of the scores and its author's feedback (``--include``
  counts it again).

They call the service's routes (``GET .../results``, ``PUT|DELETE .../overrides/<n>/<criterion>``,
``PUT|DELETE .../exclusions/<review>``) as the person running them; the service decides who
may (staff read, instructors change). Mistakes end in one line on stderr and exit 1.
"""

from __future__ import annotations

import json
import math
from typing import Any

from traitlets import Bool, Unicode

from .commands import CommandError
from .review_export_cli import RoundCommand

HEADER = ["#", "author", "criterion", "final", "peers", "aggregate", "autograde", "disagreement"]


def points(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def table(rows: list[list[str]], indent: str = "") -> list[str]:
    """Rows as left-aligned columns (the header is the first row)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        indent + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def results_lines(results: dict[str, Any]) -> list[str]:
    """The staff results as text a person reads in a terminal."""
    rnd = results["round"]
    subs = results["submissions"]
    flags = results.get("open_flags", 0)
    lines = [
        f"peer review of {rnd['assignment']}: {rnd['state']}, {results['method']}, "
        f"{len(subs)} submission(s)" + (f", {flags} open flag(s)" if flags else ""),
        "",
    ]
    rubric = results["rubric"]
    rows = [HEADER]
    overrides: list[str] = []
    for sub in subs:
        for i, criterion in enumerate(rubric):
            got = sub["criteria"].get(criterion["key"], {})
            peers = ", ".join(
                f"[{points(p['score'])}]" if p.get("excluded") else points(p["score"])
                for p in got.get("peer", [])
            )
            final = points(got.get("final"))
            if got.get("override"):
                final += "*"
                reason = got["override"].get("reason") or "no reason given"
                by = got["override"].get("by")
                overrides.append(
                    f"  * submission {sub['number']}, {criterion['key']}: "
                    f"{points(got['override']['score'])}{f' set by {by}' if by else ''}: {reason}"
                )
            title = f"{criterion['title']} ({criterion['key']}) /{points(criterion['max_points'])}"
            rows.append(
                [
                    str(sub["number"]) if i == 0 else "",
                    sub["author"] if i == 0 else "",
                    title,
                    final,
                    peers or "-",
                    points(got.get("aggregate")),
                    points(got.get("autograde")),
                    points(got.get("spread")),
                ]
            )
        total = sub.get("total") or {}
        auto = sub.get("autograde")
        rows.append(
            [
                "",
                "",
                "total",
                f"{points(total.get('score'))} / {points(total.get('max'))}"
                + ("" if total.get("complete", True) else " (incomplete)"),
                f"{sub.get('reviews_counted', 0)} review(s) counted",
                "",
                f"{points(auto['total'])} / {points(auto['max'])}" if auto else "-",
                "",
            ]
        )
    lines += table(rows) if subs else ["no submissions yet"]
    if overrides:
        lines += ["", "overridden by the instructor (*):", *overrides]
    reviews = [["#", "review", "reviewer", "submitted", "excluded", "flags", "helpfulness"]]
    for sub in subs:
        for r in sub["reviews"]:
            excluded = r.get("excluded")
            reviews.append(
                [
                    str(sub["number"]),
                    r["id"],
                    r["reviewer"],
                    r.get("submitted_at") or "-",
                    (excluded.get("reason") or "yes") if excluded else "",
                    str(r.get("open_flags") or ""),
                    points(r.get("helpfulness")) if r.get("helpfulness") is not None else "",
                ]
            )
    if len(reviews) > 1:
        lines += ["", "reviews (exclude one with: cohortlab review exclude <assignment> <review>):"]
        lines += table(reviews, "  ")
    reviewers = [["reviewer", "done", "excluded", "agreement", "helpfulness", "open flags"]]
    for r in results.get("reviewers", []):
        reviewers.append(
            [
                r["user"],
                f"{r['reviews_done']}/{r['reviews_assigned']}",
                str(r["reviews_excluded"]),
                points(r.get("agreement")),
                points(r.get("helpfulness")),
                str(r.get("open_flags", 0)),
            ]
        )
    if len(reviewers) > 1:
        lines += ["", "reviewers (agreement: how close their scores are to the others'):"]
        lines += table(reviewers, "  ")
    return lines


class ResultsReviewApp(RoundCommand):
    name = "cohortlab-review-results"
    description = (
        "Show a peer review round's results: per submission and criterion the final score, the "
        "peers' scores, their aggregate, nbgrader's autograde score and the disagreement; each "
        "review and each reviewer's agreement. Staff only."
    )
    examples = "cohortlab review results hw1 --course demo101 [--json]"

    as_json = Bool(False, help="Print the service's JSON instead of the table.").tag(config=True)
    flags = {"json": ({"ResultsReviewApp": {"as_json": True}}, "Print the service's JSON.")}

    def run(self) -> None:
        results = self.client().request("GET", self.round_path("results"))
        if self.as_json:
            print(json.dumps(results, indent=2))
            return
        print("\n".join(results_lines(results)))


def submission_number(text: str) -> str:
    if not text.isdigit() or len(text) > 9:
        raise CommandError(f"{text!r} is not a submission number (see cohortlab review results).")
    return str(int(text))


class OverrideReviewApp(RoundCommand):
    name = "cohortlab-review-override"
    description = (
        "Set your score for one criterion of one submission in place of the peers' "
        "(--clear gives it back to them). Instructors only."
    )
    examples = (
        "cohortlab review override hw1 3 hw1:interpretation 2 --reason 'The argument holds'\n"
        "cohortlab review override hw1 3 hw1:interpretation --clear"
    )

    reason = Unicode(help="Why (shown to staff beside the score).").tag(config=True)
    clear = Bool(False, help="Remove the override: the peers' aggregate counts again.").tag(
        config=True
    )
    aliases = {**RoundCommand.aliases, "reason": "OverrideReviewApp.reason"}
    flags = {"clear": ({"OverrideReviewApp": {"clear": True}}, "Remove the override.")}

    def check_arguments(self) -> None:
        want = 3 if self.clear else 4
        if len(self.extra_args) != want:
            shape = "<assignment> <submission> <criterion>" + ("" if self.clear else " <score>")
            raise CommandError(
                f"give {shape} (got {len(self.extra_args)} argument(s)); see --help."
            )

    def run(self) -> None:
        number = submission_number(self.extra_args[1])
        criterion = self.extra_args[2]
        path = self.round_path("overrides", number, criterion)
        if self.clear:
            self.client().request("DELETE", path)
            print(f"submission {number}, {criterion}: the peers' score counts again")
            return
        try:
            score = float(self.extra_args[3])
        except ValueError:
            raise CommandError(f"{self.extra_args[3]!r} is not a score.") from None
        if not math.isfinite(score):
            raise CommandError(f"{self.extra_args[3]!r} is not a score.")
        body: dict[str, Any] = {"score": score}
        if self.reason:
            body["reason"] = self.reason
        done = self.client().request("PUT", path, body)["override"]
        why = f" ({done['reason']})" if done.get("reason") else ""
        print(f"submission {number}, {criterion}: {points(done['score'])} set by you{why}")


class ExcludeReviewApp(RoundCommand):
    name = "cohortlab-review-exclude"
    description = (
        "Leave one review out of the scores and of its author's feedback (kept, not deleted; "
        "--include counts it again). Review ids are in cohortlab review results. Instructors only."
    )
    examples = (
        "cohortlab review exclude hw1 <review> --reason 'Off topic'\n"
        "cohortlab review exclude hw1 <review> --include"
    )

    reason = Unicode(help="Why (shown to staff).").tag(config=True)
    include = Bool(False, help="Count the review again.").tag(config=True)
    aliases = {**RoundCommand.aliases, "reason": "ExcludeReviewApp.reason"}
    flags = {"include": ({"ExcludeReviewApp": {"include": True}}, "Count the review again.")}

    def check_arguments(self) -> None:
        if len(self.extra_args) != 2:
            raise CommandError(
                f"give <assignment> <review> (got {len(self.extra_args)} argument(s)); see --help."
            )

    def run(self) -> None:
        review = self.extra_args[1]
        path = self.round_path("exclusions", review)
        if self.include:
            self.client().request("DELETE", path)
            print(f"review {review} counts again")
            return
        body = {"reason": self.reason} if self.reason else {}
        self.client().request("PUT", path, body)
        print(f"review {review} is excluded from the scores and from its author's feedback")
