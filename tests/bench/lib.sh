# lib.sh - what every bench script shares: bench_record, which adds one
# figure to the report that `make bench` writes (tests/bench/report.sh).
# Sourced, not run.  Outside report.sh (BENCH_RECORD unset) it records
# nothing, so a bench script still runs on its own.
#
#   bench_record NAME VALUE UNIT [OP TARGET]
#
# NAME says what was measured ("rlc run, 100000 tenants"), VALUE is a
# number, UNIT its unit ("s", "kIr", "x" for a ratio), and OP TARGET the
# goal it is held to (OP one of <= >= < >), from which the record's "pass"
# is computed.  Each record carries the 1-minute load at the moment it was
# taken, since a timed figure means little without it.  The C benches
# write the same lines through tests/bench/record.h.

# bench_time FILE CMD [ARGS...]: runs CMD and writes "USER SYS MAXRSS_KB
# WALL" to FILE, the times in seconds to the microsecond (the kernel's
# rusage: GNU time prints hundredths, a tenth of a 0.05 s run); exits as
# CMD did.  WALL is taken around the fork and the wait only: the
# interpreter's own start (0.33 s on the measured VM) is not CMD's time.
bench_time() {
    _bt_out=$1; shift
    python3 -c '
import os, sys, time
t0 = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, st, ru = os.wait4(pid, 0)
wall = time.perf_counter() - t0
open(sys.argv[1], "w").write("%.6f %.6f %d %.6f\n" % (ru.ru_utime, ru.ru_stime, ru.ru_maxrss, wall))
sys.exit(os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))
' "$_bt_out" "$@"
}

# bench_json_string S: S as a JSON string (names are ours: quotes and
# backslashes escaped, tabs and newlines made spaces, is all they need).
bench_json_string() {
    printf '"%s"' "$(printf '%s' "$1" | tr '\n\t\r' '   ' | sed 's/\\/\\\\/g; s/"/\\"/g')"
}

bench_record() {
    [ -n "${BENCH_RECORD:-}" ] || return 0
    _br_name=$1 _br_value=$2 _br_unit=$3 _br_op=${4:-} _br_target=${5:-}
    _br_load=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo 0)
    case $_br_value in
        ''|*[!0-9.eE+-]*) _br_value=null ;;
    esac
    _br_pass=null
    if [ -n "$_br_op" ] && [ "$_br_value" != null ]; then
        _br_pass=$(awk -v v="$_br_value" -v op="$_br_op" -v t="$_br_target" 'BEGIN {
            r = (op == "<=") ? v <= t : (op == ">=") ? v >= t : (op == "<") ? v < t : (op == ">") ? v > t : -1
            print (r < 0 ? "null" : (r ? "true" : "false")) }')
    fi
    {
        printf '{"bench":%s,"name":%s,"value":%s,"unit":%s' \
            "$(bench_json_string "${BENCH_SCRIPT:-}")" "$(bench_json_string "$_br_name")" \
            "$_br_value" "$(bench_json_string "$_br_unit")"
        if [ -n "$_br_op" ]; then
            printf ',"target":%s' "$(bench_json_string "$_br_op $_br_target")"
        fi
        printf ',"pass":%s,"load":%s}\n' "$_br_pass" "$_br_load"
    } >> "$BENCH_RECORD"
}
