"""Users and their refresh tokens: the tables, and what clients send and get back.

Passwords are stored as Argon2 hashes (`auth/passwords.py`), refresh tokens as
SHA-256 hashes (`auth/tokens.py`): neither can be read back from the database.
"""

from datetime import datetime
from typing import Annotated

from pydantic import StringConstraints
from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel

from ..core.config import PASSWORD_MIN_LENGTH
from .common import Flag, RequestBody, partial

# An address with one @ and a dot in its domain, without spaces or control characters
# (spelled out: what `\s` covers differs between JSON Schema's regexes and Python's);
# what it really is, a mail tells.
EMAIL_PART = r"[^@\x00-\x20\x7f-\x9f]+"
Email = Annotated[
    str, StringConstraints(pattern=f"^{EMAIL_PART}@{EMAIL_PART}\\.{EMAIL_PART}$", max_length=320)
]
Password = Annotated[str, StringConstraints(min_length=PASSWORD_MIN_LENGTH, max_length=1024)]
# `<plural>:read` or `<plural>:write` (and whatever scopes routes of your own check).
Scope = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")]


class User(SQLModel, table=True):
{% if cookiecutter.database == "sqlite" %}
    # Ids are never reused after a delete, as with a sequence.
    __table_args__ = {"sqlite_autoincrement": True}

{% endif %}
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320)
    # The address case-folded (see `email_key`): unique, so one address is one user.
    email_key: str = Field(max_length=320, unique=True)
    password_hash: str = Field(max_length=512)
    is_active: bool = True
    is_superuser: bool = False
    # The scopes the user may ask for, separated by spaces.
    scopes: str = Field(default="", max_length=4000)


def email_key(email: str) -> str:
    return email.casefold()


class RefreshToken(SQLModel, table=True):
    """One refresh token; `family` is the sign-in it descends from, which a token
    presented twice revokes whole (its successors too)."""

    __tablename__ = "refresh_token"
{% if cookiecutter.database == "sqlite" %}
    __table_args__ = {"sqlite_autoincrement": True}
{% endif %}

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    family: str = Field(max_length=32, index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    scopes: str = Field(max_length=4000)
    expires_at: datetime = Field(sa_type=DateTime(timezone=True))
    used_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))
    revoked_at: datetime | None = Field(default=None, sa_type=DateTime(timezone=True))


class UserBase(SQLModel):
    email: Email
    is_superuser: Flag = False
    scopes: list[Scope] = Field(default_factory=list, max_length=100)


class UserCreate(UserBase, RequestBody):
    password: Password


@partial
class UserUpdate(UserBase, RequestBody):
    """Only the fields sent change. Deactivating a user ends their sessions."""

    password: Password
    is_active: Flag


class UserRead(UserBase):
    id: int
    is_active: bool


class Me(SQLModel):
    """Who a token says the caller is; `user` is the local account, if it is one."""

    subject: str
    scopes: list[str]
    superuser: bool
    user: UserRead | None
