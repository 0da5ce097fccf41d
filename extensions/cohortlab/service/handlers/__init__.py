"""One module per resource; each ends with ``default_handlers``."""

from . import (
    cohorts,
    discussions,
    events,
    live,
    me,
    meta,
    notifications,
    pages,
    quizzes,
    review_results,
    reviews,
    workspace_activity,
)

default_handlers = [
    *meta.default_handlers,
    *me.default_handlers,
    *events.default_handlers,
    *discussions.default_handlers,
    *notifications.default_handlers,
    *quizzes.default_handlers,
    *live.default_handlers,
    *cohorts.default_handlers,
    *reviews.default_handlers,
    *review_results.default_handlers,
    *workspace_activity.default_handlers,
    *pages.default_handlers,
]
