#!/bin/sh
# shapes.sh - what the library keeps between calls never changes a
# decision (SPEC.md 6.2): route rules decide URLs never seen before (a
# trailing `*`, a `*` segment, empty segments, ANY); a listed tenant's
# plans and fields, and unlisted tenants sharing the plan of `tenant *`,
# still decide right after far more shapes than the caches hold; a working
# set of listed keys far past 4 096 stays cached (the caches of listed
# shapes are sized by the configs) while paths clients name stay bounded
# and push none of it out; and the EVALSHA path (Redis < 7: the script a
# deploy for EVALSHA loads, with its configs' twins) answers as FCALL does
# across many shapes.
. "$ROOT/tests/lib.sh"
plan 13

NK=20000
{
    cat <<'P'
policy "sh" {
  namespace = "sh"
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
tenant * {
  limit 1/1h
}
P
    for t in acme beta; do
        cat <<P
tenant "$t" {
  limit 100000/10d algorithm fixed_window
  route GET "/v1/items/*" {
    limit 2/1h
  }
  route POST "/v1/items" {
    limit 1/1h
  }
  route ANY "/v2/*/x" {
    limit 3/1h
  }
  group "g" {
P
        [ "$t" = acme ] && awk -v n="$NK" 'BEGIN {
            for (i = 1; i <= n; i++) printf "    key \"k%d\" {\n      limit 1/1h\n    }\n", i
            for (i = 1; i <= 600; i++) printf "    key \"m%d\" {\n      limit 1/1h\n    }\n", i
        }'
        echo "  }"
        echo "}"
    done
} > "$T/p.rlp"
"$RLC" compile -q "$T/p.rlp" -o "$T/p.json" || bail_out "compile" "failed"
PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT" RLC_STATE_DIR="$T/state"
"$RLC" run -q "$T/p.json" > "$T/run.out" 2>&1 || bail_out "deploy" "$(cat "$T/run.out")"
cli() { redis-cli -p "$PORT" "$@"; }
# The EVALSHA path as a server before Redis 7 has it: the same plan
# deployed to a second server for EVALSHA (RLC_NO_FUNCTIONS=1: the script
# the deploy makes, the configs with their twins), asked for acme there.
# The script's sha is the one rlc decide --plan sends (MONITOR).
PORT2=$(free_port)
start_redis "$PORT2" || bail_out "redis starts" "see stderr"
cli2() { redis-cli -p "$PORT2" "$@"; }
RLC_NO_FUNCTIONS=1 RLC_REDIS_URL="redis://127.0.0.1:$PORT2" \
    "$RLC" run -q --state-dir "$T/state2" "$T/p.json" > "$T/run2.out" 2>&1 ||
    bail_out "deploy for EVALSHA" "$(cat "$T/run2.out")"
monitor_start "$PORT2" "$T/mon" || bail_out "MONITOR" "did not start"
RLC_NO_FUNCTIONS=1 RLC_REDIS_URL="redis://127.0.0.1:$PORT2" \
    "$RLC" decide --plan "$T/p.json" --dry-run beta > /dev/null 2>&1
monitor_stop "$PORT2" "$T/mon"
SHA=$(sed -n 's/.*"EVALSHA" "\([0-9a-f]\{40\}\)".*/\1/p' "$T/mon" | head -1)
[ -n "$SHA" ] && [ "$(cli2 script exists "$SHA")" = 1 ] ||
    bail_out "the EVALSHA script" "no sha in $(head -3 "$T/mon")"
# answers FILE: "allowed rule" per decision of FILE (one command a line;
# each answer is seven lines: no rule here is a shadow rule, SPEC.md 6.3).
answers() {
    cli < "$1" | awk 'NR % 7 == 1 { a = $0 } NR % 7 == 2 { print a, $0 }'
}
# dec TENANT PATH METHOD ROUTE: one FCALL decide command line.
dec() { printf 'FCALL rlc_decide 1 {sh:%s}:active "%s" %s "%s" 1 "" ""\n' "$1" "$2" "$3" "$4"; }

# Route rules, every URL new: 2 of GET /v1/items/*, 1 of POST /v1/items
# (the same as /v1/items/: empty segments do not count), 3 of ANY
# /v2/*/x; what no route matches is only the tenant's.
{
    for i in 101 102 103 104; do dec acme "" GET "/v1/items/$i"; done
    dec acme "" GET "//v1//items/105/"
    dec acme "" GET "/v1/items"
    dec acme "" POST "/v1/items"
    dec acme "" POST "/v1/items/"
    dec acme "" POST "/v1/items/9"
    for m in GET PUT DELETE POST; do dec acme "" "$m" "/v2/a$m/x"; done
    dec acme "" GET "/v2/a/x/y"
    dec acme "" GET "/v2/x"
} > "$T/routes"
answers "$T/routes" > "$T/routes.out"
got=$(awk '{ printf "%s", $1 }' "$T/routes.out")
[ "$got" = "110001101111011" ] &&
    ok "route rules decide URLs never seen before (trailing *, * segment, empty segments, ANY)" ||
    notok "route rules decide URLs never seen before" "allowed $got, want 110001101111011"
r1=$(sed -n 3p "$T/routes.out" | cut -d' ' -f2)
r2=$(sed -n 5p "$T/routes.out" | cut -d' ' -f2)
r3=$(sed -n 13p "$T/routes.out" | cut -d' ' -f2)
[ -n "$r1" ] && [ "$r1" = "$r2" ] && [ "$r1" != "$r3" ] &&
    ok "every new URL under /v1/items/* is rejected by that one route rule" ||
    notok "every new URL under /v1/items/* is rejected by its route rule" "$r1 / $r2 / $r3"

# The same requests by EVALSHA, on the server deployed for it: the same
# answers.
sed -e "s|^FCALL rlc_decide 1 {sh:acme}:active|EVALSHA $SHA 1 {sh:acme}:active decide|" \
    "$T/routes" > "$T/routes.e"
cli2 < "$T/routes.e" | awk 'NR % 7 == 1' > "$T/routes.e.out"
awk '{ print $1 }' "$T/routes.out" | cmp -s - "$T/routes.e.out" &&
    ok "EVALSHA decides the route requests as FCALL does" ||
    notok "EVALSHA decides the route requests as FCALL does" "$(tr '\n' ' ' < "$T/routes.e.out")"

# Many shapes, both ways: paths (the tenant, the group, listed keys and
# keys that neither lists), methods and URLs, for acme by FCALL and the
# same for acme by EVALSHA on the server deployed for it.  The tenant's
# limit is a fixed window, so the time between the two runs changes no
# remaining.
awk 'BEGIN {
    split("GET POST PUT ANY", m, " ")
    split("/v1/items/%d|/v1/items|/v2/%d/x|/v2/%d/x/y|/|//v1/items/%d/|/v3/%d", u, "|")
    split("|group:g|group:g/key:z%d|group:h|group:g/key:m%d", p, "|")
    for (i = 0; i < 600; i++) {
        r = u[i % 7 + 1]; sub(/%d/, i, r)
        # One path in five a key acme lists for this test (m1..m600, each
        # once: its 1/1h admits), one a name no config lists (z30000..).
        q = p[int(i / 7) % 5 + 1]; sub(/%d/, (q ~ /key:m/ ? i + 1 : 30000 + i), q)
        printf "FCALL rlc_decide 1 {sh:acme}:active \"%s\" %s \"%s\" 1 \"\" \"\"\n", q, m[i % 4 + 1], r
    }
}' > "$T/many"
sed -e "s|^FCALL rlc_decide 1 {sh:acme}:active|EVALSHA $SHA 1 {sh:acme}:active decide|" \
    "$T/many" > "$T/many.e"
cli < "$T/many" | awk 'NR % 7 == 1 || NR % 7 == 3' > "$T/many.out"
cli2 < "$T/many.e" | awk 'NR % 7 == 1 || NR % 7 == 3' > "$T/many.e.out"
n=$(wc -l < "$T/many.out")
[ "$n" = 1200 ] && cmp -s "$T/many.out" "$T/many.e.out" &&
    ok "EVALSHA and FCALL give the same allowed and remaining over 600 shapes" ||
    notok "EVALSHA and FCALL agree over 600 shapes" "$n lines; $(diff "$T/many.out" "$T/many.e.out" | head -3)"

# Far more shapes than the caches hold: every listed key of acme once
# (each admitted by its 1/1h), every one of NK unlisted tenants once, then
# again the first and the last: each is rejected, its counter found under
# the plan resolved again.
awk -v n="$NK" 'BEGIN {
    for (i = 1; i <= n; i++) {
        printf "FCALL rlc_decide 1 {sh:acme}:active group:g/key:k%d GET /a/%d 1 \"\" \"\"\n", i, i
        printf "FCALL rlc_decide 1 {sh:u%d}:active \"\" GET /a/%d 1 \"\" \"\"\n", i, i
    }
}' > "$T/bulk"
cli < "$T/bulk" | awk 'NR % 7 == 1' | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }' > "$T/bulk.out"
[ "$(cat "$T/bulk.out")" = "1:$((2 * NK)) " ] &&
    ok "$NK listed keys and $NK unlisted tenants, each new: every one admitted" ||
    notok "$NK listed keys and $NK unlisted tenants admitted" "$(cat "$T/bulk.out")"
{
    for i in 1 2 3 $((NK / 2)) $((NK - 1)) $NK; do
        dec acme "group:g/key:k$i" GET "/x/$i"
    done
} > "$T/again"
got=$(answers "$T/again" | awk '{ printf "%s", $1 }')
[ "$got" = 000000 ] && ok "after $NK listed keys, each key decided again is rejected by its own limit" ||
    notok "listed keys decided again after the caches passed their bound" "allowed $got"
{
    for i in 1 2 3 $((NK / 2)) $((NK - 1)) $NK; do dec "u$i" "" GET "/x"; done
    dec "u$((NK + 1))" "" GET "/x"
} > "$T/again.u"
got=$(answers "$T/again.u" | awk '{ printf "%s", $1 }')
[ "$got" = 0000001 ] &&
    ok "after $NK unlisted tenants, each decided again is rejected, a new one admitted" ||
    notok "unlisted tenants decided again after the caches passed their bound" "allowed $got"
