#!/bin/bash
# The reference example: dmesg as uid 65534 is denied CAP_SYSLOG.
. "$(dirname "$0")/lib.sh"
need_root

start_trace -o json
run_dmesg_as_nobody
wait_event '"value":34'
stop_trace
[ "$TRACE_RC" -eq 0 ] || fail "trace exited $TRACE_RC"

event=$(jq_out 'select(.process_kprobe.args[1].capability_arg.value == 34
	and .process_kprobe.process.uid == 65534)' | head -n 1)
[ -n "$event" ] || fail "no CAP_SYSLOG event for uid 65534"
check() { [ "$(jq -r "$1" <<<"$event")" = "$2" ] || fail "$1 is '$(jq -r "$1" <<<"$event")', want '$2'"; }
check '.process_kprobe.function_name' cap_capable
check '.process_kprobe.args[1].capability_arg.name' CAP_SYSLOG
check '.process_kprobe.return.int_arg' -1
check '.process_kprobe.action' KPROBE_ACTION_POST
check '.process_kprobe.args[0].user_ns_arg.level' 0
check '.process_kprobe.args[0].user_ns_arg.ns.is_host' true
check '.process_kprobe.process.binary | split("/") | last' dmesg
check '.process_kprobe.tags | index("denied") != null' true
check '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{9}Z$")' true
check '.node_name | length > 0' true

# The same check in compact form names the command and the verdict.
start_trace --comm dmesg
run_dmesg_as_nobody
wait_event 'CAP_SYSLOG'
stop_trace
grep -E 'denied +CAP_SYSLOG +pid=[0-9]+ uid=65534 .*dmesg' "$WORK/out" >/dev/null ||
	fail "compact line missing: $(cat "$WORK/out")"
