"""Peer review of nbgrader assignments (issue 6).

The pure logic, no database and no HTTP:

- :mod:`cohortlab.reviews.allocation` decides who reviews whom: k distinct reviewers per
  submission, never one's own, loads within ±1, optional cohort and team rules, late
  submissions, expired leases and extra reviews, deterministic for a round's secret seed.
- :mod:`cohortlab.reviews.anonymize` makes the copy a reviewer sees: author metadata, user
  names and home paths gone from metadata, sources and outputs, image metadata stripped,
  "Submission N" pseudonyms, and a checker for anything identifying left behind.
- :mod:`cohortlab.reviews.aggregate` turns peer scores into one score per criterion
  (median, mean, or PG1 reliability-weighted) and gives each reviewer an agreement figure;
  :mod:`cohortlab.reviews.export` plans what goes into nbgrader's gradebook.

The modules that take a database session (``state``, ``records``, ``reviewing``, ``manage``,
``results``, ``feedback``) apply those rules to stored rounds; the HTTP surface in
``cohortlab.service`` calls into them, so the rules are tested once, without it.
"""
