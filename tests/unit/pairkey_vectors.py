#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Test vectors for common/pairkey.c, computed outside the project's code.

X25519 comes from python3-cryptography, HKDF-SHA256 (RFC 5869) from the
standard library's hmac and hashlib. Writes tests/unit/pairkey_vectors.h,
which test_pairkey.c compares the C code against:

    python3 tests/unit/pairkey_vectors.py > tests/unit/pairkey_vectors.h
"""
import hashlib
import hmac
import struct

from cryptography.hazmat.primitives.asymmetric.x25519 import (
    X25519PrivateKey, X25519PublicKey)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

LABEL = b"vxsec pair key v2"


def hkdf_sha256(salt, ikm, info, length):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()
    out, t, counter = b"", b"", 1
    while len(out) < length:
        t = hmac.new(prk, t + info + bytes([counter]), hashlib.sha256).digest()
        out += t
        counter += 1
    return out[:length]


def pub_of(priv):
    key = X25519PrivateKey.from_private_bytes(priv)
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def shared_of(priv, peer_pub):
    key = X25519PrivateKey.from_private_bytes(priv)
    return key.exchange(X25519PublicKey.from_public_bytes(peer_pub))


def end(index, incarnation, pub):
    return struct.pack(">IQ", index, incarnation) + pub


def pair_key(shared, epoch, g, frm, to):
    info = LABEL + struct.pack(">I", g) + end(*frm) + end(*to)
    assert len(info) == 109
    return hkdf_sha256(epoch, shared, info, 36)


def c_bytes(b):
    return "{ " + ", ".join("0x%02x" % x for x in b) + " }"


# (priv a, priv b, epoch, g, (index a, incarnation a), (index b, inc b))
CASES = [
    (bytes(range(1, 33)), bytes(range(101, 133)), bytes([0x5a] * 32), 1,
     (1, 1), (2, 1)),
    (hashlib.sha256(b"node a").digest(), hashlib.sha256(b"node b").digest(),
     hashlib.sha256(b"epoch 7").digest(), 7, (3, 0x0102030405060708),
     (0xffffff, 9)),
    (hashlib.sha256(b"node c").digest(), hashlib.sha256(b"node d").digest(),
     bytes(32), 0xffffffff, (77, 1), (12, 4)),
]

print("/* SPDX-License-Identifier: MIT */")
print("/* clang-format off */")
print("/* Made by tests/unit/pairkey_vectors.py (python3-cryptography X25519,")
print(" * hmac/hashlib HKDF-SHA256); do not edit. */")
print("struct pairkey_vector {")
print("\tuint8_t priv_a[32], priv_b[32], pub_a[32], pub_b[32], shared[32];")
print("\tuint8_t epoch[32];")
print("\tuint32_t g, index_a, index_b;")
print("\tuint64_t inc_a, inc_b;")
print("\tuint8_t k_ab[36], k_ba[36];")
print("};")
print("static const struct pairkey_vector pairkey_vectors[] = {")
for pa, pb, epoch, g, (ia, na), (ib, nb) in CASES:
    puba, pubb = pub_of(pa), pub_of(pb)
    s = shared_of(pa, pubb)
    assert s == shared_of(pb, puba)
    kab = pair_key(s, epoch, g, (ia, na, puba), (ib, nb, pubb))
    kba = pair_key(s, epoch, g, (ib, nb, pubb), (ia, na, puba))
    print("\t{")
    for name, val in (("priv_a", pa), ("priv_b", pb), ("pub_a", puba),
                      ("pub_b", pubb), ("shared", s), ("epoch", epoch)):
        print("\t\t.%s = %s," % (name, c_bytes(val)))
    print("\t\t.g = %#x, .index_a = %#x, .index_b = %#x," % (g, ia, ib))
    print("\t\t.inc_a = %#xull, .inc_b = %#xull," % (na, nb))
    print("\t\t.k_ab = %s," % c_bytes(kab))
    print("\t\t.k_ba = %s," % c_bytes(kba))
    print("\t},")
print("};")
