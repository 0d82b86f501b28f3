#!/usr/bin/python3
"""Independent client for riskguard's sealed columns.

Opens an envelope and computes a blind index from the root key file alone, with
another implementation of the primitives: Python's hashlib BLAKE2b for the key
derivation and the blind index, PyNaCl (libsodium bindings) only for
XChaCha20-Poly1305.  It follows README.md, section "Encryption", byte for byte.

  crypto.py open  KEYFILE SCHEMA TABLE COLUMN STORED PK...   -> the plaintext (text, or bytea hex)
  crypto.py bidx  KEYFILE KEY_ID BITS VALUE                  -> the blind index, hex
  crypto.py seal  KEYFILE KEY_ID SCHEMA TABLE COLUMN PLAINTEXT PK...  -> base64 envelope
  crypto.py seal-rows KEYFILE KEY_ID SCHEMA TABLE COLUMN < PK<TAB>PLAINTEXT lines
                                                       -> PK<TAB>base64 envelope lines
  crypto.py check KEYFILE SCHEMA TABLE COLUMN < PK<TAB>PLAINTEXT<TAB>STORED lines
                                                       -> "checked N, wrong M"

STORED is the column's value as the database holds it: base64 for text columns,
or \\x-prefixed hex for bytea columns; a PLAINTEXT of a bytea column is \\x-prefixed
hex too.  check opens every value (one-column primary keys) and seals its plaintext
again with PyNaCl under the value's own key id and nonce: a value is right when it
opens to the plaintext given and the two envelopes are the same bytes.
"""
import base64
import hashlib
import os
import struct
import sys

from nacl.bindings import (crypto_aead_xchacha20poly1305_ietf_decrypt,
                           crypto_aead_xchacha20poly1305_ietf_encrypt)

VERSION = 1


def root_key(path):
    with open(path) as f:
        key = bytes.fromhex(f.read().strip())
    assert len(key) == 32
    return key


def kdf(root, key_id, context):
    """libsodium's crypto_kdf_derive_from_key: BLAKE2b-256 keyed with the root key,
    salt = subkey id as 8 little-endian bytes then 8 zero bytes, personal = the
    8-byte context then 8 zero bytes, empty message."""
    assert len(context) == 8
    return hashlib.blake2b(b"", digest_size=32, key=root,
                           salt=struct.pack("<Q", key_id) + bytes(8),
                           person=context + bytes(8)).digest()


def field(b):
    return struct.pack(">I", len(b)) + b


def associated_data(key_id, schema, table, column, pk):
    ad = bytes([VERSION]) + struct.pack(">I", key_id)
    ad += field(schema.encode()) + field(table.encode()) + field(column.encode())
    ad += struct.pack(">I", len(pk))
    for v in pk:
        ad += field(v.encode())
    return ad


def envelope_bytes(stored):
    if stored.startswith("\\x"):
        return bytes.fromhex(stored[2:])
    return base64.b64decode(stored, validate=True)


def open_value(root, schema, table, column, stored, pk):
    env = envelope_bytes(stored)
    if len(env) < 45 or env[0] != VERSION:
        raise ValueError("not an envelope")
    key_id = struct.unpack(">I", env[1:5])[0]
    nonce = env[5:29]
    key = kdf(root, key_id, b"rgcolkey")
    ad = associated_data(key_id, schema, table, column, pk)
    return crypto_aead_xchacha20poly1305_ietf_decrypt(env[29:], ad, nonce, key)


def envelope(key, key_id, schema, table, column, plaintext, pk, nonce):
    ad = associated_data(key_id, schema, table, column, pk)
    ct = crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, ad, nonce, key)
    return bytes([VERSION]) + struct.pack(">I", key_id) + nonce + ct


def seal_value(root, key_id, schema, table, column, plaintext, pk):
    key = kdf(root, key_id, b"rgcolkey")
    env = envelope(key, key_id, schema, table, column, plaintext, pk, os.urandom(24))
    return base64.b64encode(env).decode()


def plaintext_bytes(s):
    return bytes.fromhex(s[2:]) if s.startswith("\\x") else s.encode()


def check_values(root, schema, table, column, lines):
    """(checked, wrong) over PK<TAB>PLAINTEXT<TAB>STORED lines."""
    keys = {}
    checked = wrong = 0
    for line in lines:
        pk, plaintext, stored = line.rstrip("\n").split("\t")
        env = envelope_bytes(stored)
        key_id = struct.unpack(">I", env[1:5])[0]
        if key_id not in keys:
            keys[key_id] = kdf(root, key_id, b"rgcolkey")
        checked += 1
        try:
            opened = open_value(root, schema, table, column, stored, [pk])
        except Exception:
            wrong += 1
            continue
        again = envelope(keys[key_id], key_id, schema, table, column, opened, [pk], env[5:29])
        if opened != plaintext_bytes(plaintext) or again != env:
            wrong += 1
    return checked, wrong


def blind_index(root, key_id, bits, value):
    key = kdf(root, key_id, b"rgbidxky")
    full = hashlib.blake2b(value, digest_size=32, key=key).digest()
    n = (bits + 7) // 8
    out = bytearray(full[:n])
    if bits % 8:
        out[-1] &= (0xFF << (8 - bits % 8)) & 0xFF
    return bytes(out)


def main(argv):
    cmd = argv[1]
    root = root_key(argv[2])
    if cmd == "open":
        schema, table, column, stored = argv[3:7]
        pt = open_value(root, schema, table, column, stored, argv[7:])
        # bytea plaintexts are printed as PostgreSQL prints bytea
        sys.stdout.write("\\x" + pt.hex() if stored.startswith("\\x") else pt.decode())
    elif cmd == "bidx":
        print(blind_index(root, int(argv[3]), int(argv[4]), argv[5].encode()).hex())
    elif cmd == "seal":
        key_id = int(argv[3])
        schema, table, column, plaintext = argv[4:8]
        print(seal_value(root, key_id, schema, table, column, plaintext.encode(), argv[8:]))
    elif cmd == "seal-rows":
        key_id = int(argv[3])
        schema, table, column = argv[4:7]
        for line in sys.stdin:
            pk, plaintext = line.rstrip("\n").split("\t")
            print(pk + "\t" + seal_value(root, key_id, schema, table, column,
                                         plaintext_bytes(plaintext), [pk]))
    elif cmd == "check":
        schema, table, column = argv[3:6]
        print("checked %d, wrong %d" % check_values(root, schema, table, column, sys.stdin))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
