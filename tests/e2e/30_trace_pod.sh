#!/bin/bash
# The reference example reproduced in a real container: a runc pod
# "default/xwing" whose container "spaceship" runs dmesg and is denied
# CAP_SYSLOG. The event carries the pod, the container, the namespaces,
# and a parent whose exec id the process names.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pod.sh"
need_root
pod_available || skip "$POD_SKIP_REASON"

image=docker.io/library/busybox:1.35
uid=$(pod_new_uid)
id=$(pod_new_id)
# The container keeps running, as a pod does: its runtime state and cgroup
# are what the resolver reads.
pod_bundle "$WORK/bundle" default xwing spaceship "$image" "$uid" "$id" \
	/bin/sh -c '/bin/dmesg >/dev/null 2>&1; echo done; exec sleep 600'

# Three traces at once see the same run: unfiltered, filtered to the pod,
# and filters that must exclude it.
start_bg() { # NAME ARGS...
	local name=$1; shift
	# --caps syslog: the pod's check, and no node-wide flood into the file
	"$CAPTRAIL" trace -o json --caps syslog --state-root "$POD_RUNC_ROOT" "$@" \
		>"$WORK/$name.out" 2>"$WORK/$name.err" &
	eval "pid_$name=$!"
	cleanup_hooks+=("kill -KILL $! 2>/dev/null")
	wait_for "$WORK/$name.err" '^captrail [a-z]*: ready' || fail "$name trace not ready: $(cat "$WORK/$name.err")"
}
start_bg all
start_bg pod --namespaces default --pods xwing
start_bg other --pods nothere
start_bg host --host

pod_start "$id" "$WORK/bundle" || fail "pod did not start"
wait_for "$WORK/all.out" '"value":34,"name":"CAP_SYSLOG".*"name":"xwing"|"name":"xwing".*"value":34' ||
	fail "no CAP_SYSLOG event from the pod"
wait_for "$WORK/pod.out" '"value":34' || fail "the pod-filtered trace missed the event"
for name in all pod other host; do
	kill -INT "$(eval echo "\$pid_$name")"
	wait "$(eval echo "\$pid_$name")" || fail "$name trace exited $?"
done

syslog='select(.process_kprobe.args[1].capability_arg.value == 34
	and .process_kprobe.process.pod.name == "xwing")'
event=$(jq -c "$syslog" "$WORK/all.out" | head -n 1)
[ -n "$event" ] || fail "no CAP_SYSLOG event from pod xwing"
check() { [ "$(jq -r "$1" <<<"$event")" = "$2" ] || fail "$1 is '$(jq -r "$1" <<<"$event")', want '$2'"; }
check '.process_kprobe.return.int_arg' -1
check '.process_kprobe.args[1].capability_arg.name' CAP_SYSLOG
check '.process_kprobe.process.pod.namespace' default
check '.process_kprobe.process.pod.uid' "$uid"
check '.process_kprobe.process.pod.container.name' spaceship
check '.process_kprobe.process.pod.container.id' "containerd://$id"
check '.process_kprobe.process.pod.container.image.name' "$image"
check '.process_kprobe.process.docker' "${id:0:31}"
check '.process_kprobe.process.binary' /bin/dmesg
check '.process_kprobe.process.uid' 0
# protojson omits false: the container's own namespaces have no is_host.
for ns in pid mnt uts ipc; do
	check ".process_kprobe.process.ns.$ns | has(\"is_host\")" false
done
check '.process_kprobe.process.ns.user.is_host' true
check '.process_kprobe.args[0].user_ns_arg.ns.is_host' true
check '.process_kprobe.process.pod.container.pid > 1' true
check '.process_kprobe.parent.exec_id' "$(jq -r '.process_kprobe.process.parent_exec_id' <<<"$event")"
check '.process_kprobe.parent.binary' /bin/sh
check '.process_kprobe.parent.pod.name' xwing

# exec_id is base64 of "node:ktime:pid".
decoded=$(jq -r '.process_kprobe.process.exec_id' <<<"$event" | base64 -d)
pid=$(jq -r '.process_kprobe.process.pid' <<<"$event")
node=$(jq -r '.node_name' <<<"$event")
[[ $decoded =~ ^"$node":[0-9]+:"$pid"$ ]] || fail "exec_id decodes to '$decoded', want '$node:<ktime>:$pid'"

# The pod filter keeps it (and only the pod); the others exclude it.
[ "$(jq -c "$syslog" "$WORK/pod.out" | wc -l)" -ge 1 ] || fail "--namespaces default --pods xwing lost the event"
[ "$(jq -c 'select(.process_kprobe.process.pod.name != "xwing")' "$WORK/pod.out" | wc -l)" -eq 0 ] ||
	fail "--pods xwing let other processes through"
[ "$(jq -c "$syslog" "$WORK/other.out" | wc -l)" -eq 0 ] || fail "--pods nothere showed the pod"
[ "$(jq -c "$syslog" "$WORK/host.out" | wc -l)" -eq 0 ] || fail "--host showed the pod"
[ "$(jq -c 'select(.process_kprobe.process.pod)' "$WORK/host.out" | wc -l)" -eq 0 ] ||
	fail "--host showed pod events"
