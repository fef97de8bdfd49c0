#!/bin/bash
# "captrail hooks" tells the truth: each hook it calls available traces a
# real check when asked for by name, each one it calls unavailable fails
# with that same reason and exit 1, and auto takes the first available.
. "$(dirname "$0")/lib.sh"
need_root

"$CAPTRAIL" hooks >"$WORK/hooks" 2>"$WORK/hooks.err" || fail "captrail hooks: $(cat "$WORK/hooks.err")"
[ "$(awk '{print $1}' "$WORK/hooks" | tr '\n' ' ')" = "tracepoint fexit kprobe " ] ||
	fail "captrail hooks listed $(cat "$WORK/hooks"), want tracepoint, fexit, kprobe in order"

first=
available=0
while read -r hook state reason; do
	case $state in
	available)
		available=$((available + 1))
		[ -n "$first" ] || first=$hook
		start_trace -o json --caps syslog --hook "$hook"
		grep -q "(hook $hook)" "$WORK/err" || fail "--hook $hook: ready line $(head -n 1 "$WORK/err")"
		setpriv --reuid=65534 --regid=65534 --clear-groups dmesg >/dev/null 2>&1 &
		pid=$!
		wait $pid
		wait_event "\"pid\":$pid,"
		stop_trace
		n=$(jq_out "select(.process_kprobe.process.pid == $pid
			and .process_kprobe.args[1].capability_arg.name == \"CAP_SYSLOG\"
			and .process_kprobe.return.int_arg == -1)" | wc -l)
		[ "$n" -ge 1 ] || fail "--hook $hook: no denied CAP_SYSLOG check for dmesg (pid $pid)"
		;;
	unavailable)
		[ -n "$reason" ] || fail "$hook is unavailable with no reason"
		"$CAPTRAIL" trace --hook "$hook" -d 1 >"$WORK/out" 2>"$WORK/err"
		rc=$?
		[ "$rc" -eq 1 ] || fail "--hook $hook (unavailable) exited $rc, want 1"
		grep -qF "captrail trace: cannot load the BPF programs: $hook: $reason" "$WORK/err" ||
			fail "--hook $hook said '$(tail -n 1 "$WORK/err")', want the reason '$reason'"
		[ ! -s "$WORK/out" ] || fail "--hook $hook (unavailable) wrote events"
		;;
	*) fail "captrail hooks: '$hook $state $reason' is neither available nor unavailable" ;;
	esac
done <"$WORK/hooks"
[ "$available" -ge 1 ] || skip "no hook loads on this kernel: $(cat "$WORK/hooks")"

# auto (the default) takes the first available hook, and says which.
start_trace -o json
grep -q "(hook $first)" "$WORK/err" || fail "auto: ready line $(head -n 1 "$WORK/err"), want hook $first"
stop_trace

# record takes --hook too, and the profile is the same whichever loads.
record_json "$WORK/profile.json" --hook "$first" -- \
	setpriv --reuid=65534 --regid=65534 --clear-groups dmesg
jq -e '.classes.denied == ["CAP_SYSLOG"] and (.classes.required | index("CAP_SETUID"))' \
	"$WORK/profile.json" >/dev/null ||
	fail "record --hook $first: want CAP_SYSLOG denied, CAP_SETUID required: $(jq -c .classes "$WORK/profile.json")"
