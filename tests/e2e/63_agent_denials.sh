#!/bin/bash
# agent --watch-denials: what each denied syscall returned is counted from
# the very first denial (dmesg as nobody: EPERM from openat of /dev/kmsg,
# then from syslog); without the option nothing is observed.
. "$(dirname "$0")/lib.sh"
need_root

run_agent() { # NAME [OPTIONS]: an agent, dmesg as nobody, the profile, stop
	local name=$1 i; shift
	"$CAPTRAIL" agent --db "$WORK/$name.db" --socket "$WORK/$name.sock" --flush-interval 1 \
		"$@" 2>"$WORK/$name.err" &
	AGENT=$!
	cleanup_hooks+=("kill -KILL $AGENT 2>/dev/null")
	if ! wait_for "$WORK/$name.err" '^captrail agent: ready'; then
		grep -q "cannot load the BPF programs" "$WORK/$name.err" &&
			skip "BPF programs cannot load here: $(head -n 1 "$WORK/$name.err")"
		fail "agent not ready: $(cat "$WORK/$name.err")"
	fi
	run_dmesg_as_nobody
	for ((i = 0; i < 300; i++)); do
		"$CAPTRAIL" profile --socket "$WORK/$name.sock" --binary "$(command -v dmesg)" -o json \
			>"$WORK/$name.json" 2>/dev/null &&
			jq -e '.denials | map(select(.syscall == "syslog")) | length > 0' \
				"$WORK/$name.json" >/dev/null && break
		sleep 0.2
	done
	kill -INT "$AGENT"
	wait "$AGENT" || fail "the $name agent exited $?: $(cat "$WORK/$name.err")"
}
syslog() { jq -r ".denials[] | select(.syscall == \"syslog\") | .$2" "$WORK/$1.json"; }

run_agent watched --watch-denials
[ "$(syslog watched capability)" = CAP_SYSLOG ] || fail "no syslog denial: $(cat "$WORK/watched.json")"
[ "$(syslog watched mattered)" -ge 1 ] || fail "the syslog EPERM was not seen: $(jq -c .denials "$WORK/watched.json")"
[ "$(syslog watched unobserved)" -eq 0 ] ||
	fail "syslog denials left unobserved: $(jq -c .denials "$WORK/watched.json")"

run_agent plain
[ "$(syslog plain mattered)" -eq 0 ] && [ "$(syslog plain unobserved)" -ge 1 ] ||
	fail "without --watch-denials outcomes were observed: $(jq -c .denials "$WORK/plain.json")"
