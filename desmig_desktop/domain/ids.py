"""Record ids (UUIDv7, made on the laptop) and timestamps."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid


def new_id() -> str:
    """A UUIDv7 string: time-ordered, so new rows append to the primary-key index."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rand >> 68) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand & ((1 << 62) - 1)
    return str(uuid.UUID(int=value))


def utc_now() -> str:
    """Current UTC time as ISO-8601 with a Z suffix (informational only, never used for ordering)."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
