"""Per-person posting limits, counted in the database so every service replica agrees."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from ..errors import APIError
from ..store.discussions import Post
from ..store.models import utcnow


@dataclass(frozen=True)
class RateLimit:
    posts: int = 10
    seconds: int = 60


# built once: statement construction costs more than this indexed query
_RECENT_POSTS = select(func.count(), func.min(Post.created_at)).where(
    Post.author_id == bindparam("user_id"), Post.created_at > bindparam("since")
)


def check_post_rate(session: Session, user_id: int, limit: RateLimit) -> None:
    """Refuse with 429 and ``Retry-After`` once a person posted ``posts`` times in ``seconds``."""
    since = utcnow() - timedelta(seconds=limit.seconds)
    found = session.connection().execute(_RECENT_POSTS, {"user_id": user_id, "since": since})
    count, oldest = found.one()
    if count >= limit.posts:
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=since.tzinfo)
        wait = limit.seconds - (utcnow() - oldest).total_seconds() if oldest else limit.seconds
        retry = max(1, math.ceil(wait))
        raise APIError(
            429,
            "rate_limited",
            f"You have posted {count} times in the last {limit.seconds} s; "
            f"wait {retry} s before posting again.",
            headers={"Retry-After": str(retry)},
        )
