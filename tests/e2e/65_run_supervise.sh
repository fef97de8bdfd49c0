#!/bin/bash
# captrail run supervises its command: -d stops it with SIGTERM (exit 0 when
# it exits on it), SIGHUP is passed on, and captrail SIGTERMed from outside
# passes the signal on and then kills whatever is left of the command's
# cgroup: no process survives it.
. "$(dirname "$0")/lib.sh"
need_root

echo '{"captrail_profile": 1, "grant": []}' >"$WORK/p.json"
cat >"$WORK/daemon.sh" <<'SCRIPT'
#!/bin/sh
# $1: marker directory. A worker that ignores SIGTERM, as a careless
# daemon's child would; the daemon reloads on SIGHUP, exits on SIGTERM.
trap '' TERM
sleep 1000 &
echo $! >"$1/worker"
trap 'echo hup >"$1/hup"' HUP
trap 'echo clean >"$1/marker"; exit 0' TERM
echo $$ >"$1/main"
while :; do sleep 0.1; done
SCRIPT
chmod 755 "$WORK/daemon.sh"

gone() { # PID: not running (gone, or a zombie not yet reaped by init)
	local state
	state=$(sed -n 's/^State:\s*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
	[ -z "$state" ] || [ "$state" = Z ]
}

# -d: SIGTERM at the deadline, exit 0; the worker is killed with the cgroup.
mkdir "$WORK/a"
"$CAPTRAIL" run --profile "$WORK/p.json" -d 1 --stop-timeout 1 -- "$WORK/daemon.sh" "$WORK/a" \
	2>"$WORK/a.err"
rc=$?
[ "$rc" -eq 0 ] || fail "run -d exited $rc: $(cat "$WORK/a.err")"
[ "$(cat "$WORK/a/marker" 2>/dev/null)" = clean ] || fail "run -d: no SIGTERM handled"
grep -Eq "stopped after [0-9.]+ s with SIGTERM; it exited cleanly" "$WORK/a.err" &&
	grep -q "did not exit within 1 s of signal 15; killed" "$WORK/a.err" ||
	fail "run -d: $(cat "$WORK/a.err")"
gone "$(cat "$WORK/a/worker")" || fail "run -d left the worker running"

# From outside: SIGHUP passed on to the command, then SIGTERM to all of its
# processes; the worker that ignores it is killed after the grace period.
mkdir "$WORK/b"
"$CAPTRAIL" run --profile "$WORK/p.json" --stop-timeout 2 -- "$WORK/daemon.sh" "$WORK/b" \
	2>"$WORK/b.err" &
RUN_PID=$!
cleanup_hooks+=("kill -KILL $RUN_PID 2>/dev/null")
for ((i = 0; i < 600; i++)); do [ -s "$WORK/b/main" ] && break; sleep 0.1; done
[ -s "$WORK/b/main" ] || fail "the command did not start: $(cat "$WORK/b.err")"
cg=$(sed -n 's/^0:://p' "/proc/$(cat "$WORK/b/main")/cgroup")
case "$cg" in */captrail-run-$RUN_PID) ;; *) fail "command not in a cgroup of its own: '$cg'" ;; esac
kill -HUP "$RUN_PID"
for ((i = 0; i < 600; i++)); do [ -s "$WORK/b/hup" ] && break; sleep 0.1; done
[ -s "$WORK/b/hup" ] || fail "SIGHUP was not passed on"
kill -TERM "$RUN_PID"
wait "$RUN_PID"
rc=$?
[ "$rc" -eq 0 ] || fail "run SIGTERMed: exit $rc, want the command's 0: $(cat "$WORK/b.err")"
[ "$(cat "$WORK/b/marker" 2>/dev/null)" = clean ] || fail "SIGTERM was not passed on"
gone "$(cat "$WORK/b/main")" || fail "run left its command behind"
gone "$(cat "$WORK/b/worker")" || fail "run left the command's worker behind"
grep -q "did not exit within 2 s of signal 15; killed" "$WORK/b.err" || fail "$(cat "$WORK/b.err")"
for root in /sys/fs/cgroup /sys/fs/cgroup/unified; do
	[ ! -e "$root/captrail-run-$RUN_PID" ] || fail "run left its cgroup $root/captrail-run-$RUN_PID"
done

"$CAPTRAIL" run --profile "$WORK/p.json" -d 0 -- true 2>"$WORK/err"
[ $? -eq 2 ] || fail "run -d 0 accepted"
exit 0
