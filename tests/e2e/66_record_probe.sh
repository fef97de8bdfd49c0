#!/bin/bash
# --probe: a python http.server recorded with -d is probed until it
# answers; the recording runs to its deadline, --verify's re-run stops as
# soon as the probe succeeded. A probe that never succeeds says so, and
# without -d the probe runs once after the command ended.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || skip "no python3"

port=$((20000 + RANDOM % 20000))
probe="python3 -c 'import urllib.request as u; u.urlopen(\"http://127.0.0.1:$port/\", timeout=2)' 2>/dev/null"
record_json "$WORK/p.json" -d 5 --stop-timeout 5 --probe "$probe" --verify -- \
	python3 -m http.server -b 127.0.0.1 "$port"
[ "$RECORD_RC" -eq 0 ] || fail "record exited $RECORD_RC: $(cat "$WORK/record.err")"
grep -q "^captrail record: probe: ok$" "$WORK/record.err" || fail "probe: $(cat "$WORK/record.err")"
grep -q "verify: ok, the command exits 0 with the recommended set too, and the probe succeeds" \
	"$WORK/record.err" || fail "verify: $(cat "$WORK/record.err")"
# The recording ran to its deadline (the server was SIGTERMed at 5 s);
# the verify run stopped once probed, well before.
grep -Eq "stopped after [0-9.]+ s with SIGTERM; it exited cleanly" "$WORK/record.err" ||
	fail "recording did not run to the deadline: $(cat "$WORK/record.err")"

# Nothing listens on that port: the probe fails, the recording still ends.
record_json "$WORK/f.json" -d 1 --probe "$probe" -- sleep 30
[ "$RECORD_RC" -eq 0 ] || fail "record of sleep exited $RECORD_RC"
grep -q "^captrail record: probe: failed$" "$WORK/record.err" || fail "$(cat "$WORK/record.err")"

# Without -d: once, after the command ended (it sees what the command left).
record_json "$WORK/o.json" --probe "test -e '$WORK/made'" -- touch "$WORK/made"
grep -q "^captrail record: probe: ok$" "$WORK/record.err" || fail "$(cat "$WORK/record.err")"
exit 0
