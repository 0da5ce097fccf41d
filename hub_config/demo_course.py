"""The demo course's people and groups, shared by the hub config and the seeding script.

Later capabilities extend the demo; keep these names.
"""

from cohortlab.cohorts.manage import account_name, cohort_properties

COURSE = "demo101"
INSTRUCTORS = ["instructor"]
MENTORS = ["mentor"]
LEARNERS = ["ada", "ben", "cy", "dee", "eli", "fay"]
COHORTS = {"red": ["ada", "ben", "cy"], "blue": ["dee", "eli", "fay"]}
DEMO_PEOPLE = [*INSTRUCTORS, *MENTORS, *LEARNERS]
#: The learners' full names, as the demo setup records them in nbgrader's gradebook (and as
#: they sign their homework, so peer review's anonymous copies have names to remove).
FULL_NAMES = {
    "ada": ("Ada", "Lovelace"),
    "ben": ("Benedikt", "Okafor"),
    "cy": ("Cyrus", "Nakamura"),
    "dee": ("Deirdre", "Ramos"),
    "eli": ("Elias", "Brandt"),
    "fay": ("Fatima", "Haddad"),
}


def demo_groups() -> dict[str, dict]:
    """The hub groups, in JupyterHub's load_groups format.

    Cohort groups carry properties naming their course and cohort, so their names
    parse unambiguously even when a course id contains '-'. They are exactly the
    properties CohortLab itself writes (``account``, ``archived``), because JupyterHub
    rewrites a load_groups group's properties at every start: equal ones are left alone, so
    the hub and the demo setup's ``cohortlab cohort sync`` never undo each other.
    """
    groups: dict[str, dict] = {
        f"nbgrader-{COURSE}": {"users": LEARNERS},
        f"formgrade-{COURSE}": {"users": INSTRUCTORS},
        f"mentor-{COURSE}": {"users": MENTORS},
    }
    for cohort, members in COHORTS.items():
        groups[f"cohort-{COURSE}-{cohort}"] = {
            "users": members,
            "properties": cohort_properties(COURSE, cohort, account_name(COURSE, cohort)),
        }
    return groups
