#!/usr/bin/env python3
"""Independent check of riskguard's ledger hash chains and digest (test/shell/ledger_tamper.sh).

Reads JSON on stdin: {"transfers": [...], "accounts": [...]} as exported by the test,
checks every stored hash against its stored predecessor with BLAKE2b-256 (PyNaCl, i.e. libsodium's
crypto_generichash, unkeyed) from the canonical encoding documented in src/ledger_hash.h,
and prints "<number of stored hashes that differ> <digest hex>".
"""
import json
import struct
import sys

from nacl.hash import blake2b
from nacl.encoding import RawEncoder

ZERO = bytes(32)
PHASE = {"posted": 0, "hold": 1, "post": 2, "void": 3}


def i64(v):
    return struct.pack(">q", v)


def text(v):
    if v is None:
        return b"\x00"
    b = v.encode("utf-8")
    return b"\x01" + i64(len(b)) + b


def chain_hash(prev, side, seq, t):
    msg = (b"riskguard.ledger.v1" + (prev or ZERO) + side.encode() + i64(seq)
           + i64(t["id"]) + i64(t["debit_account"]) + i64(t["credit_account"]) + i64(t["amount"])
           + bytes([PHASE[t["phase"]]]) + i64(t["pending_id"] or 0) + i64(t["created_at_us"])
           + text(t["kind"]) + text(t["reference"]) + text(t["idempotency_key"]) + text(t["created_by"]))
    return blake2b(msg, digest_size=32, encoder=RawEncoder)


def main():
    data = json.load(sys.stdin)
    entries = {}
    for t in data["transfers"]:
        entries.setdefault(t["debit_account"], []).append(("D", t["debit_seq"], t["debit_hash"], t))
        entries.setdefault(t["credit_account"], []).append(("C", t["credit_seq"], t["credit_hash"], t))
    bad = 0
    for acc, es in entries.items():
        prev = None
        for side, seq, stored, t in sorted(es, key=lambda e: e[1]):
            h = chain_hash(prev, side, seq, t)
            if h.hex() != stored:
                bad += 1
            prev = bytes.fromhex(stored) if stored else h
    d = b"riskguard.digest.v1"
    for a in sorted(data["accounts"], key=lambda a: a["id"]):
        d += i64(a["id"]) + i64(a["head_seq"]) + (bytes.fromhex(a["head_hash"]) if a["head_hash"] else ZERO)
    print(bad, blake2b(d, digest_size=32, encoder=RawEncoder).hex())


if __name__ == "__main__":
    main()
