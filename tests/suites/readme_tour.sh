#!/bin/sh
# readme_tour.sh - the README's tour is true.  Every ```sh block is run, in
# order, in one shell, as a reader pasting them into one terminal would
# (so `export` and `cd` carry over); the output of each one followed by a
# ```text block, stdout and stderr together, must be exactly that text.
#
# Adaptations, each the least that lets the tour run here:
# - the tour starts in $T/root, whose build/rlc is the rlc under test, so
#   the README's `export PATH="$PWD/build:$PATH"` finds it; its
#   `mktemp -d` lands in $T (TMPDIR);
# - the tour's Redis port 6399 is replaced everywhere by a free port (tests
#   never use fixed ports: other test runs share this machine);
# - run ids, times, digests and the measured clock offset differ on every
#   run: they are masked on both sides before comparing.
# The tour stops its own Redis; if it does not, that is a failure, and the
# server (found by the pidfile the README gives it) is stopped here.
. "$ROOT/tests/lib.sh"

mkdir -p "$T/root/build" "$T/blocks" "$T/got" "$T/tmp"
ln -s "$RLC" "$T/root/build/rlc"
PORT=$(free_port)

# NNN.sh / NNN.text files, numbered in order of appearance.
awk -v dir="$T/blocks" '
/^```/ {
    if (out != "") { close(out); out = ""; infence = 0; next }
    if (infence) { infence = 0; next }
    infence = 1
    kind = substr($0, 4)
    if (kind == "sh" || kind == "text") {
        n++
        out = sprintf("%s/%03d.%s", dir, n, kind)
        printf "" > out
    }
    next
}
out != "" { print > out }
' "$ROOT/README.md"
for f in "$T"/blocks/*; do
    sed "s/6399/$PORT/g" "$f" > "$f.tmp" && mv "$f.tmp" "$f"
done
# A case per sh block followed by a text block, two others.
nsteps=0
for f in "$T"/blocks/*.sh; do
    [ -e "$f" ] || continue
    num=$(basename "$f" .sh | sed 's/^0*//')
    [ -e "$T/blocks/$(printf '%03d' $((num + 1))).text" ] && nsteps=$((nsteps + 1))
done
plan $((nsteps + 2))

# One script: each block inside { } with its output sent to got/NNN.
for f in "$T"/blocks/*.sh; do
    [ -e "$f" ] || continue
    num=$(basename "$f" .sh)
    printf '{\n'
    cat "$f"
    printf '\n} > "%s/got/%s" 2>&1\n' "$T" "$num"
done > "$T/tour.sh"
(
    cd "$T/root" || exit 1
    unset RLC_REDIS_URL RLC_STATE_DIR
    TMPDIR="$T/tmp" NO_COLOR=1 timeout 300 sh "$T/tour.sh" > "$T/tour.out" 2>&1
)

[ -n "${RLC_TOUR_KEEP:-}" ] && cp -r "$T/got" "$T/blocks" "$RLC_TOUR_KEEP/"
mask() {
    sed -E -e 's/[0-9]{8}T[0-9]{6}(\.[0-9]+)?Z-[0-9a-f]{16}/RUN-ID/g' \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z/TIME/g' \
        -e 's/[0-9a-f]{64}/DIGEST/g' \
        -e 's/plan [0-9a-f]{16},/plan DIGEST,/g' \
        -e 's/clocks within [0-9]+ ms/clocks within N ms/g' "$1"
}
ran=0
for f in "$T"/blocks/*.sh; do
    [ -e "$f" ] || continue
    num=$(basename "$f" .sh | sed 's/^0*//')
    next=$(printf '%03d' $((num + 1)))
    want="$T/blocks/$next.text"
    [ -e "$want" ] || continue
    ran=$((ran + 1))
    name="README tour step $ran: $(head -1 "$f" | sed "s/$PORT/6399/g" | cut -c1-50)"
    got="$T/got/$(basename "$f" .sh)"
    [ -e "$got" ] || { notok "$name" "never ran"; continue; }
    mask "$want" > "$T/want.m"; mask "$got" > "$T/got.m"
    if cmp -s "$T/got.m" "$T/want.m"; then
        ok "$name"
    else
        notok "$name" "output differs: $(diff "$T/want.m" "$T/got.m" | head -6 | tr '\n' ' ')"
    fi
done
[ $ran -ge 10 ] && ok "README tour has its steps ($ran)" || notok "README tour has its steps" "ran $ran"

# The tour's Redis must be gone.
left=""
for pf in $(find "$T" -name redis.pid 2>/dev/null); do
    pid=$(cat "$pf")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        left="$left $pid"; RLC_PIDS="$RLC_PIDS $pid"
    fi
done
if [ -z "$left" ] && [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" != PONG ]; then
    ok "README tour stops the Redis it started"
else
    notok "README tour stops the Redis it started" "still running:${left:- something on port $PORT}"
fi
