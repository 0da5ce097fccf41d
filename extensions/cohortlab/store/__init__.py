"""Storage: SQLAlchemy 2 models, engine set-up, Alembic migrations."""

from .db import DatabaseError, connect, session_scope
from .models import Base, User

__all__ = ["Base", "DatabaseError", "User", "connect", "session_scope"]
