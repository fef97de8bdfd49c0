#!/bin/bash
# record -d stops a daemon the way a supervisor does: SIGTERM to every
# process of its cgroup, SIGKILL after --stop-timeout. A daemon that exits
# on the SIGTERM (its shutdown runs and is recorded) makes record exit 0;
# one that ignores it is killed: 137 and a warning. --verify honours -d.
. "$(dirname "$0")/lib.sh"
need_root

# A daemon: writes a marker from its SIGTERM handler, as a pid-file
# cleanup would, and keeps a child of its own (a worker).
cat >"$WORK/daemon.sh" <<'SCRIPT'
#!/bin/sh
trap 'echo clean >"$1"; exit 0' TERM
sleep 1000 &
while :; do sleep 0.1; done
SCRIPT
cat >"$WORK/stubborn.sh" <<'SCRIPT'
#!/bin/sh
trap '' TERM
echo $$ >"$1"
while :; do sleep 0.1; done
SCRIPT
chmod 755 "$WORK/daemon.sh" "$WORK/stubborn.sh"

record_json "$WORK/d.json" -d 1 -- "$WORK/daemon.sh" "$WORK/marker"
[ "$RECORD_RC" -eq 0 ] || fail "record -d of a daemon exited $RECORD_RC: $(cat "$WORK/record.err")"
[ "$(cat "$WORK/marker" 2>/dev/null)" = clean ] || fail "the daemon's SIGTERM handler did not run"
grep -Eq "stopped after [0-9.]+ s with SIGTERM; it exited cleanly" "$WORK/record.err" ||
	fail "no clean-stop line: $(cat "$WORK/record.err")"
jq -e '.exit' "$WORK/d.json" >/dev/null || fail "no exit in the profile"

# Ignores SIGTERM: killed after the grace period.
record_json "$WORK/s.json" -d 0.5 --stop-timeout 1 -- "$WORK/stubborn.sh" "$WORK/spid"
[ "$RECORD_RC" -eq 137 ] || fail "a daemon ignoring SIGTERM: exit $RECORD_RC, want 137"
grep -Eq "warning: stopped after [0-9.]+ s with SIGTERM; it did not exit within 1 s; killed" \
	"$WORK/record.err" || fail "no killed warning: $(cat "$WORK/record.err")"
pid=$(cat "$WORK/spid")
state=$(sed -n 's/^State:\s*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
[ -z "$state" ] || [ "$state" = Z ] || fail "the stubborn daemon $pid is still running ($state)"

# --verify re-runs the daemon with the same deadline: it ends, and the
# re-run exits cleanly on SIGTERM as the recording did.
rm -f "$WORK/marker"
timeout 120 "$CAPTRAIL" record -d 1 --stop-timeout 5 --verify -- "$WORK/daemon.sh" \
	"$WORK/marker" >/dev/null 2>"$WORK/verify.err"
rc=$?
[ "$rc" -eq 124 ] && fail "record --verify -d never ended"
[ "$rc" -eq 0 ] || fail "record --verify -d exited $rc: $(cat "$WORK/verify.err")"
grep -q "verify: ok, the command exits 0" "$WORK/verify.err" ||
	fail "verify: $(cat "$WORK/verify.err")"
[ "$(cat "$WORK/marker" 2>/dev/null)" = clean ] || fail "the re-run was not stopped with SIGTERM"

# SIGTERM to captrail: the first ends the recording (the daemon gets
# SIGTERM), the second the verify run; nothing is left running.
cat >"$WORK/pids.sh" <<'SCRIPT'
#!/bin/sh
trap 'exit 0' TERM
echo $$ >>"$1"
sleep 1000 &
echo $! >>"$1"
while :; do sleep 0.1; done
SCRIPT
chmod 755 "$WORK/pids.sh"
"$CAPTRAIL" record -d 600 --verify -- "$WORK/pids.sh" "$WORK/pids" >/dev/null 2>"$WORK/int.err" &
REC=$!
cleanup_hooks+=("kill -KILL $REC 2>/dev/null")
lines() { wc -l <"$WORK/pids" 2>/dev/null || echo 0; }
for ((i = 0; i < 600 && $(lines) < 2; i++)); do sleep 0.1; done
kill -TERM "$REC"
for ((i = 0; i < 600 && $(lines) < 4; i++)); do sleep 0.1; done
[ "$(lines)" -ge 4 ] || fail "the verify run did not start: $(cat "$WORK/int.err")"
kill -TERM "$REC"
wait "$REC"
rc=$?
[ "$rc" -eq 1 ] || fail "record SIGTERMed during verify: exit $rc: $(cat "$WORK/int.err")"
grep -q "verify: interrupted" "$WORK/int.err" || fail "$(cat "$WORK/int.err")"
while read -r pid; do
	state=$(sed -n 's/^State:\s*\([A-Z]\).*/\1/p' "/proc/$pid/status" 2>/dev/null)
	[ -z "$state" ] || [ "$state" = Z ] || fail "process $pid of the command left running"
done <"$WORK/pids"

# Bad input.
"$CAPTRAIL" record --stop-timeout -1 -- true 2>"$WORK/err"
[ $? -eq 2 ] || fail "--stop-timeout -1 accepted"
grep -q "invalid stop timeout '-1'" "$WORK/err" || fail "--stop-timeout -1: $(cat "$WORK/err")"
exit 0
