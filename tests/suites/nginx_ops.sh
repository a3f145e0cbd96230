#!/bin/sh
# nginx_ops.sh - running the nginx gateway (SPEC.md 7.10) as an operator
# does, with a real nginx (Lua module) and a real redis-server:
# - the shipped examples/nginx/nginx.conf and edge.rlp, only paths and
#   ports changed: the first deploy happens before nginx ever ran (the
#   snippet is written and checked with nginx -t, the reload skipped and
#   said so on stderr, in --json and in the audit record; no lock or
#   journal left), status and rollback work while it is down, then nginx
#   started with exactly that file enforces the policy; a reload that
#   fails for another reason still fails and rolls back;
# - the RateLimit-Policy and RateLimit fields name the deciding rule (the
#   one closest to rejecting) with its quota, window, remaining and reset,
#   beside Retry-After on 429; ratelimit_headers = false turns them off;
# - the metrics the snippet serves: the counts equal the decisions sent,
#   per rule and decision (shadow would-rejects too, also logged; store
#   errors let through), the histogram's buckets are cumulative and agree
#   with its count; parsed by a small exposition-format parser below.
. "$ROOT/tests/lib.sh"
plan 46
command -v nginx >/dev/null && [ -f /usr/lib/nginx/modules/ngx_http_lua_module.so ] ||
    bail_out "nginx with the Lua module installed" "run make deps"

RPORT=$(free_port)
start_redis "$RPORT" || bail_out "redis starts" "see stderr"
rc() { redis-cli -p "$RPORT" "$@"; }
export RLC_REDIS_URL="redis://127.0.0.1:$RPORT" RLC_STATE_DIR="$T/state"
# nginx workers run as an unprivileged user when the master is root.
chmod 755 "$T"

# --- the shipped example, deployed before nginx first starts ---------------
"$RLC" check "$ROOT/examples/nginx/edge.rlp" > "$T/check.out" 2>&1; r=$?
check "examples/nginx/edge.rlp checks clean and is fmt-canonical" \
    eval '[ $r -eq 0 ] && [ ! -s "$T/check.out" ] && "$RLC" fmt --check "$ROOT/examples/nginx/edge.rlp"'
DD="$T/doc"
DPORT=$(free_port)
APORT=$(free_port)
mkdir -p "$DD/rlc" "$DD/app"
chmod 755 "$DD" "$DD/rlc"
echo app > "$DD/app/x"
# Only paths and ports change: the snippet, the pid file, the logs, the
# listening port and the application's port.
# The policy's URLs get the port too, and its check's latency budget is
# relaxed for a test machine shared with other suites.
sed -e "s#/etc/nginx/rlc/#$DD/rlc/#g" -e "s#http://127.0.0.1/#http://127.0.0.1:$DPORT/#g" \
    -e "s#check_latency_budget = 50ms#check_latency_budget = 1s#" \
    "$ROOT/examples/nginx/edge.rlp" > "$DD/edge.rlp"
sed -e "s#/etc/nginx/rlc/#$DD/rlc/#g" -e "s#/run/nginx.pid#$DD/nginx.pid#" \
    -e "s#/var/log/nginx/#$DD/#g" -e "s#listen 80;#listen 127.0.0.1:$DPORT;#" \
    -e "s#127.0.0.1:8081#127.0.0.1:$APORT#" "$ROOT/examples/nginx/nginx.conf" > "$DD/nginx.conf"
check "the example nginx.conf changes only in paths and ports" \
    eval '[ "$(diff "$ROOT/examples/nginx/nginx.conf" "$DD/nginx.conf" | grep -c "^>")" -eq 9 ]'
"$RLC" compile -q "$DD/edge.rlp" -o "$DD/plan.json" || bail_out "compile the example" "see stderr"
# Every nginx command rlc runs goes through this wrapper, which logs it.
cat > "$T/nginx-cmd" <<W
#!/bin/sh
echo "\$*" >> "$T/nginx-cmds"
exec nginx -p $DD -c $DD/nginx.conf "\$@"
W
chmod +x "$T/nginx-cmd"
export RLC_NGINX="$T/nginx-cmd"
SNIP="$DD/rlc/ratelimit.lua"

