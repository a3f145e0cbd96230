#!/bin/sh
# update.sh - regenerates the expected output of the hazards cases; see
# tests/update_expected.sh.   sh tests/hazards/update.sh [NAME...]
exec sh "$(dirname "$0")/../update_expected.sh" hazards "$@"
