"""Password hashes: Argon2 through pwdlib, computed in the thread pool.

Hashes made with bcrypt (by an earlier release, or imported) are still verified,
and replaced by an Argon2 one at the next sign-in. A sign-in for an address no
user has checks a password against a hash all the same, so that it takes as long
as a wrong password: the time of an answer tells nothing about who has an account.
"""

import ctypes
import platform
from functools import cached_property

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.bcrypt import BcryptHasher
from starlette.concurrency import run_in_threadpool

from ..core.config import Settings

# mallopt(3): blocks at least this large are mapped on their own, and unmapped when freed.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 128 * 1024


def return_large_blocks_to_the_system() -> None:
    """Each hash takes PASSWORD_HASH_MEMORY_KIB (19 MiB) in a thread-pool thread. glibc
    raises its threshold for mapping a block on its own to the largest block freed so
    far, so after the first hash it serves the next ones from each thread's arena, and
    keeps them: every thread that ever hashed would hold 19 MiB for good (four sign-ins
    at once, 76 MiB more per worker). A fixed threshold returns each one when freed."""
    if platform.libc_ver()[0] == "glibc":
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


class Passwords:
    def __init__(self, settings: Settings) -> None:
        return_large_blocks_to_the_system()
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
