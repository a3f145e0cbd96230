#!/bin/sh
# expiry.sh - the expiry each decision writes on a counter (SPEC.md 6.5),
# checked on a real redis-server by what the library sends (MONITOR) and
# what the store holds (PEXPIRETIME, the state): with server time a fixed
# or approximate sliding window sets its expiry once per window (window end
# + 2 x skew + 1 ms) and later writes keep it (SETRANGE over the state,
# which keeps the expiry); a token bucket
# or GCRA sets its expiry with a slack (1 s or 1/16 of the time to full)
# and records it in its state, and a write whose needed expiry is not later
# keeps it (a token bucket's rewrites its two numbers only, SETRANGE of 16
# bytes); with client time every write sets a relative expiry; a redeploy
# that makes a bucket full sooner never moves its expiry before the one its
# state records.  And the time a decision uses is TIME's.
. "$ROOT/tests/lib.sh"
plan 15

policy() { # NAME TIME_SOURCE BURST
    cat <<P
policy "$1" {
  namespace = "$1"
  time_source = $2
  max_clock_skew = 25ms
}
target redis "primary" {
  url = env("RLC_REDIS_URL")
}
tenant "fw" {
  limit 100/1h algorithm fixed_window
}
tenant "as" {
  limit 100/1h algorithm approx_sliding_window
}
tenant "tb" {
  limit 100000/1h burst $3
}
tenant "gc" {
  limit 100000/1h burst $3 algorithm gcra
}
P
}
policy ex server 100000 > "$T/ex.rlp"
policy ex server 50000 > "$T/ex2.rlp"
policy exc client 100000 > "$T/exc.rlp"
for p in ex ex2 exc; do
    "$RLC" compile -q "$T/$p.rlp" -o "$T/$p.json" || bail_out "compile $p" "failed"
done
PORT=$(free_port)
start_redis "$PORT" || bail_out "redis starts" "see stderr"
export RLC_REDIS_URL="redis://127.0.0.1:$PORT"
RLC_STATE_DIR="$T/s-ex" "$RLC" run -q "$T/ex.json" || bail_out "deploy ex" "failed"
RLC_STATE_DIR="$T/s-exc" "$RLC" run -q "$T/exc.json" || bail_out "deploy exc" "failed"

# The checks run in Python (a RESP client, MONITOR on a second connection);
# each prints "ok NAME" or "not ok NAME: why".
python3 - "$PORT" "$RLC" "$T" > "$T/out" 2>&1 <<'PY'
import codecs, os, socket, struct, subprocess, sys, time
port, rlc, tmp = int(sys.argv[1]), sys.argv[2], sys.argv[3]
W, SKEW = 3600000, 25

