"""`make audit`'s verdicts (tools/audit.py) on the shapes pip-audit and npm audit answer with,
including the answers this machine gets (every package skipped; npm's 405 from the registry),
which must never read as a pass. Also: the hashed lock pins every declared dependency."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

from tools.audit import (
    FAILED,
    NOT_AUDITED,
    PASSED,
    Verdict,
    npm_verdict,
    overall,
    python_verdict,
)

ROOT = Path(__file__).resolve().parents[2]


def test_pip_audit_skipping_everything_is_not_audited() -> None:
    answer = {
        "dependencies": [
            {"name": "tornado", "skip_reason": "Dependency not found on PyPI and could not be "
             "audited: tornado (6.5.2)"},
            {"name": "jinja2", "skip_reason": "Dependency not found on PyPI and could not be "
             "audited: jinja2 (3.1.6)"},
        ],
        "fixes": [],
    }  # fmt: skip
    verdict = python_verdict(answer)
    assert verdict.status == NOT_AUDITED
    assert "advisory service unreachable" in verdict.summary()
    assert overall([verdict]) == 2


def test_pip_audit_some_skipped_is_not_audited() -> None:
    answer = {
        "dependencies": [
            {"name": "tornado", "version": "6.5.2", "vulns": []},
            {"name": "jinja2", "skip_reason": "Dependency not found on PyPI"},
        ]
    }
    verdict = python_verdict(answer)
    assert verdict.status == NOT_AUDITED
    assert "1 of 2" in verdict.summary()


def test_pip_audit_finding_fails_whatever_else() -> None:
    answer = {
        "dependencies": [
            {
                "name": "requests",
                "version": "2.19.0",
                "vulns": [
                    {"id": "PYSEC-2018-28", "fix_versions": ["2.20.0"], "aliases": []},
                ],
            },
            {"name": "jinja2", "skip_reason": "Dependency not found on PyPI"},
        ]
    }
    verdict = python_verdict(answer)
    assert verdict.status == FAILED
    assert "PYSEC-2018-28 (fixed in 2.20.0)" in verdict.summary()
    assert overall([verdict, Verdict("x", NOT_AUDITED)]) == 1


def test_pip_audit_clean_passes_and_no_answer_does_not() -> None:
    clean = {"dependencies": [{"name": "tornado", "version": "6.5.2", "vulns": []}]}
    assert python_verdict(clean).status == PASSED
    assert python_verdict(None, "Connection refused").status == NOT_AUDITED
    assert python_verdict({"dependencies": []}).status == NOT_AUDITED


def test_npm_registry_without_advisories_is_not_audited() -> None:
    answer = {  # what registry.npmjs.org answered here (the bulk endpoint refused)
        "message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/"
        "security/advisories/bulk",
        "method": "POST",
        "uri": "https://registry.npmjs.org/-/npm/v1/security/advisories/bulk",
        "headers": {"allow": ["GET,HEAD"]},
        "statusCode": 405,
    }
    verdict = npm_verdict("hub_config", answer)
    assert verdict.status == NOT_AUDITED
    assert "405" in verdict.summary()
    assert npm_verdict("x", {"error": {"code": "ENOLOCK", "summary": "no lock"}}).status == (
        NOT_AUDITED
    )


def _npm(levels: dict[str, int], vulns: dict[str, dict[str, str]]) -> dict:
    counts = {"info": 0, "low": 0, "moderate": 0, "high": 0, "critical": 0, **levels}
    counts["total"] = sum(counts.values())
    return {
        "auditReportVersion": 2,
        "vulnerabilities": vulns,
        "metadata": {"vulnerabilities": counts, "dependencies": {"total": 120}},
    }


def test_npm_high_fails_moderate_passes() -> None:
    high = _npm({"high": 1}, {"ws": {"severity": "high", "range": "8.0.0 - 8.17.0"}})
    assert npm_verdict("hub_config", high).status == FAILED
    assert "ws: high" in npm_verdict("hub_config", high).summary()
    moderate = _npm({"moderate": 2}, {"nanoid": {"severity": "moderate", "range": "<3.3.8"}})
    verdict = npm_verdict("hub_config", moderate)
    assert verdict.status == PASSED
    assert "2 lower" in verdict.summary()
    assert overall([verdict, python_verdict({"dependencies": [{"name": "a", "vulns": []}]})]) == 0


def _declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    return [Requirement(r) for r in reqs]


def test_lock_pins_every_declared_dependency_with_hashes() -> None:
    """requirements.lock is made by `make lock` from pyproject.toml: a dependency added or
    changed there without re-locking fails here (and `make setup` would not install it)."""
    text = (ROOT / "requirements.lock").read_text()
    pins = {
        m["name"].lower().replace("_", "-"): Version(m["version"])
        for m in re.finditer(r"^(?P<name>[A-Za-z0-9_.-]+)==(?P<version>\S+)", text, re.M)
    }
    for req in _declared():
        name = req.name.lower().replace("_", "-")
        assert name in pins, f"{req.name} is not in requirements.lock: run `make lock`"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside {req}: run `make lock`"
        )
    blocks = re.split(r"\n(?=[A-Za-z0-9_.-]+==)", text)
    unhashed = [b.split()[0] for b in blocks if "==" in b.split()[0] and "--hash=" not in b]
    assert not unhashed, f"pinned without a hash: {unhashed}"
