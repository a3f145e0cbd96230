#!/bin/sh
# callgrind.sh - what a decision costs inside redis-server in instructions
# (callgrind), which unlike microseconds does not move with the machine's
# load: a listed key of a listed tenant against an unlisted key (`key *`)
# of a listed tenant and of an unlisted tenant (`tenant *`), 20 000
# decisions each, every one for a new value.  Prints instructions per
# decision and the ratio listed / unlisted against the target 0.9.
set -u
BUILD=${BUILD:-build}
RLC=${RLC:-$BUILD/rlc}
N=20000
command -v valgrind >/dev/null && command -v callgrind_control >/dev/null ||
    { echo "callgrind: valgrind not installed, skipped"; exit 0; }
T=$(mktemp -d /tmp/rlc-bench-cg.XXXXXX)
VP=
cleanup() {
    [ -n "$VP" ] && kill "$VP" 2>/dev/null && wait "$VP" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
cat > "$T/p.rlp" <<'P'
policy "bt" {
  namespace = "bt"
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
tenant * {
  limit 100000000/1h
  group * {
    limit 50000000/1h
    key * {
      limit 10000000/1h
    }
  }
}
tenant "acme" {
  limit 100000000/1h
  group "team-a" {
    limit 50000000/1h
    key "k_123" {
      limit 10000000/1h
    }
    key * {
      limit 10000000/1h
    }
  }
}
P
"$RLC" compile -q "$T/p.rlp" -o "$T/p.json" || exit 1
# resp FILE ACTIVE PATH [ROUTE]: N FCALLs in RESP; %d in PATH or ROUTE
# becomes 0..N-1.
resp() {
    awk -v n="$N" -v a="$2" -v p="$3" -v r="${4:-/}" 'BEGIN {
        for (i = 0; i < n; i++) {
            q = p; sub(/%d/, i, q)
            u = r; sub(/%d/, i, u)
            split("FCALL rlc_decide 1 " a " " q " GET " u " 1", v, " ")
            printf "*10\r\n"
            for (k = 1; k <= 8; k++) printf "$%d\r\n%s\r\n", length(v[k]), v[k]
            printf "$0\r\n\r\n$0\r\n\r\n"
        }
    }' > "$1"
}
resp "$T/listed" '{bt:acme}:active' 'group:team-a/key:k_123'
resp "$T/key" '{bt:acme}:active' 'group:team-a/key:k-%d'
resp "$T/tenant" '{bt:new-signup}:active' 'group:team-a/key:n-%d'
# A gateway passing concrete URLs: one repeated, then every one new (the
# policy has no route rule, so the URL decides nothing).
resp "$T/url1" '{bt:acme}:active' 'group:team-a/key:k_123' '/v1/items/7'
resp "$T/urls" '{bt:acme}:active' 'group:team-a/key:k_123' '/v1/items/%d'
PORT=$(( 20000 + $$ % 20000 ))
valgrind --tool=callgrind --callgrind-out-file="$T/cg.%p" redis-server --port "$PORT" \
    --bind 127.0.0.1 --save '' --appendonly no --dir "$T" > "$T/vg.log" 2>&1 &
VP=$!
i=0
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do
    sleep 0.2; i=$((i + 1)); [ $i -gt 150 ] && { echo "callgrind: redis did not start"; exit 1; }
done
RLC_REDIS_URL=redis://127.0.0.1:$PORT RLC_STATE_DIR=$T/state "$RLC" run -q "$T/p.json" || exit 1
# Each dump holds what ran since the one before.
dump() {
    callgrind_control -d "$VP" >/dev/null 2>&1
    sleep 0.5
    f=$(ls -t "$T"/cg.$VP* | head -1)
    grep -m1 '^summary:\|^totals:' "$f" | awk '{print $2}'
}
dump >/dev/null
echo "instructions per decision inside redis-server (callgrind), $N decisions each, 3 token buckets"
for w in listed key tenant url1 urls; do
    redis-cli -p "$PORT" --pipe < "$T/$w" > /dev/null
    eval "I_$w=$(( $(dump) / N ))"
done
printf '  %-40s %9d\n' "listed key, listed tenant" "$I_listed" \
    "unlisted key (key *), listed tenant" "$I_key" \
    "unlisted key of an unlisted tenant" "$I_tenant" \
    "listed key, one URL repeated" "$I_url1" \
    "listed key, every URL new" "$I_urls"
for w in key tenant; do
    eval "v=\$I_$w"
    awk -v l="$I_listed" -v u="$v" -v w="$w" 'BEGIN {
        r = l / u
        name = (w == "key") ? "key *" : "tenant *"
        verdict = (r >= 0.9) ? "PASS" : "MISS"
        printf "  ratio listed / unlisted (%s): %.2f (target >= 0.90) %s\n", name, r, verdict
    }'
done
awk -v a="$I_urls" -v b="$I_url1" 'BEGIN {
    r = a / b
    printf "  ratio every URL new / one URL (no route rule): %.2f (target <= 1.10) %s\n", r,
        (r <= 1.1) ? "PASS" : "MISS"
}'
redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1
wait "$VP" 2>/dev/null
VP=
