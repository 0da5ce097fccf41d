"""One module per resource; each ends with ``default_handlers``."""

from . import events, me, meta, pages

default_handlers = [
    *meta.default_handlers,
    *me.default_handlers,
    *events.default_handlers,
    *pages.default_handlers,
]
