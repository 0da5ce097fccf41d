"""The demo course's people and groups, shared by the hub config and the seeding script.

Later capabilities extend the demo; keep these names.
"""

COURSE = "demo101"
INSTRUCTORS = ["instructor"]
MENTORS = ["mentor"]
LEARNERS = ["ada", "ben", "cy", "dee", "eli", "fay"]
COHORTS = {"red": ["ada", "ben", "cy"], "blue": ["dee", "eli", "fay"]}
DEMO_PEOPLE = [*INSTRUCTORS, *MENTORS, *LEARNERS]


def demo_groups() -> dict[str, dict]:
    """The hub groups, in JupyterHub's load_groups format.

    Cohort groups carry properties naming their course and cohort, so their names
    parse unambiguously even when a course id contains '-'.
    """
    groups: dict[str, dict] = {
        f"nbgrader-{COURSE}": {"users": LEARNERS},
        f"formgrade-{COURSE}": {"users": INSTRUCTORS},
        f"mentor-{COURSE}": {"users": MENTORS},
    }
    for cohort, members in COHORTS.items():
        groups[f"cohort-{COURSE}-{cohort}"] = {
            "users": members,
            "properties": {"cohortlab": {"kind": "cohort", "course": COURSE, "cohort": cohort}},
        }
    return groups
