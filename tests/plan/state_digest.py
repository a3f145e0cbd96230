#!/usr/bin/env python3
"""state_digest.py - the state digest of SPEC.md 7.6, computed outside rlc.

Reads a tenant -> config version map as `name version` lines on standard
input (redis-cli's HGETALL of NS:deploy:state through `paste - -`), cuts it
into buckets by the rule of SPEC.md 5.2 (a name whose SHA-256 begins, as a
16-bit big-endian number, with a multiple of 128 begins a bucket; a bucket
closes at 1024), and prints the digest: the SHA-256 of the canonical JSON
array of the buckets' digests, each the SHA-256 of the canonical JSON object
of its entries.  With -b it prints each bucket's first name, count and
digest instead, one a line."""
import hashlib
import json
import sys


def canon(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


def cut(name, n):
    if n >= 1024:
        return True
    d = hashlib.sha256(name.encode()).digest()
    return ((d[0] << 8) | d[1]) % 128 == 0


def buckets(m):
    out = []
    for name in sorted(m, key=lambda s: s.encode()):
        if not out or cut(name, len(out[-1])):
            out.append([])
        out[-1].append(name)
    return out


def main():
    m = {}
    for line in sys.stdin:
        parts = line.rstrip("\n").split("\t" if "\t" in line else " ")
        if len(parts) == 2:
            m[parts[0]] = parts[1]
    bs = buckets(m)
    ds = [sha(canon({n: m[n] for n in b})) for b in bs]
    if sys.argv[1:] == ["-b"]:
        for b, d in zip(bs, ds):
            print(b[0], len(b), d)
    else:
        print(sha(canon(ds)))


main()
