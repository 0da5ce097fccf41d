"""Successful reads are logged at debug level; the service skips building those records when
no handler would write them (traitlets keeps the app's logger at DEBUG and filters in the
handler, so the logger alone cannot tell)."""

from __future__ import annotations

import logging

from cohortlab.service.app import writes_debug


def _logger(name: str, logger_level: int, *handler_levels: int) -> logging.Logger:
    log = logging.getLogger(f"cohortlab-test-{name}")
    log.handlers.clear()
    log.setLevel(logger_level)
    log.propagate = False
    for level in handler_levels:
        handler = logging.NullHandler()
        handler.setLevel(level)
        log.addHandler(handler)
    return log


def test_a_logger_at_debug_whose_handler_filters_debug_writes_nothing() -> None:
    assert not writes_debug(_logger("info", logging.DEBUG, logging.INFO))


def test_debug_is_written_when_a_handler_takes_it() -> None:
    assert writes_debug(_logger("debug", logging.DEBUG, logging.INFO, logging.DEBUG))
    assert writes_debug(_logger("notset", logging.DEBUG, logging.NOTSET))


def test_a_logger_above_debug_writes_no_debug() -> None:
    assert not writes_debug(_logger("warn", logging.WARNING, logging.DEBUG))


def test_handlers_of_parents_count_while_records_propagate() -> None:
    parent = _logger("parent", logging.DEBUG, logging.DEBUG)
    child = logging.getLogger("cohortlab-test-parent.child")
    child.setLevel(logging.DEBUG)
    assert writes_debug(child)
    child.propagate = False
    assert not writes_debug(child)
    child.propagate = True
    parent.handlers.clear()
    assert not writes_debug(child)
