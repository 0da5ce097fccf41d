"""Cohorts: hub groups with a shared collaboration workspace each.

- ``manage``: the rules (who may change a cohort, names, members, who gets access);
- ``hub``: the hub calls that create cohorts and keep workspace access in step with the
  cohort's group (per-person JupyterHub shares; docs/cohorts.md says why);
- ``hubhooks``: the spawn and login hooks the hub config installs for workspace accounts.
"""
