#!/bin/sh
# apply.sh - the deploy benchmark of `make bench` (issue 5, "Speed"):
#
#  1. generates a BENCH_TENANTS-tenant policy (gen_policy, default 100 000)
#     and compiles it, then the same policy with one tenant changed (a group
#     added to tenant t0NNNNN in the middle), and prints compile time and RSS;
#  2. starts a throwaway redis-server (127.0.0.1, free port, temp dir, no
#     persistence, pinned to CPU 0; rlc and redis-cli run on CPU 1) and
#     applies the plan with `rlc run --json`: keys in the namespace, wall
#     time, keys/s, and the executor's own phase times;
#  3. dumps exactly those keys (values as rlc wrote them) into a RESP file
#     (untimed), loads it with `redis-cli --pipe` into a second fresh
#     server, and prints keys/s for both and the ratio (target >= 0.8);
#  4. re-applies the one-tenant change to the first server: keys written,
#     pointers read, commands the server ran (INFO commandstats), wall time
#     and the ratio full/one (target: O(changed) keys, >= 100x faster), in
#     wall time and in CPU (user+sys), which a busy machine disturbs less;
#     the re-apply's figures in the ratios are the medians of seven runs,
#     each changing that one tenant back or forth.
#
# Every figure goes to the `make bench` report too (bench_record, lib.sh).
#
# Figures, not a test: it exits 0 whatever it measures, non-zero only when it
# could not measure.  BENCH_TENANTS=N for a quicker run (the issue's figure is
# for 100 000); BENCH_KEEP=1 keeps $BUILD/bench-apply.
set -u
BUILD=${BUILD:-build}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RLC="$ROOT/$BUILD/rlc"
GEN="$ROOT/$BUILD/gen_policy"
N=${BENCH_TENANTS:-100000}
OUT="$ROOT/$BUILD/bench-apply"
. "$ROOT/tests/bench/lib.sh"
for f in "$RLC" "$GEN"; do
    [ -x "$f" ] || { echo "bench: $f missing (run make bench)" >&2; exit 2; }
done
command -v redis-server >/dev/null && command -v redis-cli >/dev/null ||
    { echo "bench: redis-server/redis-cli missing (make deps)" >&2; exit 2; }
srv="" cli=""
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
    srv="taskset -c 0" cli="taskset -c 1"
fi
rm -rf "$OUT"
mkdir -p "$OUT"
PIDS=""
cleanup() {
    for p in $PIDS; do kill "$p" 2>/dev/null; done
    for p in $PIDS; do wait "$p" 2>/dev/null; done
    [ -n "${BENCH_KEEP:-}" ] || rm -rf "$OUT"
}
trap cleanup EXIT
trap 'exit 2' INT TERM
fail() { echo "bench: $*" >&2; exit 2; }
now_ns() { date +%s%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e9 }'; }
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
# start_server DIR: a fresh server, its port in $PORT, its pid added to PIDS.
start_server() {
    mkdir -p "$1"
    PORT=$(free_port)
    $srv redis-server --port "$PORT" --bind 127.0.0.1 --dir "$1" --save '' --appendonly no \
        --daemonize no --logfile "$1/log" &
    PIDS="$PIDS $!"
    i=0
    until redis-cli -p "$PORT" ping >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -gt 200 ] && fail "redis-server did not start"
        sleep 0.05
    done
}
# json FILE EXPR: a value from rlc's --json summary (EXPR indexes d).
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# server_cpu PORT: the server's user+sys CPU seconds so far.
server_cpu() {
    redis-cli -p "$1" info cpu | tr -d '\r' |
        awk -F: '/^used_cpu_(user|sys):/ { s += $2 } END { printf "%.3f", s }'
}
cmdstats() {
    redis-cli -p "$1" info commandstats | tr -d '\r' |
        sed -n 's/^cmdstat_\([a-z|]*\):calls=\([0-9]*\),.*/\1 \2/p' | sort
}

echo "# rlc run: apply a $N-tenant plan ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
"$GEN" -n "$N" -o "$OUT/p" >/dev/null || fail "gen_policy failed"
start=$(now_ns)
/usr/bin/time -f '%M' -o "$OUT/time" "$RLC" compile -q "$OUT/p/main.rlp" -o "$OUT/plan1.json" ||
    fail "rlc compile failed"
end=$(now_ns)
printf 'compile       %8s s  peak RSS %6.0f MB  plan %s MB\n' "$(secs "$start" "$end")" \
    "$(awk '{ print $1 / 1024 }' "$OUT/time" | tail -1)" \
    "$(awk -v b="$(wc -c < "$OUT/plan1.json")" 'BEGIN { printf "%.0f", b / 1048576 }')"
