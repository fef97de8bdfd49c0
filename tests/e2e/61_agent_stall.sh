#!/bin/bash
# No client holds the agent: 70 connections that send half a request and
# stall lose their slots (to newer connections at once, to the request
# deadline after a few seconds, each told why), while a `captrail events`
# client connects and gets real events and `captrail profile` answers; a
# streaming client that never reads is disconnected after its queue stayed
# full, with whole lines and a last notice counting what it lost, while
# the other client keeps receiving.
. "$(dirname "$0")/lib.sh"
need_root
PY=/usr/bin/python3
[ -x "$HELPERS/cap_loop" ] || fail "no $HELPERS/cap_loop"
# A name of its own: the filters below see this test's checks only.
LOOP=$WORK/stall_loop
cp "$HELPERS/cap_loop" "$LOOP"

DB=$WORK/captrail.db SOCK=$WORK/run/captrail.sock
"$CAPTRAIL" agent --db "$DB" --socket "$SOCK" --flush-interval 1 --metrics 127.0.0.1:0 \
	2>"$WORK/agent.err" &
AGENT=$!
cleanup_hooks+=("kill -KILL $AGENT 2>/dev/null")
wait_agent '^captrail agent: metrics on port'
PORT=$(sed -n 's/^captrail agent: metrics on port //p' "$WORK/agent.err")

# 70 half requests, more than the agent's 64 slots; held until the agent
# has closed each, then what each was told.
$PY - "$SOCK" "$WORK/stallers" <<'PYEOF' &
import select, socket, sys, time
path, out = sys.argv[1], sys.argv[2]
socks = []
for _ in range(70):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    s.sendall(b'{"version":1,"op":"ev')
    socks.append(s)
open(out + ".ready", "w").close()
told, deadline = {}, time.monotonic() + 120
while len(told) < len(socks) and time.monotonic() < deadline:
    for s in select.select([s for s in socks if s not in told], [], [], 1)[0]:
        data = b""
        while True:
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        told[s] = data.decode(errors="replace").strip() or "(nothing)"
with open(out, "w") as f:
    for s in socks:
        print(told.get(s, "(still open)"), file=f)
PYEOF
STALLERS=$!
cleanup_hooks+=("kill -KILL $STALLERS 2>/dev/null")
for ((i = 0; i < 600; i++)); do
	[ -e "$WORK/stallers.ready" ] && break
	kill -0 $STALLERS 2>/dev/null || fail "the stalling connections could not be made"
	sleep 0.1
done
[ -e "$WORK/stallers.ready" ] || fail "the stalling connections were never all made"

# Every slot was taken by a half request: a real client still gets in.
"$CAPTRAIL" events --socket "$SOCK" --processes "stall_loop\$,dmesg\$" -o json \
	>"$WORK/events.out" 2>"$WORK/events.err" &
EVENTS=$!
cleanup_hooks+=("kill -KILL $EVENTS 2>/dev/null")
wait_for "$WORK/events.err" 'ready, streaming' ||
	fail "events client not ready: $(cat "$WORK/events.err")"
"$LOOP" 50 || fail "cap_loop failed"
wait_for "$WORK/events.out" '"syscall:sethostname"' || fail "no event reached the events client"
"$CAPTRAIL" profile --socket "$SOCK" --binary "$LOOP" -o json >"$WORK/profile.json" \
	2>"$WORK/profile.err" || fail "profile did not answer: $(cat "$WORK/profile.err")"
jq -e '.grant | index("CAP_SYS_ADMIN")' "$WORK/profile.json" >/dev/null ||
	fail "the profile lacks CAP_SYS_ADMIN: $(cat "$WORK/profile.json")"

# Each half request was closed, with a reason.
wait "$STALLERS" || fail "the stalling connections were not all closed"
bad=$(grep -cvE 'no complete request within 5 s|closed for a newer one' "$WORK/stallers")
[ "$bad" -eq 0 ] || fail "stalled connections told something else: $(sort "$WORK/stallers" | uniq -c)"
note "the 70 half requests were told: $(sed -E 's/.*(no complete request|closed for a newer one).*/\1/' \
	"$WORK/stallers" | sort | uniq -c | tr -s ' \n' ' ')"

metric() {
	curl -s "http://127.0.0.1:$PORT/metrics" | sed -n "s/^$1 //p"
}

# A client that never reads: bursts until the agent drops events for it,
# then it waits, still not reading, until the agent hangs up.
$PY - "$SOCK" "$LOOP" "$PORT" >"$WORK/stalled.out" 2>"$WORK/stalled.err" <<'PYEOF'
import json, select, socket, subprocess, sys, time, urllib.request
path, loop, port = sys.argv[1], sys.argv[2], sys.argv[3]

def dropped():
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("captrail_api_events_dropped_total "):
                return int(line.split()[1])
    return 0

s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
s.connect(path)
s.sendall(b'{"version":1,"op":"events","filter":{"processes":["stall_loop$"]}}\n')
ack = b""
while not ack.endswith(b"\n"):
    ack += s.recv(1)
assert json.loads(ack) == {"version": 1, "stream": "events"}, ack
p = select.poll()
p.register(s, select.POLLRDHUP)
base, bursts = dropped(), 0
for _ in range(1200):
    if p.poll(0):
        break
    if dropped() == base and bursts < 40:
        subprocess.run([loop, "5000"], check=True)
        bursts += 1
    p.poll(500)
else:
    sys.exit("the agent never disconnected the client that does not read")
data = b""
while True:
    chunk = s.recv(1 << 20)
    if not chunk:
        break
    data += chunk
lines = data.split(b"\n")
assert lines[-1] == b"", "the stream ends inside a line"
events = 0
for line in lines[:-2]:
    obj = json.loads(line)
    assert "process_kprobe" in obj or obj.get("reason") == "queue_full", line[:200]
    events += "process_kprobe" in obj
notice = json.loads(lines[-2])
assert notice.get("reason") == "stalled", notice
print(f"{bursts} bursts; {events} events read after the fact; last line: {lines[-2].decode()}")
PYEOF
[ $? -eq 0 ] || fail "the stalled client: $(cat "$WORK/stalled.err")"
note "stalled client: $(cat "$WORK/stalled.out")"

# The other client was not disturbed, and still receives: a denied dmesg
# (retried while it catches up with the bursts) reaches it.
for ((i = 0; i < 60; i++)); do
	run_dmesg_as_nobody
	grep -q '"value":34' "$WORK/events.out" && break
	sleep 1
done
grep -q '"value":34' "$WORK/events.out" || fail "the events client stopped receiving"
grep -E 'connection to the agent lost|stalled|disconnected' "$WORK/events.err" &&
	fail "the events client was disturbed: $(cat "$WORK/events.err")"
kill -0 $EVENTS || fail "the events client died"

# 70 half requests and one stalled stream closed, all counted.
for ((i = 0; i < 100; i++)); do
	closed=$(metric captrail_api_clients_closed_total)
	[ "${closed:-0}" -ge 71 ] && break
	sleep 0.2
done
[ "${closed:-0}" -ge 71 ] || fail "captrail_api_clients_closed_total is ${closed:-missing}, not 71"
kill -INT $AGENT
wait $AGENT || fail "agent exited $? on SIGINT"