# A listed tenant in the namespace of tenant *, never decided before and
# after the unlisted ones: its own config, not tenant *'s.
got=$(answers "$T/routes" | awk '{ printf "%s", $1 }' | head -c 4)
[ "$got" = 0000 ] && ok "acme is still decided by its own routes after the bulk" ||
    notok "acme decided by its own routes after the bulk" "allowed $got"
got=$(dec beta "group:g" GET "/v2/q/z" | cli | head -1)
[ "$got" = 1 ] && ok "a listed tenant first seen after many unlisted ones is decided by its config" ||
    notok "a listed tenant first seen after many unlisted ones" "allowed $got"
# The live Lua memory, after a full collection: functions share one Lua
# state, so a library of the test's own collects it.
cli FUNCTION LOAD "#!lua name=heapprobe
redis.register_function('heap_live', function()
    collectgarbage('collect')
    return math.floor(collectgarbage('count') * 1024)
end)" > /dev/null
mem=$(cli FCALL heap_live 0)
[ -n "$mem" ] && [ "$mem" -lt 50331648 ] &&
    ok "the library's Lua memory stays bounded (under 48 MB) after $((2 * NK)) shapes" ||
    notok "the library's Lua memory stays bounded after $((2 * NK)) shapes" "${mem:-?} bytes"
