#!/bin/bash
# containerd's CRI plugin, driven as the kubelet drives it (RunPodSandbox,
# CreateContainer, StartContainer through tests/cri/cri_client.py): one pod
# of two containers doing real capability checks, one chowning a file as
# root (CAP_CHOWN granted), one reading the kernel log with the default set
# (CAP_SYSLOG denied). trace and the agent are pointed at this containerd's
# own state directory (--state-root); the pod, container, image and ids on
# the events are asserted against what containerd answers (ContainerStatus,
# PodSandboxStatus), runc init's checks are the runtime's, and the events
# pass Tetragon's schema.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_containerd.sh"
need_root
ctd_available || skip "$CTD_SKIP_REASON"
SCHEMA=$(dirname "$0")/../tetragon_schema.py

ns=captrail-cri
pod=cripod-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
uid=$(cat /proc/sys/kernel/random/uuid)
runc_bin=$(readlink -f "$(command -v runc)")

ctd_start || fail "containerd did not start: $(tail -n 5 "$CTD_DIR/containerd.log")"

start_trace -o json --state-root "$CTD_STATE" --namespaces "$ns" --pods "^$pod\$"
"$CAPTRAIL" agent --db "$WORK/agent.db" --socket "$WORK/agent.sock" --flush-interval 1 \
	--metrics 127.0.0.1:0 --state-root "$CTD_STATE" 2>"$WORK/agent.err" &
agent=$!
cleanup_hooks+=("kill -KILL $agent 2>/dev/null")
wait_agent

sandbox=$(ctd_runp "$ns" "$pod" "$uid" --label app=cri-e2e --label tier=test \
	--annotation captrail.test/purpose=cri) || fail "RunPodSandbox failed"
chowner=$(ctd_create "$sandbox" --name chowner --image "$CTD_BUSYBOX_IMAGE" \
	--label role=owner --annotation captrail.test/does=chown -- \
	/bin/sh -c 'touch /tmp/owned && chown 1:1 /tmp/owned && exec sleep 600') ||
	fail "CreateContainer chowner failed"
reader=$(ctd_create "$sandbox" --name reader --image "$CTD_BUSYBOX_IMAGE" --label role=reader -- \
	/bin/sh -c '/bin/dmesg >/dev/null 2>&1; exec sleep 600') || fail "CreateContainer reader failed"
cri start "$chowner" || fail "StartContainer chowner failed"
cri start "$reader" || fail "StartContainer reader failed"

# What containerd itself says of them.
cri podstatus "$sandbox" >"$WORK/podstatus.json" || fail "PodSandboxStatus failed"
cri status "$chowner" >"$WORK/chowner.json" || fail "ContainerStatus chowner failed"
cri status "$reader" >"$WORK/reader.json" || fail "ContainerStatus reader failed"
for c in chowner reader; do
	jq -e --arg id "${!c}" '.status.state == "CONTAINER_RUNNING" and .status.id == $id' \
		"$WORK/$c.json" >/dev/null || fail "$c (${!c}) is not running: $(cat "$WORK/$c.json")"
done

wait_event '"name":"reader".*"capability_arg":\{"value":34,.*"denied"'
wait_event '"name":"chowner".*"capability_arg":\{"value":0,.*"granted"'
stop_trace
[ "$TRACE_RC" -eq 0 ] || fail "trace exited $TRACE_RC: $(cat "$WORK/err")"

# containerd's answers, which the events must repeat.
pod_ns=$(jq -r .status.metadata.namespace "$WORK/podstatus.json")
pod_name=$(jq -r .status.metadata.name "$WORK/podstatus.json")
pod_uid=$(jq -r .status.metadata.uid "$WORK/podstatus.json")
[ "$pod_ns/$pod_name" = "$ns/$pod" ] || fail "containerd names the pod $pod_ns/$pod_name"
jq -e '.status.labels.app == "cri-e2e"' "$WORK/podstatus.json" >/dev/null ||
	fail "the sandbox lost its labels: $(cat "$WORK/podstatus.json")"