class Conn:
    def __init__(self):
        self.s = socket.create_connection(("127.0.0.1", port))
        self.f = self.s.makefile("rb")
    def send(self, *a):
        a = [x if isinstance(x, bytes) else str(x).encode() for x in a]
        self.s.sendall(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
    def reply(self):
        l = self.f.readline()[:-2]; t, r = l[:1], l[1:]
        if t == b"+": return r
        if t == b"-": raise RuntimeError(r.decode())
        if t == b":": return int(r)
        if t == b"$":
            n = int(r)
            return None if n < 0 else self.f.read(n + 2)[:-2]
        if t == b"*":
            n = int(r)
            return None if n < 0 else [self.reply() for _ in range(n)]
    def cmd(self, *a):
        self.send(*a)
        return self.reply()

c = Conn()
mon = Conn()
mon.cmd("MONITOR")
MARK = 0
# The length of each value SETRANGE wrote, as writes() saw them.
SETRANGE_LEN = []
def writes(key):
    """The writes the library sent for key since the last call: SET as its
    arguments after the value (the expiry options), SETRANGE as
    [b"SETRANGE"]."""
    global MARK
    MARK += 1
    tag = b"mark-%d" % MARK
    c.cmd("ECHO", tag)
    out = []
    while True:
        line = mon.f.readline()
        if tag in line:
            return out
        if b'"SET" "' + key.encode() + b'"' in line:
            out.append(line.split(b'" "')[3:])
        elif b'"SETRANGE" "' + key.encode() + b'" "0" "' in line:
            v = line.rstrip(b"\r\n").split(b'" "0" "', 1)[1][:-1]
            SETRANGE_LEN.append(len(codecs.escape_decode(v)[0]))
            out.append([b"SETRANGE"])

def decide(ns, tenant, now=""):
    r = c.cmd("FCALL", "rlc_decide", 1, "{%s:%s}:active" % (ns, tenant), "", "GET", "/", 1, now, "")
    assert r[0] == 1, r
    return r

def counter(ns, tenant):
    ks = c.cmd("KEYS", "{%s:%s}:c:*" % (ns, tenant))
    assert len(ks) == 1, ks
    return ks[0].decode()

def check(name, cond, why):
    print(("ok " + name) if cond else ("not ok %s: %s" % (name, why)), flush=True)

# now_ms is TIME in ms (the library reads its microseconds' leading digits
# as bytes): between a TIME before the call and one after, over enough
# calls that microseconds of 4, 5 and 6 digits all occur.
def ms(t):
    return int(t[0]) * 1000 + int(t[1]) // 1000
bad = []
for i in range(400):
    b = ms(c.cmd("TIME"))
    r = c.cmd("FCALL", "rlc_decide", 1, "{ex:fw}:active", "", "GET", "/", 1, "", "")
    a = ms(c.cmd("TIME"))
    if not b <= r[5] <= a:
        bad.append((b, r[5], a))
check("now_ms is TIME in ms", not bad, "before, now_ms, after: %r" % bad[:3])
c.cmd("DEL", *c.cmd("KEYS", "{ex:fw}:c:*"))
writes("none")

# Windows: the expiry is the window's end + 2 x skew + 1, set once.
for tenant, span in (("fw", W), ("as", 2 * W)):
    r1 = decide("ex", tenant)
    k = counter("ex", tenant)
    w1 = writes(k)
    e1 = c.cmd("PEXPIRETIME", k)
    want = r1[5] // W * W + span + 2 * SKEW + 1
    r2 = decide("ex", tenant)
    w2 = writes(k)
    e2 = c.cmd("PEXPIRETIME", k)
    same_window = r1[5] // W == r2[5] // W
    check("%s: the window's first write sets its end + 2 x skew + 1 ms (PXAT)" % tenant,
          e1 == want and len(w1) == 1 and b"PXAT" in w1[0][-2], "expiry %d, want %d; %r" % (e1, want, w1))
    check("%s: a later write in the window keeps it (SETRANGE)" % tenant,
          not same_window or (e2 == e1 and w2 == [[b"SETRANGE"]]),
          "expiry %d then %d; %r" % (e1, e2, w2))

# Buckets: the needed expiry plus a slack, recorded in the state.
for tenant in ("tb", "gc"):
    r1 = decide("ex", tenant)
    k = counter("ex", tenant)
    writes(k)
    e1 = c.cmd("PEXPIRETIME", k)
    need = r1[5] + r1[3] + 2 * SKEW + 1
    want = need + max(1000, r1[3] // 16)
    st = c.cmd("GET", k)
    check("%s: expiry = needed + max(1 s, time to full / 16), kept in the state" % tenant,
          e1 == want and len(st) == 24 and struct.unpack("ddd", st)[2] == e1,
          "expiry %d, want %d (needed %d); state %r" % (e1, want, need, st))
    r2 = decide("ex", tenant)
    w2 = writes(k)
    e2 = c.cmd("PEXPIRETIME", k)
    need2 = r2[5] + r2[3] + 2 * SKEW + 1
    # A charge adds 36 ms to the time to full, well within the slack.  A
    # token bucket's write rewrites its two numbers only, GCRA's its state.
    n = 16 if tenant == "tb" else 24
    check("%s: a write that needs no later expiry keeps it (SETRANGE of %d bytes)" % (tenant, n),
          need2 <= e1 and e2 == e1 and w2 == [[b"SETRANGE"]] and SETRANGE_LEN[-1:] == [n]
          and struct.unpack("ddd", c.cmd("GET", k))[2] == e1,
          "expiry %d then %d, needed %d; %r, SETRANGE of %r bytes" % (e1, e2, need2, w2, SETRANGE_LEN[-1:]))

# Client time: relative expiries on every write, none recorded.
now = int(time.time() * 1000)
for tenant in ("fw", "tb"):
    decide("exc", tenant, now)
    k = counter("exc", tenant)
    decide("exc", tenant, now + 1)
    ws = writes(k)
    st = c.cmd("GET", k)
    check("client time, %s: every write sets a relative expiry (PX)" % tenant,
          len(ws) == 2 and all(b"PX" == w[-2].strip(b'"') for w in ws)
          and (tenant == "fw" or struct.unpack("ddd", st)[2] == 0),
          "%r, state %r" % (ws, st))

# A redeploy that halves the burst: the bucket is full at once under the
# new numbers, but the expiry its state records must stay.
ks = {t: counter("ex", t) for t in ("tb", "gc")}
before = {t: struct.unpack("ddd", c.cmd("GET", k))[2] for t, k in ks.items()}
subprocess.run([rlc, "run", "-q", tmp + "/ex2.json"], check=True,
               env=dict(os.environ, RLC_STATE_DIR=tmp + "/s-ex"))
for t, k in ks.items():
    e = c.cmd("PEXPIRETIME", k)
    check("%s: a redeploy that fills the bucket sooner keeps the recorded expiry" % t,
          e >= before[t], "expiry %d before the recorded %d" % (e, before[t]))
r = decide("ex", "tb")
e = c.cmd("PEXPIRETIME", ks["tb"])
check("tb: after the redeploy a decision keeps an expiry that covers it",
      e >= r[5] + r[3] + 2 * SKEW + 1, "expiry %d, needed %d" % (e, r[5] + r[3] + 2 * SKEW + 1))
PY
st=$?
n=0
while IFS= read -r line; do
    case $line in
    "ok "*) ok "${line#ok }"; n=$((n + 1)) ;;
    "not ok "*) notok "${line#not ok }" ""; n=$((n + 1)) ;;
    esac
done < "$T/out"
if [ $st -eq 0 ] && [ $n -eq 14 ]; then ok "the checks ran to the end"
else notok "the checks ran to the end" "exit $st, $n checks: $(tail -5 "$T/out")"; fi
