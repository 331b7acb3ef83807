"""Per-device bearer tokens: 32 random bytes, stored only as their SHA-256.

A token has 256 bits of entropy, so a fast hash is enough to make a stolen database useless
for impersonation; argon2's deliberate slowness is for low-entropy passwords.
"""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
