#!/bin/bash
# record --container, --pod, --cgroup: a workload that was running before
# captrail, recorded without the agent and never signalled. runc containers
# dressed as a pod's (lib_pod.sh) chown a file in a loop (CAP_CHOWN); a
# container started in the pod while it is recorded brings runc's init,
# whose CAP_SYS_ADMIN (mounts) must stay out of the pod's profile.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pod.sh"
need_root
pod_available || skip "$POD_SKIP_REASON"
root=$(pod_v2_root) || skip "no cgroup v2 mount"
caps="CAP_CHOWN CAP_AUDIT_WRITE CAP_KILL"

image=docker.io/library/busybox:1.35
ns=attach-$$
uid=$(pod_new_uid)
id=$(pod_new_id)
# Until /tmp/stop exists (runc exec touches it): the until-exit case. The
# last chown, after the stop, falls inside that recording however slowly
# the loop ran before it.
loop='touch /tmp/f; while [ ! -e /tmp/stop ]; do
	chown 1:1 /tmp/f; chown 0:0 /tmp/f; sleep 0.1
done; chown 1:1 /tmp/f'
POD_CAPS=$caps pod_bundle "$WORK/app" "$ns" web app "$image" "$uid" "$id" /bin/sh -c "$loop"
pod_start "$id" "$WORK/app" || fail "the container did not start"

# rec NAME ARGS...: record in the foreground; profile in $WORK/NAME.json,
# stderr in $WORK/NAME.err, exit code in $rc.
rec() {
	local name=$1
	shift
	rc=0
	timeout 120 "$CAPTRAIL" record -o json --output "$WORK/$name.json" "$@" \
		2>"$WORK/$name.err" || rc=$?
	grep -q "cannot load the BPF programs" "$WORK/$name.err" &&
		skip "BPF programs cannot load here: $(head -n 1 "$WORK/$name.err")"
	return 0
}

# check_profile NAME: the profile grants CAP_CHOWN, busybox's, and not CAP_SYS_ADMIN.
check_profile() {
	local name=$1
	[ "$rc" -eq 0 ] || fail "$name: record exited $rc: $(cat "$WORK/$name.err")"
	jq -e '.grant | index("CAP_CHOWN")' "$WORK/$name.json" >/dev/null ||
		fail "$name: no CAP_CHOWN granted: $(cat "$WORK/$name.json" "$WORK/$name.err")"
	jq -e '.grant | index("CAP_SYS_ADMIN") | not' "$WORK/$name.json" >/dev/null ||
		fail "$name: CAP_SYS_ADMIN granted: $(jq -c .grant "$WORK/$name.json")"
	grep -q '/bin/busybox' "$WORK/$name.json" ||
		fail "$name: the checks are not busybox's: $(cat "$WORK/$name.json")"
}

# By name, for a duration.
rec name --container app -d 2 --state-root "$POD_RUNC_ROOT"
check_profile name
grep -q "^captrail record: recording $ns/web/app: cgroup $root/kubepods/besteffort/pod$uid/$id" \
	"$WORK/name.err" || fail "name: not the container's cgroup: $(cat "$WORK/name.err")"
[ "$(jq -r .workload "$WORK/name.json")" = "$ns/web/app" ] ||
	fail "name: the profile is named '$(jq -r .workload "$WORK/name.json")'"

# By id prefix, and by cgroup: relative as /proc/PID/cgroup says it, and absolute.
rec id --container "${id:0:12}" -d 1 --state-root "$POD_RUNC_ROOT"
check_profile id
rel=$(sed -n 's/^0:://p' "/proc/$(pod_pid "$id")/cgroup")
[ "$rel" = "/kubepods/besteffort/pod$uid/$id" ] || fail "the container is in cgroup '$rel'"
rec cgroup --cgroup "$rel" -d 1
check_profile cgroup
rec abs --cgroup "$root$rel" -d 1 -o k8s
[ "$rc" -eq 0 ] || fail "abs: record exited $rc: $(cat "$WORK/abs.err")"
grep -q CHOWN "$WORK/abs.json" || fail "abs: no CHOWN in the k8s rendering: $(cat "$WORK/abs.json")"

# The pod, while a second container starts in it (runc's init mounts in
# the pod's cgroup), ended by SIGINT.
side=$(pod_new_id)
POD_CAPS=$caps pod_bundle "$WORK/side" "$ns" web side "$image" "$uid" "$side" \
	/bin/sh -c 'exec sleep 600'
timeout 120 "$CAPTRAIL" record -o json --output "$WORK/pod.json" --pod "$ns/web" \
	--state-root "$POD_RUNC_ROOT" 2>"$WORK/pod.err" &
