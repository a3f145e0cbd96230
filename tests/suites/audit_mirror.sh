#!/bin/sh
# audit_mirror.sh - the audit log's copies in the store (SPEC 7.6): every
# record the executor appends while a store is reachable is also added to
# the stream NS:audit, and NS:audit:head holds the log's head.  After two
# deploys and a rollback the stream's records are byte for byte the log's
# lines, and the anchored head is the last record's seq and hash.
. "$ROOT/tests/lib.sh"
plan 7

"$RLC" compile "$ROOT/examples/saas.rlp" -o "$T/A.json" -q || bail_out "compile" "saas.rlp"
sed 's/limit 9000\/1m burst 1500/limit 9500\/1m burst 1500/' "$ROOT/examples/saas.rlp" > "$T/b.rlp"
"$RLC" compile "$T/b.rlp" -o "$T/B.json" -q || bail_out "compile B" "b.rlp"
PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT" RLC_STATE_DIR="$T/state"
# saas.rlp also has etcd and http targets: only the Redis one here.
export RLC_ONLY=primary
"$RLC" run -q "$T/A.json" && "$RLC" run -q "$T/B.json" && "$RLC" rollback -q > /dev/null 2>&1
# Within one second: the rollback must pick B's checkpoint, not A's (run ids
# once had whole seconds, and the newest checkpoint was a coin toss).
check "two deploys and a rollback within a second" [ $? -eq 0 ]

# The stream's "record" fields in order, one per line.
python3 - "$PORT" > "$T/stream" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1]))); f = s.makefile("rb")
def reply():
    l = f.readline()[:-2]; t, r = l[:1], l[1:]
    if t in (b"+", b"-"): return r
    if t == b":": return int(r)
    if t == b"$": n = int(r); return None if n < 0 else f.read(n + 2)[:-2]
    if t == b"*": n = int(r); return None if n < 0 else [reply() for _ in range(n)]
args = [b"XRANGE", b"saas:audit", b"-", b"+"]
s.sendall(b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args))
for _id, fields in reply():
    d = dict(zip(fields[0::2], fields[1::2]))
    sys.stdout.buffer.write(d[b"record"] + b"\n")
PY
n=$(wc -l < "$T/stream")
echo "# $n records in the stream, $(wc -l < "$T/state/audit.jsonl") in the log"
check "the stream holds a record per audit line (3)" [ "$n" -eq 3 ]
check "the stream's records are the log's lines, byte for byte" cmp "$T/stream" "$T/state/audit.jsonl"
check "NS:audit:head is the log's head" [ "$(redis-cli -p "$PORT" get saas:audit:head)" = "$(cat "$T/state/audit.head")" ]
last=$(tail -1 "$T/state/audit.jsonl" | python3 -c 'import json,sys; r=json.load(sys.stdin); print(r["seq"], r["hash"])')
check "the head is the last record's seq and hash" [ "$(cat "$T/state/audit.head")" = "$last" ]

# A record edited in the log no longer matches its copy in the stream, and
# verify says which record.
sed -i '2s/"committed"/"rolled_back"/' "$T/state/audit.jsonl"
"$RLC" audit verify > /dev/null 2> "$T/err"; r=$?
check "an edited record fails verify (exit 7, RLC3171)" eval '[ $r -eq 7 ] && grep -q RLC3171 "$T/err"'
check "the stream still has the original record" sh -c "! cmp -s '$T/stream' '$T/state/audit.jsonl'"
