#!/bin/sh
# diag.sh - rendering many diagnostics, part of `make bench`: 10 000 and
# 20 000 warnings on one line (one tenant without limits each), `rlc check`
# in every format, the wall time of each and the 20k/10k ratio (about 2
# when rendering is linear; it was over 5 when each diagnostic counted its
# column from the start of the line).  Figures, not a test: exits 0.
#
#   BUILD=build sh tests/bench/diag.sh
set -u
BUILD=${BUILD:-build}
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RLC="$ROOT/$BUILD/rlc"
[ -x "$RLC" ] || { echo "bench: $RLC missing (run make bench)" >&2; exit 2; }
OUT=$(mktemp -d "${TMPDIR:-/tmp}/rlc-bench-diag.XXXXXX")
trap 'rm -rf "$OUT"' EXIT INT TERM

gen() {
    awk -v n="$1" 'BEGIN { printf "policy \"p\" { namespace = \"p\" }"
        for (i = 0; i < n; i++) printf " tenant \"t%d\" { }", i
        printf "\n" }' > "$OUT/w$1.rlp"
}
# secs FORMAT N: wall seconds of one rlc check.
secs() {
    s=$(date +%s.%N)
    "$RLC" check --format="$1" "$OUT/w$2.rlp" >/dev/null 2>&1
    e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" 'BEGIN { print e - s }'
}
gen 10000
gen 20000
echo "# diagnostics: warnings on one line, rlc check wall time"
printf '%-8s %10s %10s %8s\n' format 10k_s 20k_s ratio
for f in text json sarif github; do
    a=$(secs "$f" 10000)
    b=$(secs "$f" 20000)
    r=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", b / a }')
    printf '%-8s %10.3f %10.3f %8.2f\n' "$f" "$a" "$b" "$r"
    bench_record "rlc check --format=$f, 20k / 10k warnings on one line" "$r" x "<=" 3
done
exit 0
