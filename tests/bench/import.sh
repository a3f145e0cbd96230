#!/bin/sh
# import.sh - `rlc import envoy` of a generated Envoy ratelimit config with
# 100 000 descriptors (1 000 keys with a default, each with 99 values that
# override it): wall time and peak memory (GNU time's maximum resident set)
# against the targets of 2 s and 3 x the YAML's size.
set -u
BUILD=${BUILD:-build}
. "$(dirname "$0")/lib.sh"
RLC=${RLC:-$BUILD/rlc}
T=$(mktemp -d /tmp/rlc-bench-import.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM
awk 'BEGIN {
    print "domain: bench"
    print "descriptors:"
    for (k = 0; k < 1000; k++) {
        printf "  - key: key%d\n    rate_limit:\n      unit: minute\n      requests_per_unit: 100\n", k
        for (v = 0; v < 99; v++)
            printf "  - key: key%d\n    value: value%d\n    rate_limit:\n      unit: second\n      requests_per_unit: %d\n", k, v, 5 + v
    }
}' > "$T/envoy.yaml"
size=$(wc -c < "$T/envoy.yaml")
if ! command -v /usr/bin/time >/dev/null; then
    echo "import: /usr/bin/time not installed (apt-get install time), skipped"
    exit 0
fi
/usr/bin/time -f '%e %M' -o "$T/time" "$RLC" import envoy "$T/envoy.yaml" -o "$T/out.rlp" \
    2> "$T/err"
rc=$?
read -r secs kb < "$T/time"
awk -v s="$secs" -v kb="$kb" -v size="$size" -v rc="$rc" 'BEGIN {
    mb = kb / 1024; ratio = kb * 1024 / size
    printf "import envoy, 100000 descriptors (%.1f MB of YAML): exit %d, %.2f s (target <= 2 s) %s, peak %.0f MB = %.1f x the YAML (target <= 3 x) %s\n",
        size / 1048576, rc, s, (s <= 2 ? "PASS" : "MISS"), mb, ratio, (ratio <= 3 ? "PASS" : "MISS")
}'
[ "$rc" = 0 ] || { echo "import: rlc import exited $rc" >&2; exit 1; }
bench_record "import envoy, 100000 descriptors: wall" "$secs" s "<=" 2
bench_record "import envoy, 100000 descriptors: peak RSS / YAML size" \
    "$(awk -v kb="$kb" -v size="$size" 'BEGIN { printf "%.2f", kb * 1024 / size }')" x "<=" 3
