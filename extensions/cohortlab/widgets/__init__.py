"""Notebook widgets: ``Quiz`` and ``Leaderboard`` (anywidget).

They run in a learner's kernel and reach the CohortLab service with the kernel's hub
token; their front-end sources are the plain ES modules in the repository's
``widgets/`` folder (see ``widgets/README.md`` for front ends, live refresh and the DOM
hooks browser tests use).
"""

from .leaderboard import Leaderboard
from .quiz import Quiz

__all__ = ["Leaderboard", "Quiz"]