"$RLC" run -q --json "$DD/plan.json" > "$T/run.json" 2> "$T/run.err"; r=$?
check "first deploy with nginx not running: exit 0 (got $r: $(head -c 300 "$T/run.err"))" [ $r -eq 0 ]
check "... the snippet is written, then checked with nginx -t, then a reload tried" \
    eval '[ -s "$SNIP" ] && [ "$(tr "\n" "|" < "$T/nginx-cmds")" = "-t|-t|-s reload|" ]'
check "... stderr says the reload was skipped and why (under -q too)" \
    grep -q "^rlc run: note: target edge: reload skipped: nginx is not running (its pid file $DD/nginx.pid .*); the snippet is written and 'nginx -t' accepts it, and nginx loads it when it starts" "$T/run.err"
check "... --json says so in notes" \
    eval 'python3 -c "import json,sys; s=json.load(open(sys.argv[1])); n=s[\"notes\"]; assert s[\"result\"]==\"committed\" and n[0][\"target\"]==\"edge\" and n[0][\"note\"].startswith(\"reload skipped: nginx is not running\")" "$T/run.json"'
check "... the audit record of the run carries the note on the nginx target" \
    eval 'tail -1 "$RLC_STATE_DIR/audit.jsonl" | python3 -c "import json,sys; r=json.load(sys.stdin); t=[t for t in r[\"targets\"] if t[\"name\"]==\"edge\"][0]; assert r[\"result\"]==\"committed\" and t[\"note\"].startswith(\"reload skipped\")"'
check "... no journal and no deploy lock left behind" \
    eval '[ ! -e "$RLC_STATE_DIR/journal.jsonl" ] && [ "$(rc EXISTS edge:deploy:lock)" = 0 ]'

"$RLC" status "$DD/plan.json" > "$T/st" 2> "$T/st.err"; r=$?
check "status with nginx down: exit 0 (no drift), says nginx is not running" \
    eval '[ $r -eq 0 ] && grep -q "^  nginx: not running: its pid file $DD/nginx.pid" "$T/st"'
"$RLC" status --json "$DD/plan.json" > "$T/st.json"; r=$?
check "status --json: nginx.running is false" \
    eval 'python3 -c "import json,sys; s=json.load(open(sys.argv[1])); t=[t for t in s[\"targets\"] if t.get(\"kind\")==\"nginx\"][0]; assert t[\"nginx\"][\"running\"] is False" "$T/st.json"'

# A second plan (shadow limit removed) deployed and rolled back while down.
sed -e '/limit 200\/1m shadow/d' "$DD/edge.rlp" > "$DD/edge2.rlp"
"$RLC" compile -q "$DD/edge2.rlp" -o "$DD/plan2.json" || bail_out "compile edge2" "see stderr"
cp "$SNIP" "$T/snip1"
"$RLC" run -q "$DD/plan2.json" 2> "$T/err"; r=$?
"$RLC" rollback -q 2> "$T/rb.err"; rb=$?
check "rollback with nginx down: exit 0, the first snippet back, the reload skipped and said" \
    eval '[ $r -eq 0 ] && [ $rb -eq 0 ] && cmp -s "$SNIP" "$T/snip1" && grep -q "^rlc rollback: note: target edge: reload skipped: nginx is not running" "$T/rb.err"'
check "... and its audit record carries the note" \
    eval 'tail -1 "$RLC_STATE_DIR/audit.jsonl" | grep -q "\"action\":\"rollback\".*reload skipped: nginx is not running"'

# Now nginx starts with exactly that file and picks the snippet up.
(cd "$DD/app" && exec python3 -m http.server "$APORT" --bind 127.0.0.1 > "$DD/app.log" 2>&1) &
RLC_PIDS="$RLC_PIDS $!"
nginx -p "$DD" -c "$DD/nginx.conf" -g 'daemon off;' > "$DD/stderr" 2>&1 &
RLC_PIDS="$RLC_PIDS $!"
i=0
while ! curl -s -o /dev/null "http://127.0.0.1:$APORT/x" ||
    ! curl -s -o /dev/null "http://127.0.0.1:$DPORT/x"; do
    i=$((i + 1)); [ $i -gt 100 ] && bail_out "example nginx and app start" "$(cat "$DD/stderr")"
    sleep 0.05
