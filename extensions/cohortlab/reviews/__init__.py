"""Peer review of nbgrader assignments (issue 6): the pure logic, no database and no HTTP.

- :mod:`cohortlab.reviews.allocation` decides who reviews whom: k distinct reviewers per
  submission, never one's own, loads within ±1, optional cohort and team rules, late
  submissions, expired leases and extra reviews, deterministic for a round's secret seed.
- :mod:`cohortlab.reviews.anonymize` makes the copy a reviewer sees: author metadata, user
  names and home paths gone from metadata, sources and outputs, image metadata stripped,
  "Submission N" pseudonyms, and a checker for anything identifying left behind.

Still to come here: rubrics from nbgrader's manually graded cells, score aggregation
(median, mean, reliability-weighted) and agreement figures. Storage lives in
``cohortlab.store`` and the HTTP surface in ``cohortlab.service``; both call into this
package so the rules are tested once, without either.
"""
