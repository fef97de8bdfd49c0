# Shared helpers for end-to-end tests; source it. Tests run as root against
# the real binary ($CAPTRAIL) and real kernel; no timing is asserted, every
# wait is for an observable state, bounded only to avoid hanging forever.
set -u
CAPTRAIL=${CAPTRAIL:-build/captrail}
WORK=$(mktemp -d /tmp/captrail-e2e.XXXXXX)
TRACE_PID=
cleanup_hooks=()

on_exit() {
	local hook
	for hook in "${cleanup_hooks[@]}"; do eval "$hook"; done
	[ -n "$TRACE_PID" ] && kill -KILL "$TRACE_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap on_exit EXIT

skip() { echo "skipped: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (loads BPF programs)"
	[ -x "$CAPTRAIL" ] || fail "no captrail binary at $CAPTRAIL"
}

# wait_for FILE PATTERN: until a line of FILE matches (grep -E), or 60 s.
wait_for() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -qE -- "$2" "$1" 2>/dev/null && return 0
		[ -n "$TRACE_PID" ] && ! kill -0 "$TRACE_PID" 2>/dev/null && break
		sleep 0.1
	done
	return 1
}

# wait_agent [PATTERN]: until the agent started with 2>"$WORK/agent.err"
# prints PATTERN (default: its ready line); skips where the BPF programs
# cannot load, fails on anything else.
wait_agent() {
	wait_for "$WORK/agent.err" "${1:-^captrail agent: ready}" && return 0
	grep -q "cannot load the BPF programs" "$WORK/agent.err" &&
		skip "BPF programs cannot load here: $(head -n 1 "$WORK/agent.err")"
	fail "agent not ready: $(cat "$WORK/agent.err")"
}

# start_trace ARGS...: captrail trace in the background; stdout in
# $WORK/out, stderr in $WORK/err; returns once it says it is ready.
start_trace() {
	: >"$WORK/out"; : >"$WORK/err"
	# TRACE_BEFORE: a --capabilities value given before the command
	"$CAPTRAIL" ${TRACE_BEFORE:+--capabilities "$TRACE_BEFORE"} trace "$@" \
		>"$WORK/out" 2>"$WORK/err" &
	TRACE_PID=$!
	if ! wait_for "$WORK/err" '^captrail [a-z]*: ready'; then
		cat "$WORK/err" >&2
		grep -q "cannot load the BPF programs" "$WORK/err" &&
			skip "BPF programs cannot load here: $(head -n 1 "$WORK/err")"
		fail "captrail trace did not become ready"
	fi
}

# stop_trace: SIGINT, wait; sets TRACE_RC.
stop_trace() {
	kill -INT "$TRACE_PID"
	wait "$TRACE_PID"
	TRACE_RC=$?
	TRACE_PID=
}

# Events are flushed at least every poll interval; wait until OUT holds a
# line matching PATTERN before stopping, so the test needs no sleep.
wait_event() {
	wait_for "$WORK/out" "$1" || fail "no event matching '$1' in the output"
}

# jq over the JSON lines of $WORK/out.
jq_out() { jq -c "$@" "$WORK/out"; }

# The reference example: dmesg as an unprivileged user, denied CAP_SYSLOG.
run_dmesg_as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups dmesg >/dev/null 2>&1
	return 0
}

HELPERS=${CAPTRAIL_BUILD:-build}/tests/helpers

# record_json FILE [OPTIONS] -- CMD...: the JSON profile into FILE; sets
# RECORD_RC to captrail's exit status (the command's).
record_json() {
	local out=$1; shift
	"$CAPTRAIL" record -o json --output "$out" "$@" 2>"$WORK/record.err"
	RECORD_RC=$?
	grep -q "cannot load the BPF programs" "$WORK/record.err" &&
		skip "BPF programs cannot load here: $(head -n 1 "$WORK/record.err")"
	[ -s "$out" ] || fail "record wrote no profile: $(cat "$WORK/record.err")"
	jq -e . "$out" >/dev/null || fail "record wrote invalid JSON"
}

# record_count JSON CAP SYSCALL: the checks of CAP (CAP_SYS_ADMIN...) the
# profile counts for SYSCALL, over every binary.
record_count() {
	jq "[.capabilities[] | select(.name == \"$2\") | .checks[]
		| select(.syscall == \"$3\") | .count] | add // 0" "$1"
}

# record_lost: the lost count of record's summary line in $WORK/record.err.
record_lost() { sed -n 's/.* \([0-9]*\) lost$/\1/p' "$WORK/record.err"; }

# The capabilities of a class ("required", "denied", "noaudit"...), sorted,
# space-separated, without CAP_.
profile_class() { jq -r ".classes.$2 | map(sub(\"^CAP_\"; \"\")) | sort | join(\" \")" "$1"; }
profile_grant() { jq -r '.grant | map(sub("^CAP_"; "")) | sort | join(" ")' "$1"; }