done
setup "nginx started with examples/nginx/nginx.conf on 127.0.0.1:$DPORT"
# One curl for all 15 (one kept-alive connection): milliseconds, so the
# bucket (10/s) refills less than a request meanwhile.
set --
for _ in $(seq 15); do set -- "$@" -o /dev/null "http://127.0.0.1:$DPORT/x"; done
t0=$(date +%s%N)
got=$(curl -s -w '%{http_code} ' --interface 127.0.0.2 "$@")
ms=$((($(date +%s%N) - t0) / 1000000))
ok200=$(echo "$got" | tr ' ' '\n' | grep -c '^200$')
first10=$(echo "$got" | tr ' ' '\n' | head -10 | grep -c '^200$')
# The bucket refills one request per 100 ms while they run, so a token may
# come back after the first 429 (200 ... 429 429 200 under a sanitizer): the
# first 10 pass, some are refused, and no more pass than the refill allows.
check "the example enforces 10/1s per address: the first 10 pass, then 429 (at most 1 more per 100 ms of the $ms ms they took) (got $got)" \
    eval '[ "$first10" -eq 10 ] && [ "$ok200" -le $((11 + ms / 100)) ] && echo "$got" | grep -q "429"'
got=$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.3 "http://127.0.0.1:$DPORT/x")
check "another address is not limited by the first one's requests (got $got)" [ "$got" = 200 ]
"$RLC" status "$DD/plan.json" > "$T/st" 2>&1; r=$?
check "status with nginx up: exit 0, nginx running with its master's pid" \
    eval '[ $r -eq 0 ] && grep -q "^  nginx: running: master process [0-9][0-9]* (pid file $DD/nginx.pid)" "$T/st"'
: > "$T/nginx-cmds"
"$RLC" run -q --json "$DD/plan2.json" > "$T/run2.json" 2> "$T/err"; r=$?
check "a deploy while nginx runs reloads it, with no note (got $r)" \
    eval '[ $r -eq 0 ] && grep -q "^-s reload$" "$T/nginx-cmds" && ! grep -q note "$T/err"'
check "... and checks it through the example's /rlc-check: 500 requests as the simulator says" \
    eval 'python3 -c "import json,sys; c=json.load(open(sys.argv[1]))[\"gateway_checks\"][0]; assert c[\"requests\"]==500 and c[\"p99_ms\"] < 1000, c" "$T/run2.json"'

# A reload that fails for another reason than "not running" is a failure:
# the wrapper answers the first reload as nginx does when it may not
# signal the master (EPERM), then lets the rollback's reload through.
cp "$SNIP" "$T/snip2"
cat > "$T/nginx-eperm" <<W
#!/bin/sh
case "\$*" in *reload*) if [ ! -f "$T/refused" ]; then touch "$T/refused"
    echo "nginx: [alert] kill(4242, 1) failed (1: Operation not permitted)"; exit 1; fi ;; esac
exec nginx -p $DD -c $DD/nginx.conf "\$@"
W
chmod +x "$T/nginx-eperm"
RLC_NGINX="$T/nginx-eperm" "$RLC" run -q "$DD/plan.json" 2> "$T/err"; r=$?
check "a reload refused (EPERM): exit 1, RLC3192 quoting nginx, the snippet rolled back" \
    eval '[ $r -eq 1 ] && grep -q "RLC3192.*-s reload. failed: nginx: \[alert\] kill(4242, 1) failed (1: Operation not permitted)" "$T/err" && cmp -s "$SNIP" "$T/snip2" && [ ! -e "$RLC_STATE_DIR/journal.jsonl" ]'
"$RLC" audit verify > /dev/null 2>&1; check "audit verify after the runs" [ $? -eq 0 ]

