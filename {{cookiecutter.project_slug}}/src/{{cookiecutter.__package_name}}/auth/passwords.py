"""Password hashes: Argon2 through pwdlib, computed in the thread pool.

Hashes made with bcrypt (by an earlier release, or imported) are still verified,
and replaced by an Argon2 one at the next sign-in. A sign-in for an address no
user has checks a password against a hash all the same, so that it takes as long
as a wrong password: the time of an answer tells nothing about who has an account.
"""

from functools import cached_property

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher
from starlette.concurrency import run_in_threadpool

from ..core.config import Settings


class Passwords:
    def __init__(self, settings: Settings) -> None:
        argon2 = Argon2Hasher(
            memory_cost=settings.password_hash_memory_kib,
            time_cost=settings.password_hash_iterations,
            parallelism=1,
        )
        self.hasher = PasswordHash((argon2, BcryptHasher()))

    async def hash(self, password: str) -> str:
        return await run_in_threadpool(self.hasher.hash, password)

    async def verify(self, password: str, stored: str | None) -> tuple[bool, str | None]:
        """Whether `password` matches `stored`, and the hash to store instead, if any.

        With no stored hash (no such user) it verifies against one of its own, and
        says no.
        """
        if stored is None:
            await run_in_threadpool(self.hasher.verify_and_update, password, self.stand_in)
            return False, None
        return await run_in_threadpool(self.hasher.verify_and_update, password, stored)

    @cached_property
    def stand_in(self) -> str:
        """A hash with this hasher's cost, for sign-ins of addresses no user has."""
        return self.hasher.hash("a password nobody has")
