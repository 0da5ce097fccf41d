"""Who may call what. Every handler method declares a rule with :func:`allow`.

A rule is a callable ``rule(handler, **path_kwargs)`` that returns nothing when
the caller may proceed and raises :class:`~cohortlab.errors.APIError` when not.
The decorator records the rule on the method (``_cl_rule``) so a test can list
every route and fail if one has none.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import APIError

if TYPE_CHECKING:
    from .base import BaseHandler

Rule = Callable[..., Awaitable[None] | None]
F = TypeVar("F", bound=Callable[..., Awaitable[Any] | Any])


def allow(rule: Rule) -> Callable[[F], F]:
    """Check ``rule`` before the handler method runs (after authentication)."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        async def wrapper(self: BaseHandler, *args: Any, **kwargs: Any) -> Any:
            if self.refusal is not None:  # decided in prepare, answered after the body
                raise self.refusal
            checked = rule(self, *args, **kwargs)
            if hasattr(checked, "__await__"):
                await checked
            result = method(self, *args, **kwargs)
            if hasattr(result, "__await__"):
                result = await result
            return result

        wrapper._cl_rule = rule  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def any_identity(handler: BaseHandler, *args: Any, **kwargs: Any) -> None:
    """Any hub user or hub service (authentication already happened in ``prepare``)."""


def person(handler: BaseHandler, *args: Any, **kwargs: Any) -> None:
    """A hub *user*: services have no courses and no social data of their own."""
    if handler.hub_user.get("kind", "user") != "user":
        raise APIError(403, "not_a_person", "This endpoint is for people, not hub services.")


async def course_member(handler: BaseHandler, course: str, *args: Any, **kwargs: Any) -> None:
    """A person in the course named in the URL (any role); sets ``handler.caller``.

    Finer rules (staff only, author only, who may see a thread) are checked by the
    discussion logic, which raises with a message saying who may do it.
    """
    person(handler)
    handler.caller = await handler.course_caller(course)
