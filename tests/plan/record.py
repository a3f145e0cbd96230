#!/usr/bin/env python3
"""record.py - reads and damages a state directory's deploy record of a
Redis target (SPEC.md 7.7, "Manifest") from outside rlc, for tests: the one
record in DIR, or with RECORD_NS=NS set, the one of namespace NS.

  record.py check DIR MANIFEST   exit 0 when the one record in DIR holds:
      its index's check is the SHA-256 of the index's text; the manifest
      is the store's and the root over its buckets' state digests; each
      bucket's blob, where the index says in the pack it names, hashes to
      its sha, holds n tenants from first to last with n plan versions,
      and its "tenants" text hashes to its state digest; the buckets are
      cut by the rule of SPEC.md 5.2; and the buckets' entries are exactly
      the `name<TAB>version` lines on standard input (the store's
      NS:deploy:state); and every name of its "cases" (sorted, each once)
      is one of those entries.
  record.py buckets DIR          prints first, n, whether a plan bucket
      vouches for it, and the state digest, one bucket a line
  record.py tamper DIR NAME      changes the config version of NAME in its
      bucket's blob (the blob no longer hashes to its sha)
  record.py encoder DIR          edits the index's encoder, not its check
  record.py old DIR              replaces the record by one of the format
      before buckets (one file: the map, its plan versions)"""
import glob
import hashlib
import json
import os
import sys

canon = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
sha = lambda b: hashlib.sha256(b if isinstance(b, bytes) else b.encode()).hexdigest()


def cut(name, n):
    if n >= 1024:
        return True
    d = hashlib.sha256(name.encode()).digest()
    return ((d[0] << 8) | d[1]) % 128 == 0


def load(d):
    """The one record in d, or with RECORD_NS set, the one of that namespace."""
    found = []
    for p in glob.glob(d + "/manifest-*.json"):
        text = open(p, "rb").read()
        head = b'{"check":"'
        assert text.startswith(head) and text[74:84] == b'","index":', "not a bucketed record"
        idx = json.loads(text[84:-1])
        if os.environ.get("RECORD_NS", idx["namespace"]) == idx["namespace"]:
            found.append((p, text, idx))
    (one,) = found
    return one


def blobs(d, idx):
    pack = open(os.path.join(d, idx["pack"]), "rb").read()
    for b in idx["buckets"]:
        first, last, n, off, ln, s, plan, state = b
        yield b, pack[off:off + ln]


def check(d, manifest):
    p, text, idx = load(d)
    ok = text[10:74].decode() == sha(text[84:-1])
    ok &= idx["manifest"] == manifest == sha(canon([b[7] for b in idx["buckets"]]))
    entries = []
    for b, blob in blobs(d, idx):
        first, last, n, off, ln, s, plan, state = b
        ok &= sha(blob) == s
        j = json.loads(blob)
        names = sorted(j["tenants"], key=lambda x: x.encode())
        ok &= len(names) == n and names[0] == first and names[-1] == last
        ok &= len(j["plan_versions"]) in (0, n) and all(len(v) == 64 for v in j["plan_versions"])
        ok &= sha(canon(j["tenants"])) == state and canon(j) == blob.decode()
        entries.append([(k, j["tenants"][k]) for k in names])
    # The cut: every bucket's first name begins one, no other name does.
    prev = None
    for e in entries:
        for i, (k, _) in enumerate(e):
            c = True if prev is None and i == 0 else cut(k, prev if i == 0 else i)
            ok &= c == (i == 0)
        prev = len(e)
    live = dict(l.rstrip("\n").split("\t") for l in sys.stdin if "\t" in l)
    ok &= live == dict(kv for e in entries for kv in e)
    cases = idx.get("cases", [])
    ok &= cases == sorted(set(cases), key=lambda x: x.encode()) and all(c in live for c in cases)
    sys.exit(0 if ok else 1)


def main():
    cmd, d = sys.argv[1], sys.argv[2]
    if cmd == "check":
        check(d, sys.argv[3])
    p, text, idx = load(d)
    if cmd == "buckets":
        for b in idx["buckets"]:
            print(b[0], b[2], "plan" if b[6] else "-", b[7])
    elif cmd == "tamper":
        pp = os.path.join(d, idx["pack"])
        pack = bytearray(open(pp, "rb").read())
        for b, blob in blobs(d, idx):
            key = b'"%s":"' % sys.argv[3].encode()
            i = blob.find(key)
            if i >= 0:
                at = b[3] + i + len(key)
                pack[at] = ord("0") if pack[at] != ord("0") else ord("1")
                open(pp, "wb").write(pack)
                return
        sys.exit("no such tenant")
    elif cmd == "encoder":
        i = text.index(b'"encoder":"') + 11
        open(p, "wb").write(text[:i] + b"0" + text[i:])
    elif cmd == "old":
        m, pv = {}, []
        for b, blob in blobs(d, idx):
            j = json.loads(blob)
            m.update(j["tenants"])
            pv += j["plan_versions"]
        rec = {"buckets": [], "encoder": idx["encoder"], "manifest": sha(canon(m)),
               "namespace": idx["namespace"], "plan_versions": pv, "target": idx["target"],
               "tenants": m}
        rec["check"] = "0" * 64
        open(p, "w").write(canon(rec))


main()
