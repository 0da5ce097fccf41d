"""The spawn hook gives a workspace server its cohort and the people who may be in it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cohortlab.cohorts.hubhooks import cohort_of
from jupyterhub import orm


@dataclass
class Account:
    name: str
    db: Any


def test_a_workspace_server_learns_its_cohort_members_and_instructors() -> None:
    db = orm.new_session_factory("sqlite://")()
    people = {n: orm.User(name=n) for n in ("ada", "ben", "teach", "dee")}
    db.add_all(people.values())
    red = orm.Group(name="cohort-demo101-red")
    red.properties = {
        "cohortlab": {
            "kind": "cohort",
            "course": "demo101",
            "cohort": "red",
            "account": "cohort-demo101-red",
        }
    }
    red.users = [people["ada"], people["ben"]]
    staff = orm.Group(name="formgrade-demo101")
    staff.users = [people["teach"]]
    db.add_all([red, staff, orm.Group(name="cohort-demo101-blue")])
    db.commit()
    assert cohort_of(Account("cohort-demo101-red", db)) == {
        "COHORTLAB_WORKSPACE_COURSE": "demo101",
        "COHORTLAB_WORKSPACE_COHORT": "red",
        "COHORTLAB_WORKSPACE_PEOPLE": "ada,ben,teach",
    }
    assert cohort_of(Account("cohort-demo101-blue", db)) is None
