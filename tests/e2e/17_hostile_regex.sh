#!/bin/bash
# Hostile filter regexes (issue 14): a pattern that would explode is refused
# at once with exit 2 by trace and events and with an error reply by the
# agent; one that compiles but cannot finish matching is given up on,
# counted and not matched, while trace, the agent and its other clients go
# on. Every wait is bounded (60 s) so that a hang fails instead of blocking.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pod.sh"
need_root
PY=/usr/bin/python3

nested=$(printf '(%.0s' {1..40})a$(printf ')%.0s' {1..40})
long=$(printf 'a%.0s' {1..300})
# pattern => what the message says
declare -A refused=(
	['((((a{100}){100}){100}){100})']='regular expression is too large'
	["$nested"]='parentheses are too deeply nested'
	["$long"]='is 300 bytes, more than 256'
)
for re in "${!refused[@]}"; do
	for opt in --pods --containers --processes; do
		timeout 60 "$CAPTRAIL" trace "$opt" "$re" >"$WORK/out" 2>"$WORK/err"
		rc=$?
		said=$(head -c 300 "$WORK/err")
		[ "$rc" -eq 2 ] || fail "trace $opt '${re:0:40}' exited $rc, not 2: $said"
		grep -qF -- "${refused[$re]}" "$WORK/err" ||
			fail "trace $opt '${re:0:40}' said: $said"
		grep -q "for $opt" "$WORK/err" || fail "the message does not name $opt: $said"
		[ ! -s "$WORK/out" ] || fail "trace $opt '${re:0:40}' wrote to stdout"
	done
	# events refuses it before it asks an agent (there is none here).
	timeout 60 "$CAPTRAIL" events --socket "$WORK/none.sock" --pods "$re" 2>"$WORK/err"
	rc=$?
	[ "$rc" -eq 2 ] || fail "events --pods '${re:0:40}' exited $rc, not 2: $(cat "$WORK/err")"
	grep -qF -- "${refused[$re]}" "$WORK/err" || fail "events said: $(cat "$WORK/err")"
done
note "trace --pods '((((a{100}){100}){100}){100})': $(timeout 60 "$CAPTRAIL" trace \
	--pods '((((a{100}){100}){100}){100})' 2>&1)"

# (a|a)+$ compiles, but tries 2^30 ways on a run of 30 'a's that does not end
# the name: it gives up there and counts; other values are still tried.
victim="$(printf 'a%.0s' {1..30})-1"
for pod in "$victim" xwing; do
	jq -nc --arg pod "$pod" \
		'{process_kprobe: {process: {binary: "/bin/x",
			pod: {namespace: "ns", name: $pod}}}}'
done >"$WORK/events.json"
timeout 60 "$CAPTRAIL" events --stdin -o json --pods '(a|a)+$,^xwing$' <"$WORK/events.json" \
	>"$WORK/out" 2>"$WORK/err" || fail "events --stdin exited $?: $(cat "$WORK/err")"
[ "$(jq -r '.process_kprobe.process.pod.name' "$WORK/out")" = xwing ] ||
	fail "events --stdin printed: $(cat "$WORK/out")"
gave_up="regex matches reached a limit and did not match, most often --pods '(a|a)+\$'"
grep -qF "captrail events: 1 $gave_up" "$WORK/err" ||
	fail "events --stdin did not count the give-up: $(cat "$WORK/err")"

pod_available || skip "$POD_SKIP_REASON"

# A pod named like the victim, denied CAP_SYSLOG again and again.
id=$(pod_new_id)
pod_bundle "$WORK/victim" hostile "$victim" main busybox:1.35 "$(pod_new_uid)" "$id" /bin/sh -c \
	'while :; do dmesg >/dev/null 2>&1; sleep 0.2; done'
pod_start "$id" "$WORK/victim" || fail "the pod did not start"

# trace: the limit-hitting value gives up on every event of the pod, the
# other value still matches it; SIGINT ends it and the summary counts.
start_trace -o json --state-root "$POD_RUNC_ROOT" --pods '(a|a)+$,^a+-1$'
wait_event "\"name\":\"$victim\""
stop_trace
[ "$TRACE_RC" -eq 0 ] || fail "trace exited $TRACE_RC: $(cat "$WORK/err")"
others=$(jq_out "select(.process_kprobe.process.pod.name != \"$victim\")" | wc -l)
[ "$others" -eq 0 ] || fail "trace --pods printed $others events of other pods"
grep -E "^captrail trace: [1-9][0-9]* " "$WORK/err" | grep -qF "$gave_up" ||
	fail "trace did not count the give-ups: $(cat "$WORK/err")"
