"""Password hashing: what it leaves behind in a worker."""

import asyncio
import platform

import pytest

from {{ cookiecutter.__package_name }}.auth.passwords import Passwords
from {{ cookiecutter.__package_name }}.core.config import Settings

MIB = 1024 * 1024


def resident() -> int:
    """The process's resident memory, in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator on Linux")
async def test_hashing_on_many_threads_keeps_none_of_its_memory(settings: Settings) -> None:
    """Production's memory cost (19 MiB a hash), four sign-ins at once, three times."""
    production_cost = settings.model_copy(
        update={"password_hash_memory_kib": 19_456, "password_hash_iterations": 1}
    )
    passwords = Passwords(production_cost)
    before = resident()

    for _ in range(3):
        await asyncio.gather(*(passwords.hash("a password") for _ in range(4)))

    assert resident() - before < 19 * MIB, f"{(resident() - before) / MIB:.0f} MiB kept"
