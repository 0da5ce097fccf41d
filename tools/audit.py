"""`make audit`: known vulnerabilities in every pinned dependency, Python and npm.

Runs ``pip-audit`` on ``requirements.lock`` (pinned and hashed, so nothing is installed or
resolved to audit it) and ``npm audit`` in each folder with a ``package-lock.json`` we ship or
build from, and reads their JSON answers here rather than trusting their exit codes, because
both tools *pass* when they cannot reach their advisory service:

- ``pip-audit`` marks every package it could not look up as skipped ("Dependency not found on
  PyPI and could not be audited") and still exits 0;
- ``npm audit`` prints an error document (for example ``405 Method Not Allowed`` from a
  registry mirror without the advisory endpoint) and, depending on the version, exits 0.

So the verdict, one line per source and an exit code:

- ``0``: every package was checked and nothing high or critical was found;
- ``1``: a finding that fails (npm: ``high`` or ``critical``; Python: any finding, since the
  PyPI advisory data pip-audit reads carries no severity, so none can be ranked lower);
- ``2``: nothing failed, but some source was **not audited** (advisory service unreachable,
  or packages it could not look up): that is not a pass.

The classification is pure (:func:`python_verdict`, :func:`npm_verdict`, :func:`overall`) and
unit-tested in ``tests/unit/test_audit.py`` on the tools' real answer shapes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
NPM_FOLDERS = ("hub_config", "extensions/labextension")
FAILING_NPM = ("high", "critical")
PASSED, FAILED, NOT_AUDITED = "passed", "failed", "not audited"


@dataclass
class Verdict:
    source: str
    status: str
    lines: list[str] = field(default_factory=list)

    def summary(self) -> str:
        head = f"{self.source}: {self.status}"
        return "\n".join([head, *(f"  {line}" for line in self.lines)])


def python_verdict(answer: dict[str, Any] | None, error: str = "") -> Verdict:
    """pip-audit's JSON answer (``-f json``) as a verdict."""
    source = "Python (requirements.lock)"
    if answer is None:
        return Verdict(source, NOT_AUDITED, [f"pip-audit gave no answer: {error}".strip()])
    deps = answer.get("dependencies") or []
    found = [d for d in deps if d.get("vulns")]
    skipped = [d for d in deps if d.get("skip_reason")]
    lines = [
        f"{d['name']} {d.get('version', '')}: {v['id']}"
        + (f" (fixed in {', '.join(v['fix_versions'])})" if v.get("fix_versions") else "")
        for d in found
        for v in d["vulns"]
    ]
    if found:
        return Verdict(source, FAILED, lines)
    if not deps:
        return Verdict(source, NOT_AUDITED, ["pip-audit listed no packages"])
    if skipped:
        if len(skipped) == len(deps):
            reason = "advisory service unreachable"
            detail = f"all {len(deps)} packages skipped, e.g. {skipped[0]['skip_reason']}"
        else:
            reason = f"{len(skipped)} of {len(deps)} packages could not be looked up"
            detail = "; ".join(f"{d['name']}: {d['skip_reason']}" for d in skipped[:5])
        return Verdict(source, NOT_AUDITED, [reason, detail])
    return Verdict(source, PASSED, [f"{len(deps)} packages, no known vulnerability"])


def npm_verdict(folder: str, answer: dict[str, Any] | None, error: str = "") -> Verdict:
    """``npm audit --json``'s answer in ``folder`` as a verdict."""
    source = f"npm ({folder})"
    if answer is None:
        return Verdict(source, NOT_AUDITED, [f"npm audit gave no answer: {error}".strip()])
    if "error" in answer or ("message" in answer and "metadata" not in answer):
        problem = answer.get("error") or answer
        message = problem.get("summary") or problem.get("message") or error or str(problem)
        return Verdict(source, NOT_AUDITED, ["advisory service unreachable", str(message)])
    counts = (answer.get("metadata") or {}).get("vulnerabilities") or {}
    failing = {level: counts.get(level, 0) for level in FAILING_NPM if counts.get(level, 0)}
    vulns = answer.get("vulnerabilities") or {}
    lines = [
        f"{name}: {info.get('severity')} ({info.get('range', '')})"
        for name, info in sorted(vulns.items())
        if info.get("severity") in FAILING_NPM
    ]
    if failing:
        return Verdict(source, FAILED, lines or [json.dumps(failing)])
    others = sum(v for k, v in counts.items() if k != "total")
    total = (answer.get("metadata") or {}).get("dependencies", {}).get("total", "?")
    note = f"{total} packages, nothing high or critical"
    return Verdict(source, PASSED, [note + (f" ({others} lower)" if others else "")])


def overall(verdicts: list[Verdict]) -> int:
    if any(v.status == FAILED for v in verdicts):
        return 1
    if any(v.status == NOT_AUDITED for v in verdicts):
        return 2
    return 0


def _json(cmd: list[str], cwd: Path) -> tuple[dict[str, Any] | None, str]:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, str(e)
    said = [line for line in done.stderr.splitlines() if line.strip()]
    last = said[-1] if said else "no output"
    for line in said:  # npm says what went wrong first ("npm warn audit 405 ..."), then "error"
        if "audit" in line and any(c.isdigit() for c in line):
            last = line
            break
    try:
        return json.loads(done.stdout), last
    except ValueError:
        return None, last


def main() -> int:
    pip_audit = Path(sys.executable).with_name("pip-audit")
    answer, error = _json(
        [str(pip_audit), "-r", str(LOCK), "--disable-pip", "-f", "json",
         "--progress-spinner", "off"],
        ROOT,
    )  # fmt: skip
    verdicts = [python_verdict(answer, error)]
    for folder in NPM_FOLDERS:
        answer, error = _json(["npm", "audit", "--json"], ROOT / folder)
        verdicts.append(npm_verdict(folder, answer, error))
    for v in verdicts:
        print(v.summary())
    code = overall(verdicts)
    print(
        {
            0: "audit: passed",
            1: "audit: FAILED (a finding above must be fixed)",
            2: "audit: not audited: advisory service unreachable (see above); this is no pass",
        }[code]
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
