#!/bin/bash
# A hostile argv[0]: 1024 bytes and more (up to the kernel's 128 KiB), ending
# in text that would pass for an argument. The checks' "arguments" are
# exactly the real arguments; arguments past the bound are cut and marked
# truncArgs, never filled with argv[0]'s tail.
. "$(dirname "$0")/lib.sh"
need_root
HOSTNAME_BIN=$(command -v hostname) || fail "no hostname(1)"

argv0() { # LEN: LEN bytes, "A"s then SPOOFED
	printf "%$(($1 - 7))s" "" | tr ' ' A
	printf SPOOFED
}

# run LEN ARGS...: hostname(1) ARGS, in a UTS namespace of its own (its
# sethostname() checks CAP_SYS_ADMIN even when the name is too long), with
# an argv[0] of LEN bytes; its pid in $pid. unshare execs bash, which execs
# hostname: one pid.
run() {
	local a0
	a0=$(argv0 "$1"); shift
	unshare --uts bash -c 'exec -a "$1" "$2" "${@:3}"' _ "$a0" "$HOSTNAME_BIN" "$@" &
	pid=$!
	wait "$pid"
}

start_trace -o json --caps sys_admin
run 1100 -b e2e-argv || fail "hostname with an argv[0] of 1100 bytes failed"
p1100=$pid
run 4200 -- e2e-argv || fail "hostname with an argv[0] of 4200 bytes failed"
p4200=$pid
run 131071 e2e-argv || fail "hostname with an argv[0] of 131071 bytes failed"
pmax=$pid
big=$(printf '%2000s' "" | tr ' ' B)
run 1100 -b "$big" 2>/dev/null # fails (EINVAL) after the check: too long
pbig=$pid
# Its checks as unshare come first, under the same pid: wait for hostname's.
wait_event "\"pid\":$pbig,.*\"binary\":\"$HOSTNAME_BIN\""
stop_trace
[ "$TRACE_RC" -eq 0 ] || fail "trace exited $TRACE_RC: $(cat "$WORK/err")"

# field PID JQ: JQ of the process of PID's first CAP_SYS_ADMIN check as
# hostname (unshare, the same pid before its exec, checks too).
field() {
	jq_out "select(.process_kprobe.process.pid == $1
		and .process_kprobe.process.binary == \"$HOSTNAME_BIN\"
		and .process_kprobe.args[1].capability_arg.name == \"CAP_SYS_ADMIN\")
		| .process_kprobe.process | $2" | head -n 1
}

expect() { # PID WANT
	local got
	got=$(field "$1" .arguments)
	[ "$got" = "\"$2\"" ] || fail "pid $1: arguments $got, want \"$2\""
	field "$1" .flags | grep -q truncArgs && fail "pid $1: marked truncArgs: $(field "$1" .flags)"
	return 0
}
expect "$p1100" "-b e2e-argv"
expect "$p4200" "-- e2e-argv"
expect "$pmax" "e2e-argv"

# Past the bound: cut and marked, and still nothing of argv[0].
field "$pbig" .flags | grep -q truncArgs || fail "cut arguments not marked: $(field "$pbig" .flags)"
args=$(field "$pbig" .arguments | jq -r .)
case $args in
"-b BBBBBBBBBB"*) ;;
*) fail "cut arguments are '${args:0:80}...', want '-b BBB...'" ;;
esac
[ "${#args}" -lt 2000 ] || fail "cut arguments are ${#args} bytes"
grep -q SPOOFED "$WORK/out" && fail "argv[0]'s tail shows in the output"
note "argv[0] of 1100, 4200 and 131071 bytes: arguments exact; 2000-byte argument cut at ${#args} bytes, truncArgs"
exit 0
