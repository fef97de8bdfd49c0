#!/bin/bash
# Short-lived pods under the agent: CHURN_PODS (60) runc pods, one after
# the other, each living a fraction of a second (busybox sh chowns a file,
# then sleeps 0.3 s through /proc/self/exe) and deleted by runc as it ends,
# state, bundle and cgroup. Every one is attributed to its pod in
# `captrail profile --all`; none is an anonymous container id, and no
# workload is named /proc/self/exe or /dev/fd/N (runc's and busybox's
# re-execs of themselves). bench/pod_churn.sh runs it with 300 pods.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pod.sh"
need_root
pod_available || skip "$POD_SKIP_REASON"
PODS=${CHURN_PODS:-60}
NS=churn-$$

DB=$WORK/captrail.db SOCK=$WORK/captrail.sock
"$CAPTRAIL" agent --db "$DB" --socket "$SOCK" --flush-interval 1 \
	--state-root "$POD_RUNC_ROOT" 2>"$WORK/agent.err" &
AGENT=$!
cleanup_hooks+=("kill -KILL $AGENT 2>/dev/null")
wait_agent

# One rootfs for all: each pod's bundle is a config.json naming it.
POD_CAPS=CAP_CHOWN pod_bundle "$WORK/base" "$NS" base c busybox:1.36 "$(pod_new_uid)" \
	"$(pod_new_id)" /bin/sh -c 'touch /tmp/f; chown 5 /tmp/f; sleep 0.3' || fail "no bundle"
ids=()
start=$(date +%s%N)
for ((i = 0; i < PODS; i++)); do
	id=$(pod_new_id) uid=$(pod_new_uid)
	mkdir -p "$WORK/p$i"
	jq --arg root "$WORK/base/rootfs" --arg pod "pod-$i" --arg uid "$uid" \
		--arg cg "/kubepods/besteffort/pod$uid/$id" '
		.root.path = $root | .hostname = $pod | .linux.cgroupsPath = $cg |
		.annotations["io.kubernetes.cri.sandbox-name"] = $pod |
		.annotations["io.kubernetes.cri.sandbox-uid"] = $uid' \
		"$WORK/base/config.json" >"$WORK/p$i/config.json" || fail "jq failed"
	pod_run "$id" "$WORK/p$i" >"$WORK/p$i/output" 2>&1 ||
		fail "pod $i exited $?: $(cat "$WORK/p$i/output")"
	ids+=("$id")
done
ms=$((($(date +%s%N) - start) / 1000000))
note "$PODS pods ran in $((ms / 1000)).$(printf %03d $((ms % 1000))) s"

timeout 120 "$CAPTRAIL" profile --socket "$SOCK" --all -o json >"$WORK/profiles.json" ||
	fail "profile --all failed: $(cat "$WORK/agent.err")"
jq 'if type == "array" then . else [.] end' "$WORK/profiles.json" >"$WORK/all.json" ||
	fail "profile --all printed no JSON"

attributed=$(jq --arg ns "$NS" '[.[] | select(.workload | startswith($ns + "/pod-"))
	| select(.capabilities | map(.name) | index("CAP_CHOWN")) | .workload] | unique | length' \
	"$WORK/all.json")
note "$attributed of $PODS pods attributed to their pod"
missing=()
for ((i = 0; i < PODS; i++)); do
	jq -e --arg w "$NS/pod-$i/c" 'any(.[]; .workload == $w)' "$WORK/all.json" >/dev/null ||
		missing+=("pod-$i")
done
[ "${#missing[@]}" -eq 0 ] || fail "${#missing[@]} pods not attributed: ${missing[*]:0:20}"
if [ "$attributed" -ne "$PODS" ]; then
	jq -c --arg ns "$NS" '.[] | select(.workload | startswith($ns + "/pod-"))
		| select(.capabilities | map(.name) | index("CAP_CHOWN") | not)
		| {workload, capabilities: [.capabilities[] | {name, granted, denied}]}' \
		"$WORK/all.json" >&2
	jq -c --arg ns "$NS" '.[] | select(.workload | startswith($ns + "/pod-") | not)
		| select(.capabilities | map(.name) | index("CAP_CHOWN")) | .workload' \
		"$WORK/all.json" >&2
	fail "$attributed of $PODS pods have their CHOWN check: $(tail -n 1 "$WORK/agent.err")"
fi

# No pod is an anonymous container, no re-exec names a workload.
anonymous=$(printf '%s\n' "${ids[@]}" | jq -R . | jq -s --slurpfile all "$WORK/all.json" '
	. as $ids | [$all[0][] | .workload | select(. as $w | $ids | index($w))] | length')
[ "$anonymous" -eq 0 ] || fail "$anonymous pods stored as anonymous containers"
reexec=$(jq -r '.[] | .workload | select(test("^/proc/|^/dev/fd/"))' "$WORK/all.json")
[ -z "$reexec" ] || fail "workloads named by a re-exec: $reexec"

kill -INT $AGENT
wait $AGENT || fail "agent exited $? on SIGINT: $(cat "$WORK/agent.err")"
note "$(tail -n 1 "$WORK/agent.err")"