recorder=$!
cleanup_hooks+=("kill -KILL $recorder 2>/dev/null")
wait_for "$WORK/pod.err" '^captrail record: ready' || {
	grep -q "cannot load the BPF programs" "$WORK/pod.err" && skip "BPF programs cannot load"
	fail "pod: not ready: $(cat "$WORK/pod.err")"
}
grep -q "^captrail record: recording $ns/web: cgroup $root/kubepods/besteffort/pod$uid and below" \
	"$WORK/pod.err" || fail "pod: not the pod's cgroup: $(cat "$WORK/pod.err")"
pod_start "$side" "$WORK/side" || fail "the second container did not start"
kill -INT $recorder
rc=0
wait $recorder || rc=$?
check_profile pod
grep -q "checks of the container runtime's start-up left out" "$WORK/pod.err" ||
	fail "pod: runc's init was not seen starting the second container: $(cat "$WORK/pod.err")"
runc_bin=$(readlink -f "$(command -v runc)")
grep -q "$runc_bin" "$WORK/pod.json" && fail "pod: a check of runc's file: $(cat "$WORK/pod.json")"
note "$(grep -o '[0-9]* checks of the container runtime' "$WORK/pod.err")'s start-up left out"

# Until the workload exits: runc exec (its init joins the cgroup) ends the loop.
timeout 120 "$CAPTRAIL" record -o json --output "$WORK/exit.json" --container app \
	--state-root "$POD_RUNC_ROOT" 2>"$WORK/exit.err" &
recorder=$!
cleanup_hooks+=("kill -KILL $recorder 2>/dev/null")
wait_for "$WORK/exit.err" '^captrail record: ready' ||
	fail "exit: not ready: $(cat "$WORK/exit.err")"
_pod_runc exec "$id" /bin/touch /tmp/stop || fail "runc exec failed"
rc=0
wait $recorder || rc=$?
check_profile exit
grep -q "^captrail record: $ns/web/app ended after" "$WORK/exit.err" ||
	fail "exit: did not end with the workload: $(cat "$WORK/exit.err")"
# runc exec's init asked for PR_SET_KEEPCAPS and set the sets: the runtime's.
jq -e '.keep_caps == false and .kept == []' "$WORK/exit.json" >/dev/null ||
	fail "exit: the runtime's privilege requests are the workload's:" \
		"$(jq -c '{keep_caps,kept}' "$WORK/exit.json")"
_pod_runc state "$id" | jq -e '.status == "stopped"' >/dev/null || fail "the container still runs"
# The side container was never signalled by any of this.
_pod_runc state "$side" | jq -e '.status == "running"' >/dev/null ||
	fail "the pod's second container stopped"

# Bad input: nothing to record (1), malformed or conflicting (2).
bad() {
	local want=$1 pattern=$2 got=0
	shift 2
	"$CAPTRAIL" record "$@" >"$WORK/bad.out" 2>"$WORK/bad.err" || got=$?
	[ "$got" -eq "$want" ] || fail "record $*: exit $got, want $want: $(cat "$WORK/bad.err")"
	grep -qE "^captrail record: .*$pattern" "$WORK/bad.err" ||
		fail "record $*: no '$pattern' in: $(cat "$WORK/bad.err")"
	[ ! -s "$WORK/bad.out" ] || fail "record $*: printed a profile"
}
bad 1 "no running container named 'nosuch-$$'" --container "nosuch-$$" --state-root "$POD_RUNC_ROOT"
bad 1 "no running container of pod $ns/nosuch" --pod "$ns/nosuch" --state-root "$POD_RUNC_ROOT"
bad 2 "NAMESPACE/NAME" --pod "nopod"
bad 2 "NAMESPACE/NAME" --pod "a/b/c"
bad 2 "NAMESPACE/NAME" --pod "/b"
bad 2 "no '/'" --container "a/b"
bad 2 "not a cgroup below the cgroup v2 root" --cgroup "$root/.."
bad 2 "not a cgroup below the cgroup v2 root" --cgroup /
bad 1 "no cgroup /nosuch-$$ under" --cgroup "/nosuch-$$"
bad 2 "select one workload" --container app --pod "$ns/web"
bad 2 "exclude each other" --container app -- /bin/true
bad 2 "--verify is for a command" --container app --verify
bad 2 "--user is for a command" --cgroup "$rel" --user nobody
bad 2 "--probe is for a command" --pod "$ns/web" --probe true
bad 2 "--state-root is for --container and --pod" --state-root /tmp -- /bin/true
