"""Users and refresh tokens in the database: one statement per step, compiled once.

A refresh token is used by one statement that only succeeds for a token not used
or revoked yet, so two requests racing with the same token cannot both get a
successor: the loser is treated as a reuse, and the whole family is revoked.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlmodel import col

from ..core.config import Settings
from ..db import ConstraintViolated, Database, DatabaseUnavailable, Row, Statement, bound
from ..models.users import RefreshToken, User, UserRead, email_key
from .passwords import Passwords
from .tokens import fingerprint, new_family, new_refresh_token

logger = logging.getLogger(__name__)

USER_COLUMNS = (
    col(User.id),
    col(User.email),
    col(User.password_hash),
    col(User.is_active),
    col(User.is_superuser),
    col(User.scopes),
)
USER_BY_ID = Statement(select(*USER_COLUMNS).where(col(User.id) == bindparam("user_id")))
USER_BY_EMAIL = Statement(select(*USER_COLUMNS).where(col(User.email_key) == bindparam("key")))
USERS_PAGE = Statement(
    select(*USER_COLUMNS)
    .order_by(col(User.id))
    .limit(bindparam("limit"))
    .offset(bindparam("offset"))
)
NEW_PASSWORD_HASH = Statement(
    update(User).where(col(User.id) == bindparam("user_id")).values(password_hash=bindparam("hash"))
)
TOKEN_BY_HASH = Statement(
    select(RefreshToken).where(col(RefreshToken.token_hash) == bindparam("token_hash"))
)
NEW_TOKEN = Statement(
    insert(RefreshToken).values(
        token_hash=bindparam("token_hash"),
        family=bindparam("family"),
        user_id=bindparam("user_id"),
        scopes=bindparam("scopes"),
        expires_at=bindparam("expires_at"),
    )
)
# Only a token neither used nor revoked is used: RETURNING says whether this one was.
USE_TOKEN = Statement(
    update(RefreshToken)
    .where(
        col(RefreshToken.id) == bindparam("token_id"),
        col(RefreshToken.used_at).is_(None),
        col(RefreshToken.revoked_at).is_(None),
    )
    .values(used_at=bindparam("now"))
    .returning(col(RefreshToken.id))
)
REVOKE_FAMILY = Statement(
    update(RefreshToken)
    .where(col(RefreshToken.family) == bindparam("family"), col(RefreshToken.revoked_at).is_(None))
    .values(revoked_at=bindparam("now"))
)
REVOKE_USER = Statement(
    update(RefreshToken)
    .where(
        col(RefreshToken.user_id) == bindparam("user_id"), col(RefreshToken.revoked_at).is_(None)
    )
    .values(revoked_at=bindparam("now"))
)
# A user's expired refresh tokens, forgotten when they sign in again (an expired token
# is refused whether it is still stored or not).
FORGET_EXPIRED = Statement(
    delete(RefreshToken).where(
        col(RefreshToken.user_id) == bindparam("user_id"),
        col(RefreshToken.expires_at) < bindparam("now"),
    )
)


@dataclass(frozen=True)
class Account:
    """A user as signing in needs them: with the hash, which no response carries."""

    id: int
    email: str
    password_hash: str
    is_active: bool
    is_superuser: bool
    scopes: list[str]

    @classmethod
    def of(cls, row: Row) -> "Account":
        return cls(
            id=row["id"],
            email=row["email"],
            password_hash=row["password_hash"],
            is_active=bool(row["is_active"]),
            is_superuser=bool(row["is_superuser"]),
            scopes=str(row["scopes"]).split(),
        )

    def read(self) -> UserRead:
        return UserRead(
            id=self.id,
            email=self.email,
            is_active=self.is_active,
            is_superuser=self.is_superuser,
            scopes=self.scopes,
        )


@dataclass(frozen=True)
class Session:
    """A refresh token as stored, and what it was issued for."""

    id: int
    family: str
    user_id: int
    scopes: list[str]
    expires_at: datetime
    used: bool
    revoked: bool


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """Stored moments are UTC; not every database keeps the offset."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Users:
    def __init__(self, database: Database, passwords: Passwords, settings: Settings) -> None:
        self.database = database
        self.passwords = passwords
        self.refresh_lifetime = timedelta(days=settings.refresh_token_days)

    async def by_email(self, email: str) -> Account | None:
        row = await self.database.fetch_one(USER_BY_EMAIL, key=email_key(email))
        return None if row is None else Account.of(row)

    async def by_id(self, user_id: int) -> Account | None:
        row = await self.database.fetch_one(USER_BY_ID, user_id=user_id)
        return None if row is None else Account.of(row)

    async def page(self, limit: int, offset: int) -> list[Account]:
        rows = await self.database.fetch_all(USERS_PAGE, limit=limit, offset=offset)
        return [Account.of(row) for row in rows]

    async def create(
        self, email: str, password: str, *, superuser: bool = False, scopes: Sequence[str] = ()
    ) -> Account | None:
        """The new user, or None if a user has this email (whatever its case)."""
        values = {
            "email": email,
            "email_key": email_key(email),
            "password_hash": await self.passwords.hash(password),
            "is_active": True,
            "is_superuser": superuser,
            "scopes": " ".join(scopes),
        }
        try:
            row = await self.database.fetch_one(inserting(frozenset(values)), **values)
        except ConstraintViolated:
            return None
        return None if row is None else Account.of(row)

    async def change(self, user_id: int, changes: dict[str, Any]) -> Account | None:
        """The user with `changes` made (None if there is no such user); a change of
        password or a deactivation revokes every refresh token they hold."""
        values = dict(changes)
        if "email" in values:
            values["email_key"] = email_key(values["email"])
        if "scopes" in values:
            values["scopes"] = " ".join(values["scopes"])
        if "password" in values:
            values["password_hash"] = await self.passwords.hash(values.pop("password"))
        if not values:
            return await self.by_id(user_id)
        statement = updating(frozenset(values))
        try:
            row = await self.database.fetch_one(statement, user_id=user_id, **values)
        except ConstraintViolated:
            raise EmailTaken from None
        if row is None:
            return None
        if "password_hash" in values or values.get("is_active") is False:
            await self.database.fetch_all(REVOKE_USER, user_id=user_id, now=now())
        return Account.of(row)

    async def rehashed(self, account: Account, new_hash: str) -> None:
        """A password hash brought up to the current hasher (bcrypt to Argon2, say)."""
        await self.database.fetch_all(NEW_PASSWORD_HASH, user_id=account.id, hash=new_hash)

    # Refresh tokens.

    async def start_session(
        self, account: Account, scopes: Sequence[str], family: str | None = None
    ) -> str:
        """A new refresh token (of a new sign-in, or the next of `family`)."""
        if family is None:
            await self.database.fetch_all(FORGET_EXPIRED, user_id=account.id, now=now())
        token = new_refresh_token()
        await self.database.fetch_all(
            NEW_TOKEN,
            token_hash=fingerprint(token),
            family=family or new_family(),
            user_id=account.id,
            scopes=" ".join(scopes),
            expires_at=now() + self.refresh_lifetime,
        )
        return token

    async def session(self, refresh_token: str) -> Session | None:
        row = await self.database.fetch_one(TOKEN_BY_HASH, token_hash=fingerprint(refresh_token))
        if row is None:
            return None
        return Session(
            id=row["id"],
            family=row["family"],
            user_id=row["user_id"],
            scopes=str(row["scopes"]).split(),
            expires_at=aware(row["expires_at"]),
            used=row["used_at"] is not None,
            revoked=row["revoked_at"] is not None,
        )

    async def use(self, session: Session) -> bool:
        """Whether this request is the one that used the token (a racing one was not)."""
        return await self.database.fetch_one(USE_TOKEN, token_id=session.id, now=now()) is not None

    async def end(self, family: str) -> None:
        await self.database.fetch_all(REVOKE_FAMILY, family=family, now=now())


@cache
def inserting(columns: frozenset[str]) -> Statement:
    """The INSERT of these columns, built once."""
    return Statement(insert(User).values(bound(columns)).returning(*USER_COLUMNS))


@cache
def updating(columns: frozenset[str]) -> Statement:
    """The UPDATE of these columns, built once."""
    statement = update(User).where(col(User.id) == bindparam("user_id")).values(bound(columns))
    return Statement(statement.returning(*USER_COLUMNS))


class EmailTaken(Exception):
    pass


async def ensure_first_superuser(users: Users, settings: Settings) -> None:
    """FIRST_SUPERUSER, created unless a user has that email: at every start, harmlessly.

    A database that cannot be reached yet only delays it to the next start.
    """
    try:
        if await users.by_email(settings.first_superuser) is not None:
            return
        password = settings.first_superuser_password.get_secret_value()
        created = await users.create(settings.first_superuser, password, superuser=True)
    except DatabaseUnavailable as error:
        logger.warning("First superuser not checked (%s); the next start will", error)
        return
    if created is not None:
        logger.info("First superuser %s created", settings.first_superuser)