# check CONTAINER CAP VERDICT: the container's first check of CAP (value)
# with VERDICT (granted, denied) names the pod and the container as
# containerd does.
check() {
	local status=$WORK/$1.json id name image ev
	id=$(jq -r .status.id "$status")
	name=$(jq -r .status.metadata.name "$status")
	image=$(jq -r .status.image.image "$status")
	[[ $id =~ ^[0-9a-f]{64}$ ]] || fail "containerd's id of $1 is '$id'"
	ev=$(jq -c --arg id "containerd://$id" --argjson cap "$2" --arg verdict "$3" '
		select(.process_kprobe.process.pod.container.id == $id
			and .process_kprobe.args[1].capability_arg.value == $cap
			and (.process_kprobe.tags | index($verdict)))' "$WORK/out" | head -n 1)
	[ -n "$ev" ] || fail "no $3 check of capability $2 by $1 (containerd://$id)"
	[ "$(jq -r '.process_kprobe.process.pod | [.namespace, .name, .uid, .container.name,
		.container.image.name] | join(" ")' <<<"$ev")" = "$pod_ns $pod_name $pod_uid $name $image" ] ||
		fail "$1's event names $(jq -c .process_kprobe.process.pod <<<"$ev"), containerd:" \
			"$pod_ns $pod_name $pod_uid $name $image"
	jq -e '(.process_kprobe.tags | index("runtime")) == null' <<<"$ev" >/dev/null ||
		fail "$1's check is tagged runtime: $ev"
	echo "$ev"
}
check chowner 0 granted >"$WORK/chowner.event" || exit 1
check reader 34 denied >"$WORK/reader.event" || exit 1

# runc init joins each container's cgroup first: its checks carry the pod,
# runc's own file and the runtime tag; no check is named by an exec path
# string.
runtime='select(.process_kprobe.tags | index("runtime"))'
[ "$(jq -c "$runtime"' | select(.process_kprobe.args[1].capability_arg.value == 21
	and .process_kprobe.process.pod.container.name == "chowner")' "$WORK/out" | wc -l)" -ge 1 ] ||
	fail "no CAP_SYS_ADMIN check of runc init in chowner's cgroup tagged runtime"
[ "$(jq -r "$runtime"' | .process_kprobe.process.binary' "$WORK/out" | sort -u)" = "$runc_bin" ] ||
	fail "runtime checks are named $(jq -r "$runtime | .process_kprobe.process.binary" \
		"$WORK/out" | sort -u | tr '\n' ' ')"
[ "$(jq -c --arg runc "$runc_bin" 'select(.process_kprobe.process.binary == $runc
	and (.process_kprobe.tags | index("runtime")) == null)' "$WORK/out" | wc -l)" -eq 0 ] ||
	fail "a check of runc init is not tagged runtime"
jq -r '.process_kprobe.process.binary' "$WORK/out" | grep -E '^/proc/|^/dev/fd/' &&
	fail "a check is named by an exec path string, not a file"

python3 "$SCHEMA" --canonical "$WORK/out" >"$WORK/schema.out" ||
	fail "events Tetragon's schema rejects: $(head -n 20 "$WORK/schema.out")"
note "$(tail -n 1 "$WORK/schema.out")"

# The agent's profiles of the pod: chowner needs CAP_CHOWN, reader was
# denied CAP_SYSLOG, and runc init's CAP_SYS_ADMIN is no container's.
profile() { timeout 60 "$CAPTRAIL" profile --socket "$WORK/agent.sock" --pod "$ns/$pod" "$@"; }
for ((i = 0; i < 150; i++)); do
	profile -o json >"$WORK/profile.json" 2>"$WORK/profile.err" &&
		[ "$(jq -s '[.[] | .. | strings | select(. == "CAP_CHOWN" or . == "CAP_SYSLOG")]
			| unique | length' "$WORK/profile.json")" -eq 2 ] && break
	sleep 0.2
done
profile >"$WORK/profile.txt" 2>"$WORK/profile.err" ||
	fail "profile --pod $ns/$pod failed: $(cat "$WORK/profile.err")"
jq -e --arg p "$ns/$pod" '
	(map({(.workload): .}) | add) as $w
	| ($w["\($p)/chowner"].classes.required | index("CAP_CHOWN"))
	and ($w["\($p)/chowner"].grant | index("CAP_CHOWN"))
	and ($w["\($p)/reader"].classes.denied | index("CAP_SYSLOG"))
	and ($w["\($p)/reader"].grant | index("CAP_SYSLOG") | not)
	and $w["\($p)/POD"] != null
	and all(.[]; (.grant | index("CAP_SYS_ADMIN") | not)
		and ([.capabilities[] | select(.name == "CAP_SYS_ADMIN") | .checks[]
			| select(.verdict == "granted" and .override_cred == false)] | length) == 0)
	' "$WORK/profile.json" >/dev/null ||
	fail "the pod's profiles: $(jq -c '.[] | {workload, grant, classes}' "$WORK/profile.json")"
grep -q "^workload   $ns/$pod/chowner\$" "$WORK/profile.txt" &&
	grep -q "^CAP_CHOWN: required" "$WORK/profile.txt" &&
	grep -q "^CAP_SYSLOG: denied" "$WORK/profile.txt" ||
	fail "profile's text: $(cat "$WORK/profile.txt")"
kill -INT "$agent"
wait "$agent" || fail "agent exited $? on SIGINT: $(cat "$WORK/agent.err")"
note "the agent kept $(sed -n "s/^captrail agent: \([0-9]*\) checks of container runtimes' start-up.*/\1/p" \
	"$WORK/agent.err") runtime checks out of the profiles"

# CRI_EVIDENCE=FILE: one event of the pod and the profile's text, for a report.
if [ -n "${CRI_EVIDENCE:-}" ]; then
	{
		echo "# containerd: $(cat "$CTD_DIR/version")"
		echo "# ContainerStatus chowner: $(cat "$WORK/chowner.json")"
		echo "# PodSandboxStatus: $(cat "$WORK/podstatus.json")"
		echo "# one event (CAP_CHOWN granted to chowner):"
		jq . "$WORK/chowner.event"
		echo "# one event (CAP_SYSLOG denied to reader):"
		cat "$WORK/reader.event"
		echo "# one check of runc init in chowner's cgroup (the runtime's):"
		jq -c "$runtime"' | select(.process_kprobe.args[1].capability_arg.value == 21
			and .process_kprobe.process.pod.container.name == "chowner")' "$WORK/out" |
			head -n 1
		echo "# $(tail -n 1 "$WORK/schema.out") by tests/tetragon_schema.py --canonical"
		echo "# captrail profile --pod $ns/$pod:"
		cat "$WORK/profile.txt"
	} >"$CRI_EVIDENCE"
fi
exit 0