note "$(grep 'regex matches' "$WORK/err")"

# The agent: one client's filter gives up on every event of the pod, another
# client still gets them, hostile requests get an error reply, and profile
# still answers.
DB=$WORK/captrail.db SOCK=$WORK/run/captrail.sock
"$CAPTRAIL" agent --db "$DB" --socket "$SOCK" --flush-interval 1 --metrics 127.0.0.1:0 \
	--state-root "$POD_RUNC_ROOT" 2>"$WORK/agent.err" &
AGENT=$!
cleanup_hooks+=("kill -KILL $AGENT 2>/dev/null")
wait_for "$WORK/agent.err" '^captrail agent: metrics on port' ||
	fail "agent not ready: $(cat "$WORK/agent.err")"

follow() { # NAME PODS: a client in the background, its pid in $FOLLOWED
	"$CAPTRAIL" events --socket "$SOCK" -o json --pods "$2" >"$WORK/$1.out" 2>"$WORK/$1.err" &
	FOLLOWED=$!
	cleanup_hooks+=("kill -KILL $FOLLOWED 2>/dev/null")
	wait_for "$WORK/$1.err" 'ready, streaming' ||
		fail "client $1 not ready: $(cat "$WORK/$1.err")"
}
follow explode '(a|a)+$'
EXPLODE=$FOLLOWED
follow plain '^a+-1$'
PLAIN=$FOLLOWED
wait_for "$WORK/plain.out" '"value":34' || fail "the plain client got no event of the pod"

$PY - "$SOCK" "$long" <<'PYEOF' || fail "the agent did not refuse hostile filters with an error"
import json, socket, sys
def ask(filt):
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(60)
    s.connect(sys.argv[1])
    s.sendall(json.dumps({"version": 1, "op": "events", "filter": filt}).encode() + b"\n")
    reply = json.loads(s.makefile().readline())
    s.close()
    return reply
for filt, why in (({"pods": ["((((a{100}){100}){100}){100})"]}, "too large"),
                  ({"containers": ["x", sys.argv[2]]}, "more than 256"),
                  ({"processes": ["(" * 40 + "a" + ")" * 40]}, "too deeply nested")):
    reply = ask(filt)
    assert why in reply.get("error", ""), (filt, reply)
    print("#", json.dumps(reply))
PYEOF

# The plain client still receives events after all that.
seen=$(wc -l <"$WORK/plain.out")
for ((i = 0; i < 600; i++)); do
	[ "$(wc -l <"$WORK/plain.out")" -gt "$seen" ] && break
	sleep 0.1
done
[ "$(wc -l <"$WORK/plain.out")" -gt "$seen" ] || fail "the plain client stopped receiving events"
denied='(if type == "array" then .[] else . end) | .classes.denied | index("CAP_SYSLOG")'
for ((i = 0; i < 300; i++)); do
	timeout 60 "$CAPTRAIL" profile --socket "$SOCK" --pod "hostile/$victim" -o json \
		>"$WORK/profile.json" 2>"$WORK/profile.err" &&
		jq -e "$denied" "$WORK/profile.json" >/dev/null && break
	sleep 0.2
done
jq -e "$denied" "$WORK/profile.json" >/dev/null ||
	fail "profile did not answer with the pod's denial: $(cat "$WORK/profile.err" \
		"$WORK/profile.json")"

kill -0 "$EXPLODE" || fail "the client whose filter gives up died: $(cat "$WORK/explode.err")"
port=$(sed -n 's/^captrail agent: metrics on port \([0-9]*\).*/\1/p' "$WORK/agent.err" | head -n 1)
gave_up_total=$(curl -sf "http://127.0.0.1:$port/metrics" |
	awk '$1 == "captrail_api_filter_regex_gave_up_total" { print $2 }')
[ "${gave_up_total:-0}" -ge 1 ] ||
	fail "captrail_api_filter_regex_gave_up_total is '${gave_up_total:-missing}', want >= 1"
[ ! -s "$WORK/explode.out" ] ||
	fail "a filter that gave up matched: $(head -n 2 "$WORK/explode.out")"
kill -INT "$EXPLODE" "$PLAIN"
wait "$EXPLODE" || fail "the client whose filter gives up exited $?"
wait "$PLAIN" || fail "the plain client exited $?"
kill -INT "$AGENT"
wait "$AGENT" || fail "agent exited $? on SIGINT: $(cat "$WORK/agent.err")"
