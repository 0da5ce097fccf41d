"""nbgrader's machine-wide config on a CohortLab hub, for every account and every course.

``hub_config/seed.py`` installs this file as ``<venv>/etc/jupyter/nbgrader_config.py``: that
folder is first in ``jupyter --paths`` (config) for any process run from the venv, so the
nbgrader commands and the nbgrader extensions in every person's server read it, whoever runs
them. Course settings (``CourseDirectory.course_id``, ``root``) stay in the course's own config,
as in nbgrader's JupyterHub docs.

Autograding kernels run in CohortLab's sandbox wherever the package is installed: that comes
from the package's own ``<prefix>/etc/jupyter/nbgrader_config.json``
(``Autograde.autograde_preprocessors``, cohortlab.nbgrader.autograde), not from this file;
setting that list here would replace it.
"""

import os

from cohortlab.nbgrader.preprocessors import StampCellKeys
from cohortlab.nbgrader.quizzes import PublishQuizzes
from nbgrader.converters import GenerateAssignment
from nbgrader.preprocessors import IncludeHeaderFooter

c = get_config()  # type: ignore[name-defined]  # noqa: F821

# The exchange every course on this machine releases to and learners fetch from and submit
# to. It must exist, world-writable with the sticky bit: seed.py makes it.
# COHORTLAB_NBGRADER_EXCHANGE moves it (a test run uses its own).
c.Exchange.root = os.environ.get("COHORTLAB_NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
# Several courses share the exchange: fetched assignments land in ./<course>/<assignment>.
c.Exchange.path_includes_course = True

# nbgrader 0.9.6 has no extra_preprocessors: GenerateAssignment.preprocessors is its whole list,
# which the converter registers on its exporter one by one. So: nbgrader's default list plus
# ours. A plain list, not `.append`: nbgrader loads a course's nbgrader_config.py twice when run
# in the course folder (from the cwd, then from CourseDirectory.root), and an append there ran
# StampCellKeys twice.
# - PublishQuizzes publishes the quiz spec cells (tag cohortlab-quiz) and replaces them with the
#   quiz widget right after IncludeHeaderFooter (so header/footer quizzes are published too) and
#   before all the rest, so no nbgrader step sees the answer key (SaveCells would copy a
#   read-only cell's source into the gradebook). cohortlab.nbgrader.quizzes says more.
# - StampCellKeys stamps CohortLab's discussion keys into every released notebook, after
#   nbgrader's own preprocessors (cohortlab.nbgrader.preprocessors says why last).
_nbgrader_own = GenerateAssignment.class_traits()["preprocessors"].default()
_after_header = _nbgrader_own.index(IncludeHeaderFooter) + 1
c.GenerateAssignment.preprocessors = [
    *_nbgrader_own[:_after_header],
    PublishQuizzes,
    *_nbgrader_own[_after_header:],
    StampCellKeys,
]
