"""Deterministic, seed-driven pseudo-random helpers: every number in the estate comes from these."""

from __future__ import annotations

import hashlib
import math
import uuid

_MASK = (1 << 64) - 1


def mix64(value: int) -> int:
    """Scramble a 64-bit integer (splitmix64 finaliser): cheap enough for per-hour metrics."""
    value = (value + 0x9E3779B97F4A7C15) & _MASK
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _MASK
    return value ^ (value >> 31)


def int_hash(*parts: int) -> int:
    """A 64-bit hash of integers, order-sensitive: the parts are folded, then scrambled twice."""
    acc = 0x2545F4914F6CDD1D
    for part in parts:
        acc = (acc * 0x100000001B3 + (part & _MASK)) & _MASK
    return mix64(mix64(acc))


def unit(*parts: int) -> float:
    """A number in [0, 1) derived from integers only (the hot path for time series)."""
    return (int_hash(*parts) >> 11) / float(1 << 53)


def normal(*parts: int) -> float:
    """A standard normal deviate from integers (Box-Muller on the two halves of one hash)."""
    value = int_hash(*parts)
    u1 = max(((value >> 32) + 0.5) / float(1 << 32), 1e-12)
    u2 = (value & 0xFFFFFFFF) / float(1 << 32)
    return math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)


def text_digest(*parts: object) -> bytes:
    """A digest of arbitrary printable parts, for identifiers that must look like the real ones."""
    joined = "\x1f".join(str(part) for part in parts)
    return hashlib.blake2b(joined.encode(), digest_size=32).digest()


def hex_id(length: int, *parts: object) -> str:
    """Lowercase hex identifier of the given length (ServiceNow sys_id is 32, a git SHA is 40)."""
    digest = text_digest(*parts)
    while len(digest) * 2 < length:
        digest += text_digest(digest.hex())
    return digest.hex()[:length]


def sys_id(*parts: object) -> str:
    """A ServiceNow sys_id: 32 lowercase hex characters."""
    return hex_id(32, "sys_id", *parts)


def git_sha(*parts: object) -> str:
    """A git commit SHA: 40 lowercase hex characters."""
    return hex_id(40, "sha", *parts)


def dynatrace_entity_id(entity_type: str, *parts: object) -> str:
    """A Dynatrace entity id such as SERVICE-7A96961077A1AED2 (16 uppercase hex)."""
    return f"{entity_type}-{hex_id(16, entity_type, *parts).upper()}"


def stable_uuid(*parts: object) -> str:
    """A UUID (version 4 layout) derived from the parts."""
    return str(uuid.UUID(bytes=text_digest("uuid", *parts)[:16], version=4))


def seed_of(*parts: object) -> int:
    """A 64-bit integer seed derived from arbitrary parts (for random.Random)."""
    return int.from_bytes(text_digest("seed", *parts)[:8], "big")