# What clients name adds no weight: NK paths of acme ending at keys it does
# not list (each a plan of its own, about 1.8 KB with its route node, and
# a name remembered as none) grow the library by at most what the 4 096
# plans and names per generation such paths get hold (16 MB), and push no
# listed plan out (the next case).
awk -v n="$NK" 'BEGIN {
    for (i = 1; i <= n; i++)
        printf "FCALL rlc_decide 1 {sh:acme}:active group:g/key:z%d GET /b/%d 1 \"\" \"\"\n", i, i
}' > "$T/junk"
cli < "$T/junk" > /dev/null
mem2=$(cli FCALL heap_live 0)
[ -n "$mem2" ] && [ $((mem2 - mem)) -lt 20971520 ] &&
    ok "$NK paths naming keys acme does not list grow the library by under 20 MB" ||
    notok "paths naming keys acme does not list stay bounded" "${mem:-?} -> ${mem2:-?} bytes"
# Every listed key of acme a second time round, as the bulk sent them: a
# working set of listed paths far past 4 096 still hits, since the plans
# a cache holds are sized by the configs it holds (SPEC.md 6.2).  A plan
# missed reads its key's field (HMGET); a cache of 4 096 plans per
# generation missed on every one.
awk -v n="$NK" 'BEGIN {
    for (i = 1; i <= n; i++)
        printf "FCALL rlc_decide 1 {sh:acme}:active group:g/key:k%d GET /a/%d 1 \"\" \"\"\n", i, i
}' > "$T/bulk2"
cli CONFIG RESETSTAT > /dev/null
cli < "$T/bulk2" | awk 'NR % 7 == 1' | sort | uniq -c | awk '{ printf "%s:%s ", $2, $1 }' > "$T/bulk2.out"
reads=$(cli INFO commandstats | tr -d '\r' |
    awk -F'[:=,]' '$1 ~ /^cmdstat_(hmget|hget|hgetall|hlen|get)$/ { n += $3 } END { print n + 0 }')
[ "$(cat "$T/bulk2.out")" = "0:$NK " ] && [ "$reads" = 0 ] &&
    ok "$NK listed keys decided again: every plan still cached (no config read), each rejected" ||
    notok "$NK listed keys decided again from cached plans" "$(cat "$T/bulk2.out"); $reads config reads"
# A redeploy that changes acme's routes: the routed plans of the old
# config are not used under the new one.
sed -e 's|route GET "/v1/items/\*" {|route GET "/v1/*" {|' "$T/p.rlp" > "$T/q.rlp"
"$RLC" compile -q "$T/q.rlp" -o "$T/q.json" && "$RLC" run -q "$T/q.json" > "$T/run2.out" 2>&1
got=$({ dec acme "" GET "/v1/other/1"; dec acme "" GET "/v1/other/2"; dec acme "" GET "/v1/other/3"; } |
    cli | awk 'NR % 7 == 1' | tr -d '\n')
[ "$got" = 110 ] && ok "after a redeploy a changed route pattern decides new URLs (GET /v1/*: 2 of 3)" ||
    notok "a changed route pattern after a redeploy" "allowed $got"
