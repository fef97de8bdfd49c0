#!/bin/bash
# SIGINT and SIGTERM end the trace cleanly with a summary; so does --duration.
. "$(dirname "$0")/lib.sh"
need_root

start_trace --uid 65534
run_dmesg_as_nobody
wait_event 'CAP_SYSLOG'
stop_trace
[ "$TRACE_RC" -eq 0 ] || fail "SIGINT: exit $TRACE_RC"
grep -qE '^captrail trace: [0-9]+ checks seen, [0-9]+ granted, [1-9][0-9]* denied, 0 lost$' "$WORK/err" ||
	fail "no summary after SIGINT: $(cat "$WORK/err")"

start_trace
kill -TERM "$TRACE_PID"; wait "$TRACE_PID"; rc=$?; TRACE_PID=
[ "$rc" -eq 0 ] || fail "SIGTERM: exit $rc"
grep -q 'checks seen' "$WORK/err" || fail "no summary after SIGTERM"

"$CAPTRAIL" trace -d 0.5 >/dev/null 2>"$WORK/err" || fail "--duration: exit $?"
grep -q 'checks seen' "$WORK/err" || fail "no summary after --duration"
