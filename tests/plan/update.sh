#!/bin/sh
# update.sh - regenerates tests/plan/small.expected.json from small.rlp and
# lib.lua.  Run after a deliberate change of the plan format, then read the
# diff: the golden plan is what the plan suite compares byte for byte.
set -eu
cd "$(dirname "$0")"
../../build/rlc compile --library lib.lua small.rlp -o small.expected.json
