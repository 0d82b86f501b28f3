#!/usr/bin/env python3
"""Reference values for riskguard.audit_hash, computed with Python's hashlib.

The encoding (README, "Control audit log"): BLAKE2b-256 over
  b"riskguard audit v1" || prev (32 bytes; zeros when NULL) || seq (8, big-endian)
  || at (8, big-endian microseconds since 2000-01-01 UTC)
  || for actor, action, target, payload text: len (4, big-endian) || bytes,
     len 0xFFFFFFFF for NULL.
Run: python3 test/reference/audit_hash.py
"""
import hashlib
import struct
from datetime import datetime, timezone

EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def field(b):
    if b is None:
        return struct.pack(">I", 0xFFFFFFFF)
    return struct.pack(">I", len(b)) + b


def audit_hash(prev, seq, at, actor, action, target, payload):
    h = hashlib.blake2b(digest_size=32)
    h.update(b"riskguard audit v1")
    h.update(prev if prev is not None else bytes(32))
    h.update(struct.pack(">q", seq))
    delta = at - EPOCH
    micros = (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds
    h.update(struct.pack(">q", micros))
    for v in (actor, action, target, payload):
        h.update(field(None if v is None else v.encode()))
    return h.digest()


first = audit_hash(None, 1, datetime(2026, 1, 1, tzinfo=timezone.utc),
                   "alice", "propose", "limit_rule", '{"threshold": 20000000}')
second = audit_hash(first, 2, datetime(2026, 1, 1, 0, 0, 1, 500000, tzinfo=timezone.utc),
                    "bob", "approve", None, None)
print("first ", first.hex())
print("second", second.hex())
