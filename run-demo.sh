#!/bin/sh
# run-demo.sh - the main job on a local default: check every example policy
# and verify that each is in canonical form.  Later issues extend this to
# compiling the examples and deploying them to a throwaway Redis.
#
#   make deps && make && ./run-demo.sh
#
# RLC overrides the binary (default ./build/rlc).  Exit status 0 when every
# example is clean and canonical, 1 otherwise.
set -eu
cd "$(dirname "$0")"
RLC=${RLC:-./build/rlc}
if [ ! -x "$RLC" ]; then
    echo "run-demo.sh: $RLC not found; run 'make' first" >&2
    exit 2
fi
"$RLC" --version
n=0
for f in examples/*.rlp; do
    # Each example is a policy of its own: check them one at a time (the
    # files named in one `rlc check` run form a single policy).
    "$RLC" check "$f"
    echo "check  $f: clean"
    n=$((n + 1))
done
"$RLC" fmt --check examples/*.rlp
echo "fmt    examples/*.rlp: canonical"
echo "$n example policies: all clean and canonical"