python3 - "$OUT/plan1.json" "$OUT/per_tenant" <<'PY' || fail "reading the plan's index failed"
import json, sys
d = json.load(open(sys.argv[1])); n = len(d["tenants"]); ix = d["tenant_index"]
size = len(open(sys.argv[1], "rb").read())
ten = sum(b["len"] for b in ix) + max(len(ix) - 1, 0)
head = size - ten
print("  plan bytes: %d per tenant (tenants %d B of %d), the rest %d KB (index %d KB, %d buckets)"
      % (ten // max(n, 1), ten, size, head // 1024,
         len(json.dumps(ix, separators=(",", ":"))) // 1024, len(ix)))
open(sys.argv[2], "w").write("%d\n" % (ten // max(n, 1)))
PY
# One tenant changed: a group added to the tenant in the middle.
MID=$(printf 't%06d' $((N / 2)))
f=$(grep -l "^tenant \"$MID\" " "$OUT"/p/tenants-*.rlp) || fail "tenant $MID not found"
sed -i "s/^tenant \"$MID\" .*{\$/&\n  group \"bench-changed\" {\n    limit 1\/s\n  }/" "$f"
"$RLC" compile -q "$OUT/p/main.rlp" -o "$OUT/plan2.json" || fail "rlc compile (one tenant changed) failed"
rm -rf "$OUT/p"

# --- full apply --------------------------------------------------------------
start_server "$OUT/a"
PA=$PORT
export RLC_REDIS_URL="redis://127.0.0.1:$PA"
SA0=$(server_cpu "$PA")
start=$(now_ns)
$cli /usr/bin/time -f '%U %S' -o "$OUT/cpu1" \
    "$RLC" run -q --json --state-dir "$OUT/state" "$OUT/plan1.json" > "$OUT/run1.json"
rc=$?
end=$(now_ns)
[ $rc -eq 0 ] || { cat "$OUT/run1.json" >&2; fail "rlc run exited $rc"; }
T1=$(secs "$start" "$end")
SA1=$(server_cpu "$PA")

# The keys rlc wrote, as RESP (untimed): every key of the namespace but the
# executor's own lock, marker and audit keys.
python3 - "$PA" bench "$OUT/load.resp" > "$OUT/nkeys" <<'PY' || fail "dumping the keys failed"
import socket, sys
port, ns, out = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
s = socket.create_connection(("127.0.0.1", port)); f = s.makefile("rb", 1 << 20)
def enc(*a):
    return b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a)
def reply():
    l = f.readline()[:-2]; t, r = l[:1], l[1:]
    if t in (b"+", b"-"): return r
    if t == b":": return int(r)
    if t == b"$": n = int(r); return None if n < 0 else f.read(n + 2)[:-2]
    if t == b"*": n = int(r); return None if n < 0 else [reply() for _ in range(n)]
def pipeline(cmds):
    s.sendall(b"".join(enc(*c) for c in cmds)); return [reply() for _ in cmds]
own = {ns + b":deploy:state", ns + b":deploy:plan", ns + b":deploy:manifest"}
keys, cur = [], b"0"
while True:
    cur, ks = pipeline([(b"SCAN", cur, b"COUNT", b"10000")])[0]
    keys += [k for k in ks if k.startswith(b"{" + ns + b":") or k in own]
    if cur == b"0": break
n = 0
with open(out, "wb") as o:
    for i in range(0, len(keys), 1000):
        batch = keys[i:i + 1000]
        types = pipeline([(b"TYPE", k) for k in batch])
        vals = pipeline([(b"HGETALL", k) if t == b"hash" else (b"GET", k)
                         for k, t in zip(batch, types)])
        for k, t, v in zip(batch, types, vals):
            if t == b"hash":
                o.write(enc(b"HSET", k, *v))
            elif t == b"string":
                o.write(enc(b"SET", k, v))
            else:
                continue
            n += 1
print(n)
PY
NKEYS=$(cat "$OUT/nkeys")
W1=$(json "$OUT/run1.json" 'd["keys_written"]')

# --- the same keys through redis-cli --pipe ---------------------------------
start_server "$OUT/b"
PB=$PORT
SB0=$(server_cpu "$PB")
start=$(now_ns)
$cli redis-cli -p "$PB" --pipe < "$OUT/load.resp" > "$OUT/pipe.out" 2>&1 || {
    cat "$OUT/pipe.out" >&2; fail "redis-cli --pipe failed"; }
end=$(now_ns)
TP=$(secs "$start" "$end")
SB1=$(server_cpu "$PB")
NB=$(redis-cli -p "$PB" dbsize)
[ "$NB" -eq "$NKEYS" ] || fail "redis-cli --pipe loaded $NB keys, expected $NKEYS"

KR=$(awk -v n="$NKEYS" -v t="$T1" 'BEGIN { printf "%.0f", n / t }')
KP=$(awk -v n="$NKEYS" -v t="$TP" 'BEGIN { printf "%.0f", n / t }')
APPLY_MS=$(json "$OUT/run1.json" 'd["phase_ms"]["apply"]')
LOAD_MS=$(json "$OUT/run1.json" 'd["phase_ms"]["load"]')
KA=$(awk -v n="$NKEYS" -v t="$APPLY_MS" 'BEGIN { printf "%.0f", (t > 0 ? n * 1000 / t : 0) }')
KX=$(awk -v n="$NKEYS" -v t="$T1" -v l="$LOAD_MS" 'BEGIN { printf "%.0f", n / (t - l / 1000) }')
echo "# $NKEYS keys in the namespace after the apply ($W1 written by the apply phase)"
printf 'rlc run       %8s s  %9s keys/s   (whole run: load, lock, preflight, read, checkpoint, apply, verify, commit)\n' "$T1" "$KR"
printf '  phases ms   %s\n' "$(json "$OUT/run1.json" '" ".join("%s %s" % kv for kv in d["phase_ms"].items())')"
printf '  rlc CPU     %s s user+sys (load %s)\n' "$(awk '{ printf "%.2f", $1 + $2 }' "$OUT/cpu1" | tail -1)" \
    "$(cut -d' ' -f1 /proc/loadavg)"
printf '  run less plan load      %9s keys/s\n' "$KX"
printf '  apply phase alone       %9s keys/s\n' "$KA"
printf 'redis-cli --pipe %5s s  %9s keys/s   (the same keys and values, RESP prepared beforehand)\n' "$TP" "$KP"
# The server's own CPU for each: its work for the pipe over its work for
# the run bounds the keys/s ratio even if rlc's client cost nothing and
# overlapped the server perfectly (the run also reads back and verifies).
SRUN=$(awk -v a="$SA0" -v b="$SA1" 'BEGIN { printf "%.3f", b - a }')
SPIPE=$(awk -v a="$SB0" -v b="$SB1" 'BEGIN { printf "%.3f", b - a }')
SC=$(awk -v r="$SRUN" -v p="$SPIPE" 'BEGIN { printf "%.2f", (r > 0 ? p / r : 0) }')
printf 'server CPU    rlc run %s s, --pipe %s s: the keys/s ratio cannot pass %s\n' "$SRUN" "$SPIPE" "$SC"

# --- re-apply with one tenant changed ---------------------------------------
cmdstats "$PA" > "$OUT/cs0"
start=$(now_ns)
$cli /usr/bin/time -f '%U %S' -o "$OUT/cpu2" \
    "$RLC" run -q --json --state-dir "$OUT/state" "$OUT/plan2.json" > "$OUT/run2.json"
rc=$?
end=$(now_ns)
[ $rc -eq 0 ] || { cat "$OUT/run2.json" >&2; fail "rlc run (re-apply) exited $rc"; }
T2=$(secs "$start" "$end")
cmdstats "$PA" > "$OUT/cs1"
W2=$(json "$OUT/run2.json" 'd["keys_written"]')
LOAD2_MS=$(json "$OUT/run2.json" 'd["phase_ms"]["load"]')
echo "# re-apply, one tenant ($MID) changed"
printf 'rlc run       %8s s  tenants changed %s, keys written %s, pointers read %s (live state: %s), rules read %s\n' \
    "$T2" "$(json "$OUT/run2.json" 'd["tenants_changed"]')" "$W2" \
    "$(json "$OUT/run2.json" 'd["pointers_read"]')" "$(json "$OUT/run2.json" 'd["live_read"]')" \
    "$(json "$OUT/run2.json" 'd.get("rules_read")')"
# (Its CPU is not printed: time(1) counts in 10 ms steps, which would
# print 0.00 s; the median of seven below is measured by getrusage.)
printf '  load        %s\n' "$(cut -d' ' -f1 /proc/loadavg)"
printf '  phases ms   %s\n' "$(json "$OUT/run2.json" '" ".join("%s %s" % kv for kv in d["phase_ms"].items())')"
printf '  server commands: %s\n' "$(join -a 2 -e 0 -o 0,1.2,2.2 "$OUT/cs0" "$OUT/cs1" |
    awk '$3 - $2 > 0 { printf "%s%s %d", (n++ ? ", " : ""), $1, $3 - $2 }')"
# Six more one-tenant re-applies (plan A again, then B, ...: each changes
# the one tenant back or forth), timed by one launcher without time(1) in
# between (a run of 15 ms is within reach of what two more execs cost), and
# the median of all seven taken: one run of 15 ms on a shared machine is
# noise.  The first run's figures above are the one measured with time(1),
# whose CPU counts in 10 ms steps: the CPU figure is the median of the six
# measured here by getrusage (the mean of the middle two).
python3 - "$OUT" "$T2" "$RLC" "$cli" > "$OUT/reapply.med" <<'PY' || fail "the repeated re-applies failed"
import os, resource, subprocess, sys, time
out, t0, rlc, cli = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
walls, cpus = [t0], []
# On the CLI's CPU as the other runs, set here rather than through taskset,
# whose own exec (about 1.5 ms on the measured VM) is not rlc's time.
if cli.startswith("taskset -c "):
    os.sched_setaffinity(0, {int(cli.split()[2])})
    cli = ""
for k in range(6):
    plan = "%s/plan%d.json" % (out, 1 if k % 2 == 0 else 2)
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    a = time.perf_counter()
    r = subprocess.run(cli.split() + [rlc, "run", "-q", "--state-dir", out + "/state", plan],
                       stdout=subprocess.DEVNULL)
    b = time.perf_counter()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(1)
    walls.append(b - a)
    cpus.append(ru1.ru_utime - ru0.ru_utime + ru1.ru_stime - ru0.ru_stime)
walls.sort(); cpus.sort()
print("%.4f %.4f %.4f %.4f" % (walls[3], (cpus[2] + cpus[3]) / 2, walls[0], walls[-1]))
PY
read T2 C2M T2LO T2HI < "$OUT/reapply.med"
printf '  median of 7 one-tenant re-applies: %s s wall (%s-%s), CPU %s s (median of the last 6)\n' "$T2" "$T2LO" "$T2HI" "$C2M"
R1=$(awk -v a="$T1" -v b="$T2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
C1=$(awk '{ printf "%.2f", $1 + $2 }' "$OUT/cpu1" | tail -1)
C2=$C2M
RC=$(awk -v a="$C1" -v b="$C2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
R2=$(awk -v a="$T1" -v b="$T2" -v la="$LOAD_MS" -v lb="$LOAD2_MS" \
    'BEGIN { x = a - la / 1000; y = b - lb / 1000; printf "%.1f", (y > 0 ? x / y : 0) }')

verdict() {
    if awk -v v="$2" -v l="$4" -v op="$3" 'BEGIN { exit !(op == "<=" ? v <= l : v >= l) }'; then
        r=PASS
    else
        r=MISS
    fi
    printf '  %-44s %10s %s %-8s %s\n' "$1" "$2" "$3" "$4" "$r"
}
# The figures into the bench report (`make bench`), each with the load.
bench_record "rlc run, $N tenants, first deploy" "$T1" s
bench_record "rlc run, $N tenants, first deploy, CPU (user+sys)" "$C1" s
bench_record "redis-cli --pipe, the same $NKEYS keys" "$TP" s
bench_record "keys/s ratio rlc run / redis-cli --pipe" \
    "$(awk -v a="$KR" -v b="$KP" 'BEGIN { printf "%.2f", a / b }')" x ">=" 0.8
bench_record "  the same without plan load" \
    "$(awk -v a="$KX" -v b="$KP" 'BEGIN { printf "%.2f", a / b }')" x ">=" 0.8
bench_record "  apply phase alone" "$(awk -v a="$KA" -v b="$KP" 'BEGIN { printf "%.2f", a / b }')" x
bench_record "server CPU, rlc run" "$SRUN" s
bench_record "server CPU, redis-cli --pipe" "$SPIPE" s
bench_record "  server CPU --pipe / rlc run (the ratio's ceiling)" "$SC" x
bench_record "rlc run, one tenant of $N re-applied" "$T2" s
bench_record "rlc run, one tenant of $N re-applied, CPU (user+sys)" "$C2" s
bench_record "re-apply keys written (one tenant)" "$W2" keys "<=" 2
bench_record "time ratio full apply / one-tenant re-apply" "$R1" x ">=" 100
bench_record "  the same without plan load" "$R2" x ">=" 100
bench_record "  CPU ratio full apply / one-tenant re-apply" "$RC" x ">=" 100
bench_record "plan bytes per tenant" "$(cat "$OUT/per_tenant")" B
echo "# targets (issue 5)"
verdict "keys/s ratio rlc run / redis-cli --pipe" \
    "$(awk -v a="$KR" -v b="$KP" 'BEGIN { printf "%.2f", a / b }')" ">=" 0.8
verdict "  the same without plan load" \
    "$(awk -v a="$KX" -v b="$KP" 'BEGIN { printf "%.2f", a / b }')" ">=" 0.8
verdict "  apply phase alone" \
    "$(awk -v a="$KA" -v b="$KP" 'BEGIN { printf "%.2f", a / b }')" ">=" 0.8
verdict "re-apply keys written (one tenant: 2)" "$W2" "<=" 2
verdict "time ratio full apply / re-apply" "$R1" ">=" 100
verdict "  the same without plan load" "$R2" ">=" 100
verdict "  CPU, user+sys" "$RC" ">=" 100
exit 0