# --- RateLimit fields and metrics: a policy made to tell rules apart ------
NPORT=$(free_port)
ND="$T/nginx"
R="$T/rlc"
mkdir -p "$ND/body" "$R"
chmod 755 "$R"
policy() {   # policy HEADERS: the test policy, ratelimit_headers = HEADERS
    cat <<P
policy "ops" {
  namespace = "ops"
}
allow RLC2310 "the suite takes the API key from a request header on purpose"
tenant "acme" {
  limit 100/1m
  key "k1" {
    limit 3/1m
    limit 2/1m algorithm fixed_window shadow
  }
  key "k2" {
    limit 200/1m
  }
}
tenant "tiny" {
  limit 2/1m
  key "k1" {
    limit 50/1m
  }
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
target nginx "api" {
  output = "$R/api.lua"
  redis = "primary"
  tenant_from = "\$rlc_tenant"
  path_from = ["key:\$http_x_api_key"]
  ratelimit_headers = $1
  metrics_url = "http://127.0.0.1:$NPORT/metrics"
}
P
}
policy true > "$T/ops.rlp"
policy false > "$T/ops-off.rlp"
"$RLC" compile -q "$T/ops.rlp" -o "$T/ops.json" && "$RLC" compile -q "$T/ops-off.rlp" -o "$T/ops-off.json" ||
    bail_out "compile the test policy" "see stderr"
# rid TENANT SUBJECT-PATH WINDOW_MS [shadow]: a rule's id from the plan
rid() {
    python3 - "$T/ops.json" "$@" <<'EOF'
import json, sys
plan, tenant, subj, win = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
shadow = len(sys.argv) > 5
for t in json.load(open(plan))["tenants"]:
    if t["name"] != tenant: continue
    for r in t["rules"]:
        p = "tenant:" + tenant + ("/" + r["subject"] if "subject" in r else "")
        if p == subj and r["window_ms"] == win and r.get("shadow", False) == shadow: print(r["id"])
EOF
}
ACME=$(rid acme tenant:acme 60000)
K1=$(rid acme tenant:acme/key:k1 60000)
K1S=$(rid acme tenant:acme/key:k1 60000 shadow)
TINY=$(rid tiny tenant:tiny 60000)
[ ${#ACME} -eq 16 ] && [ ${#K1} -eq 16 ] && [ ${#K1S} -eq 16 ] && [ ${#TINY} -eq 16 ] ||
    bail_out "rule ids from the plan" "acme=$ACME k1=$K1 k1s=$K1S tiny=$TINY"
{
    nginx_conf_head "$ND" 2
    cat <<C
    lua_shared_dict rlc_metrics 1m;
    server {
        listen 127.0.0.1:$NPORT;
        location /acme/ {
            set \$rlc_tenant acme;
            access_by_lua_file $R/api.lua;
            log_by_lua_file $R/api.lua;
            content_by_lua_block { ngx.say("ok") }
        }
        location /tiny/ {
            set \$rlc_tenant tiny;
            access_by_lua_file $R/api.lua;
            content_by_lua_block { ngx.say("ok") }
        }
        location = /metrics {
            content_by_lua_file $R/api.lua;
        }
    }
}
C
} > "$ND/nginx.conf"
export RLC_NGINX="nginx -p $ND -c $ND/nginx.conf"
export RLC_STATE_DIR="$T/state-ops"
nginx -p "$ND" -c "$ND/nginx.conf" > "$ND/stderr" 2>&1 &
NGX=$!
RLC_PIDS="$RLC_PIDS $NGX"
i=0
while ! curl -s -o /dev/null "http://127.0.0.1:$NPORT/metrics"; do
    i=$((i + 1)); [ $i -gt 100 ] && bail_out "test nginx starts" "$(cat "$ND/stderr")"
    sleep 0.05
done
"$RLC" run -q "$T/ops.json" 2> "$T/err" || bail_out "deploy the test policy" "$(cat "$T/err")"
URL="http://127.0.0.1:$NPORT"
# hdr FILE NAME: the value of header NAME in a curl -D dump
hdr() { tr -d '\r' < "$1" | awk -v n="$2" 'BEGIN { IGNORECASE = 1 } tolower($0) ~ "^" tolower(n) ": " { sub(/^[^:]*: /, ""); print }'; }
metric() {   # metric NAME{LABELS}: its value in the current exposition, 0 when absent
    curl -s "$URL/metrics" | python3 "$T/expo.py" get "$1"
}

# Key k1 of acme: 3/1m (k1) is closer to rejecting than 100/1m (acme).
curl -s -D "$T/h1" -o /dev/null -H 'X-Api-Key: k1' "$URL/acme/x"
check "k1's first answer: RateLimit-Policy names k1's rule, q=3, w=60 (got $(hdr "$T/h1" RateLimit-Policy))" \
    [ "$(hdr "$T/h1" RateLimit-Policy)" = "\"$K1\";q=3;w=60" ]
check "... RateLimit: r=2, t = seconds until the bucket is whole again (got $(hdr "$T/h1" RateLimit))" \
    eval 'hdr "$T/h1" RateLimit | grep -Eq "^\"$K1\";r=2;t=(20|21)$"'
curl -s -o /dev/null -H 'X-Api-Key: k1' "$URL/acme/x"
curl -s -o /dev/null -H 'X-Api-Key: k1' "$URL/acme/x"
curl -s -D "$T/h4" -o /dev/null -w '%{http_code}' -H 'X-Api-Key: k1' "$URL/acme/x" > "$T/code4"
# (Seconds pass between the requests on a loaded machine: the bucket
# refills one request per 20 s meanwhile.)
check "the fourth: 429 with Retry-After, RateLimit r=0 of k1's rule" \
    eval '[ "$(cat "$T/code4")" = 429 ] && hdr "$T/h4" Retry-After | grep -Eq "^(1[6-9]|20)$" && hdr "$T/h4" RateLimit | grep -Eq "^\"$K1\";r=0;t=(5[6-9]|60)$"'
# Key k2 (200/1m) under acme's 100/1m, of which k1 spent 3 (refilling one
# per 600 ms meanwhile): acme decides.
curl -s -D "$T/h5" -o /dev/null -H 'X-Api-Key: k2' "$URL/acme/x"
check "k2: the tenant's 100/1m is closer to rejecting than k2's 200/1m, and names the policy (got $(hdr "$T/h5" RateLimit))" \
    eval '[ "$(hdr "$T/h5" RateLimit-Policy)" = "\"$ACME\";q=100;w=60" ] && hdr "$T/h5" RateLimit | grep -Eq "^\"$ACME\";r=9[678];t=[0-9]+$"'
curl -s -D "$T/h6" -o /dev/null -H 'X-Api-Key: k1' "$URL/tiny/x"
check "tenant tiny: its 2/1m decides over key k1's 50/1m: q=2;w=60 (got $(hdr "$T/h6" RateLimit-Policy))" \
    eval '[ "$(hdr "$T/h6" RateLimit-Policy)" = "\"$TINY\";q=2;w=60" ] && hdr "$T/h6" RateLimit | grep -Eq "^\"$TINY\";r=1;t=(30|31)$"'
check "the old RateLimit-Remaining and RateLimit-Reset are gone" \
    eval '[ -z "$(hdr "$T/h1" RateLimit-Remaining)$(hdr "$T/h4" RateLimit-Reset)" ]'

# --- the metrics: a tiny parser of the text exposition format ------------
cat > "$T/expo.py" <<'EOF'
# expo.py check|get NAME{LABELS}: parses a Prometheus text exposition on
# stdin strictly (every line a comment, HELP/TYPE, or NAME{LABELS} VALUE),
# then prints the value of one series or checks every histogram.
import re, sys
series, types = {}, {}
line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')
for line in sys.stdin.read().split("\n"):
    if not line: continue
    if line.startswith("# TYPE "):
        _, _, name, kind = line.split(" ", 3); types[name] = kind; continue
    if line.startswith("#"): continue
    m = line_re.match(line)
    if not m: sys.exit("not an exposition line: %r" % line)
    labels, rest = {}, m.group(3) or ""
    while rest:
        lm = label_re.match(rest)
        if not lm: sys.exit("bad labels: %r" % line)
        labels[lm.group(1)] = lm.group(2); rest = rest[lm.end():]
    key = m.group(1) + "{" + ",".join('%s="%s"' % kv for kv in sorted(labels.items())) + "}"
    if key in series: sys.exit("series twice: " + key)
    series[key] = float(m.group(4))
if sys.argv[1] == "get":
    want = sys.argv[2]
    name, _, labs = want.partition("{")
    labs = dict(re.findall(r'([a-z_]+)="([^"]*)"', labs))
    key = name + "{" + ",".join('%s="%s"' % kv for kv in sorted(labs.items())) + "}"
    v = series.get(key, 0); print(int(v) if v == int(v) else v); sys.exit(0)
# check: each histogram's buckets rise with le, end in +Inf = _count
for name, kind in types.items():
    if kind != "histogram": continue
    targets = {re.search(r'target="([^"]*)"', k).group(1) for k in series if k.startswith(name + "_bucket")}
    if not targets: sys.exit("histogram %s has no series" % name)
    for t in targets:
        b = sorted(((float("inf") if re.search(r'le="([^"]*)"', k).group(1) == "+Inf"
                     else float(re.search(r'le="([^"]*)"', k).group(1))), v)
                   for k, v in series.items() if k.startswith(name + "_bucket{") and 'target="%s"' % t in k)
        counts = [v for _, v in b]
        if counts != sorted(counts): sys.exit("buckets not cumulative: %r" % b)
        if b[-1][0] != float("inf"): sys.exit("no +Inf bucket")
        c = series['%s_count{target="%s"}' % (name, t)]
        if b[-1][1] != c: sys.exit("+Inf %s != count %s" % (b[-1][1], c))
        print("%s %s %d" % (name, t, c))
EOF
curl -s "$URL/metrics" > "$T/m1"
python3 "$T/expo.py" check < "$T/m1" > "$T/m1.hist"; r=$?
check "the exposition parses, and the histogram is cumulative with +Inf = _count ($(cat "$T/m1.hist"))" \
    eval '[ $r -eq 0 ] && grep -q "^rlc_decision_seconds api 6$" "$T/m1.hist"'
check "counts per rule: k1 3 allowed and 1 rejected" \
    eval '[ "$(metric "rlc_decisions_total{target=\"api\",rule=\"$K1\",decision=\"allowed\"}")" = 3 ] && [ "$(metric "rlc_decisions_total{target=\"api\",rule=\"$K1\",decision=\"rejected\"}")" = 1 ]'
check "k1's shadow 2/1m would have rejected its 3rd and 4th requests: would_reject 2" \
    [ "$(metric "rlc_decisions_total{target=\"api\",rule=\"$K1S\",decision=\"would_reject\"}")" = 2 ]
check "... and each is logged with the rule id and the subject" \
    eval '[ "$(grep -c "rlc: shadow rule \"$K1S\" would reject tenant \"acme\" path \"key:k1\"" "$ND/error.log")" -eq 2 ]'

# A burst through two workers: the counts equal the decisions sent.
: > "$T/codes"
burst=""
for c in 1 2 3 4; do
    (for _ in $(seq 10); do curl -s -o /dev/null -w '%{http_code}\n' -H 'X-Api-Key: k3' "$URL/tiny/x"; done >> "$T/codes.$c") &
    burst="$burst $!"
done
# shellcheck disable=SC2086
wait $burst
cat "$T"/codes.* > "$T/codes"
n200=$(grep -c '^200$' "$T/codes"); n429=$(grep -c '^429$' "$T/codes")
check "40 concurrent requests of tiny (2/1m, 1 spent): 1 admitted, 39 rejected (got $n200/$n429)" \
    eval '[ "$n200" -eq 1 ] && [ "$n429" -eq 39 ]'
check "tiny's counts equal those answers: 2 allowed (with the earlier one) and 39 rejected" \
    eval '[ "$(metric "rlc_decisions_total{target=\"api\",rule=\"$TINY\",decision=\"allowed\"}")" = 2 ] && [ "$(metric "rlc_decisions_total{target=\"api\",rule=\"$TINY\",decision=\"rejected\"}")" = 39 ]'
curl -s "$URL/metrics" | python3 "$T/expo.py" check > "$T/m2.hist"; r=$?
check "the histogram counts every decision: 46 ($(cat "$T/m2.hist"))" \
    eval '[ $r -eq 0 ] && grep -q "^rlc_decision_seconds api 46$" "$T/m2.hist"'
check "no series names a key: the labels are target, rule ids of the plan, decision, le" \
    eval '! curl -s "$URL/metrics" | grep -v "^#" | grep -Eq "k1|k2|k3|acme|tiny"'

# Store errors: redis gone, on_store_error = fail_open lets requests through.
curl -s -o /dev/null "$URL/acme/x"
got=$(curl -s -o /dev/null -w '%{http_code}' "$URL/acme/x")
check "a request without its key: 400, counted as bad_request (got $got)" \
    eval '[ "$got" = 400 ] && [ "$(metric "rlc_decisions_total{target=\"api\",rule=\"none\",decision=\"bad_request\"}")" = 2 ]'
# Its pooled connections are closed and new ones are refused (NOAUTH).
rc CONFIG SET requirepass not-the-snippets > /dev/null
rc -a not-the-snippets --no-auth-warning CLIENT KILL TYPE normal > /dev/null
got=$(for _ in 1 2 3; do curl -s -o /dev/null -w '%{http_code} ' -H 'X-Api-Key: k2' "$URL/acme/x"; done)
rc -a not-the-snippets --no-auth-warning CONFIG SET requirepass "" > /dev/null
check "store refusing the snippet: 3 let through (fail_open), counted as fail_open (got $got)" \
    eval '[ "$got" = "200 200 200 " ] && [ "$(metric "rlc_decisions_total{target=\"api\",rule=\"none\",decision=\"fail_open\"}")" = 3 ]'

# --- rlc top: which limits are rejecting now, from two scrapes -----------
"$RLC" top --help > "$T/top.help"; r=$?
check "rlc top --help: exit 0, names --json, --interval and --once" \
    eval '[ $r -eq 0 ] && grep -q -- "--json" "$T/top.help" && grep -q -- "--interval" "$T/top.help" && grep -q -- "--once" "$T/top.help"'
# Load for 3 s: tiny's exhausted 2/1m rejects k3, acme admits k2.
(end=$(($(date +%s) + 3)); while [ "$(date +%s)" -lt $end ]; do
    curl -s -o /dev/null -H 'X-Api-Key: k3' "$URL/tiny/x"
    curl -s -o /dev/null -H 'X-Api-Key: k2' "$URL/acme/x"
done) &
load=$!
sleep 0.5
"$RLC" top --json --interval 1 "$T/ops.json" > "$T/top.json" 2> "$T/top.err"; r=$?
"$RLC" top --url "$URL/metrics" --interval 0.5 > "$T/top.txt" 2>&1; rt=$?
wait $load
check "rlc top --json PLAN (metrics_url): exit 0, tiny's 2/1m is the rejecting rule, with its limit" \
    eval '[ $r -eq 0 ] && python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
rej = r[\"rejecting\"]
assert [x[\"rule\"] for x in rej] == [sys.argv[2]] and rej[0][\"rejected_per_s\"] > 0, rej
row = [x for x in r[\"rules\"] if x[\"rule\"] == sys.argv[2]][0]
assert row[\"limit\"] == \"tenant:tiny 2/60000ms token_bucket\", row
assert 0.5 <= r[\"interval_s\"] < 3, r[\"interval_s\"]
" "$T/top.json" "$TINY"'
check "... acme's rule admits k2 meanwhile: allowed/s > 0, rejected/s 0, and latency quantiles" \
    eval 'python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
row = [x for x in r[\"rules\"] if x[\"rule\"] == sys.argv[2]][0]
assert row[\"rate\"][\"allowed\"] > 0 and row[\"rate\"][\"rejected\"] == 0, row
assert r[\"latency\"][\"decisions\"] > 0 and r[\"latency\"][\"p50_le_s\"] <= r[\"latency\"][\"p99_le_s\"]
" "$T/top.json" "$ACME"'
check "rlc top --json PLAN: a key's rule is described from the tenant down, its shadow rule as shadow" \
    eval 'python3 -c "
import json, sys
r = json.load(open(sys.argv[1]))
lim = {x[\"rule\"]: x.get(\"limit\") for x in r[\"rules\"]}
assert lim[sys.argv[2]] == \"tenant:acme/key:k1 3/60000ms token_bucket\", lim
assert lim[sys.argv[3]] == \"tenant:acme/key:k1 2/60000ms fixed_window shadow\", lim
" "$T/top.json" "$K1" "$K1S"'
check "rlc top --url, not on a terminal: one table, the rejecting rule first" \
    eval '[ $rt -eq 0 ] && grep -q "^rlc top: $URL/metrics, over 0.5 s$" "$T/top.txt" && sed -n 4p "$T/top.txt" | grep -Eq "^api +$TINY +[0-9.]+ "'
"$RLC" top --once --interval 0.1 --url "$URL/acme/x" > /dev/null 2> "$T/top.err"; r=$?
check "rlc top on a URL that is no metrics: exit 1, says what it got" \
    eval '[ $r -eq 1 ] && grep -q "rlc top: error: GET $URL/acme/x: HTTP 400" "$T/top.err"'
# On a terminal (script(1) gives it one) it redraws every interval until
# stopped: 2.2 s at 0.5 s is four screens, each after a clear-screen.
timeout -s INT 2.2 script -qfec "$RLC top --url $URL/metrics --interval 0.5" /dev/null \
    > "$T/top.tty" 2>&1
screens=$(grep -o "rlc top: $URL/metrics, over 0.5 s (Ctrl-C to stop)" "$T/top.tty" | wc -l)
clears=$(grep -o "$(printf '\033\\[H\033\\[2J')" "$T/top.tty" | wc -l)
check "on a terminal rlc top redraws every interval until interrupted ($screens screens, $clears clears)" \
    eval '[ "$screens" -ge 3 ] && [ "$screens" -le 5 ] && [ "$clears" -eq "$screens" ]'
"$RLC" top > /dev/null 2> "$T/top.err"; r=$?
"$RLC" top --target nope "$T/ops.json" > /dev/null 2> "$T/top.err2"; r2=$?
check "rlc top without a PLAN or --url, or with an unknown target: usage errors (exit 2)" \
    eval '[ $r -eq 2 ] && [ $r2 -eq 2 ] && grep -q "has no nginx target nope" "$T/top.err2"'

# ratelimit_headers = false: no RateLimit fields, Retry-After stays.
# A reload only signals the master: the old workers may still take a
# request meanwhile.  gone: waits until they have exited (at most 5 s).
workers() { cat "/proc/$NGX/task/$NGX/children"; }
gone() {
    _i=0
    for w in $1; do
        while [ -d "/proc/$w" ] && [ $_i -lt 100 ]; do sleep 0.05; _i=$((_i + 1)); done
    done
}
old=$(workers)
"$RLC" run -q "$T/ops-off.json" 2> "$T/err" || notok "deploy ratelimit_headers = false" "$(cat "$T/err")"
gone "$old"
curl -s -D "$T/h7" -o /dev/null -w '%{http_code}' -H 'X-Api-Key: k1' "$URL/acme/x" > "$T/code7"
check "ratelimit_headers = false: a 429 with Retry-After and no RateLimit fields" \
    eval '[ "$(cat "$T/code7")" = 429 ] && [ -n "$(hdr "$T/h7" Retry-After)" ] && [ -z "$(hdr "$T/h7" RateLimit)$(hdr "$T/h7" RateLimit-Policy)" ]'
echo 'target nginx "x" { output = "/tmp/x" redis = "r" tenant_from = "a" ratelimit_headers = "no" }' > "$T/bad.rlp"
"$RLC" check "$T/bad.rlp" > "$T/bad.out" 2>&1
check "ratelimit_headers takes true or false (RLC1021)" \
    grep -q "RLC1021.*ratelimit_headers takes true or false, not a string" "$T/bad.out"

# Without the shared dict, nothing is counted and /metrics says why.
sed -i -e '/lua_shared_dict/d' "$ND/nginx.conf"
old=$(workers)
nginx -p "$ND" -c "$ND/nginx.conf" -s reload > /dev/null 2>&1
gone "$old"
code=$(curl -s -o "$T/nodict" -w '%{http_code}' "$URL/metrics")
got=$(curl -s -o /dev/null -w '%{http_code}' -H 'X-Api-Key: k2' "$URL/acme/x")
check "no lua_shared_dict rlc_metrics: decisions go on ($got), /metrics is 500 naming it" \
    eval '[ "$got" = 200 ] && [ "$code" = 500 ] && grep -q "nginx.conf declares no .lua_shared_dict rlc_metrics." "$T/nodict"'
