#!/bin/sh
# update_expected.sh - regenerates the expected output of the golden or the
# hazard cases (tests/golden/update.sh and tests/hazards/update.sh call it).
#
# For every tests/DIR/NAME.rlp it runs, from inside tests/DIR,
#   rlc check --color=never NAME.rlp            -> NAME.expected (stderr + "exit N")
# and, for cases that have a NAME.expected.json (create an empty one to add
# a case to the JSON set),
#   rlc check --format=json NAME.rlp            -> NAME.expected.json (stdout + "exit N")
# Files under lib/ are imported helpers, not cases.  Read every changed
# expectation before committing it: the suites trust these files.
#
#   sh tests/update_expected.sh golden|hazards [NAME...]   (RLC=path/to/rlc)
set -u
[ $# -ge 1 ] || { echo "usage: update_expected.sh golden|hazards [NAME...]" >&2; exit 2; }
dir=$1; shift
cd "$(dirname "$0")/$dir" || exit 2
RLC=${RLC:-../../build/rlc}
case "$RLC" in /*) ;; *) RLC="$(pwd)/$RLC" ;; esac
[ -x "$RLC" ] || { echo "update_expected.sh: no rlc at $RLC (run make first)" >&2; exit 2; }

if [ $# -gt 0 ]; then names="$*"; else
    names=$(for f in *.rlp; do [ -e "$f" ] || [ -L "$f" ] && echo "${f%.rlp}"; done)
fi
for n in $names; do
    n=${n%.rlp}
    { "$RLC" check --color=never "$n.rlp" 2>&1 >/dev/null; echo "exit $?"; } > "$n.expected"
    if [ -e "$n.expected.json" ]; then
        { "$RLC" check --format=json "$n.rlp" 2>/dev/null; echo "exit $?"; } > "$n.expected.json"
    fi
done
