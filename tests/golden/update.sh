#!/bin/sh
# update.sh - regenerates the expected output of the golden cases; see
# tests/update_expected.sh.   sh tests/golden/update.sh [NAME...]
exec sh "$(dirname "$0")/../update_expected.sh" golden "$@"
