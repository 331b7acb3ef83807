"""argon2id password hashing (production: argon2-cffi's RFC 9106 low-memory defaults)."""

from __future__ import annotations

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


def make_hasher(fast: bool) -> PasswordHasher:
    """The hasher for this server; ``fast`` (tests only) makes hashing ~1000x cheaper."""
    if fast:
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1, type=Type.ID)
    return PasswordHasher(type=Type.ID)


class Passwords:
    """Hash and verify passwords; verifying an unknown user costs the same as a known one."""

    def __init__(self, fast: bool = False) -> None:
        self._hasher = make_hasher(fast)
        # Verified against when the username does not exist, so response time does not tell
        # an attacker which usernames are real.
        self._dummy_hash = self._hasher.hash("desmig-dummy-password")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._dummy_hash, password) and stored_hash is not None
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
