# seal.py - a plan sealed as SPEC.md 5.2 defines it, written outside rlc:
# what anyone who can edit a plan can do, and the proof that the rule is
# reproducible.  Tests import it (sys.path gets tests/plan):
#
#   canon(v)        the canonical JSON text of v
#   seal(d)         the plan d's canonical text, one line with its newline,
#                   with tenant_index (its buckets kept when they still
#                   count the tenants, else one bucket) and plan_digest
#                   recomputed; d is left as it was
#   digest(d)       plan_digest as rlc computes it (no plan_digest, no
#                   tenants; the index stands for them)
#   buckets_ok(d)   whether every bucket of d's index hashes to its sha256
import hashlib
import json
import re


def canon(v):
    s = json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m.group(1).upper(), s)


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


def digest(d):
    return sha(canon({k: v for k, v in d.items() if k not in ("plan_digest", "tenants")}))


def _runs(d):
    ts = d.get("tenants", [])
    ns = [b["n"] for b in d.get("tenant_index", [])]
    if sum(ns) != len(ts) or any(n < 1 for n in ns):
        ns = [len(ts)] if ts else []
    at, out, first = 1, [], 0
    for n in ns:
        text = ",".join(canon(t) for t in ts[first:first + n])
        out.append({"at": at, "len": len(text), "n": n, "sha256": sha("[" + text + "]")})
        at += len(text) + 1
        first += n
    return out


def buckets_ok(d):
    return d.get("tenant_index") == _runs(d)


def seal(d):
    d = dict(d)
    d["tenant_index"] = _runs(d)
    d["plan_digest"] = digest(d)
    return canon(d) + "\n"
