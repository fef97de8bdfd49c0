#!/bin/bash
# The runc pod harness: a Kubernetes-shaped container runs as uid 0 with
# runc's default capabilities, so dmesg is denied CAP_SYSLOG; and the
# container resolver names a running one from its cgroup v2 id alone (on
# hybrid hierarchies too: runc puts it in the matching unified cgroup).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pod.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (runs runc containers)"
pod_available || skip "$POD_SKIP_REASON"
pod_v2_root >/dev/null || skip "no cgroup v2 hierarchy mounted"
# With dmesg_restrict=0 reading the log needs no capability (a global
# setting this test must not change on a shared machine).
[ "$(cat /proc/sys/kernel/dmesg_restrict)" = 1 ] || skip "kernel.dmesg_restrict is 0"
resolver=${CAPTRAIL_BUILD:-$PWD/build}/tests/test_container
[ -x "$resolver" ] || fail "no $resolver: build the unit tests first"

ns=captrail-e2e
pod=smoke-$$
uid=$(pod_new_uid)
image=docker.io/library/busybox:1.36

note "dmesg as uid 0 without CAP_SYSLOG"
id=$(pod_new_id)
pod_bundle "$WORK/dmesg" "$ns" "$pod" dmesg "$image" "$uid" "$id" dmesg ||
	fail "cannot build the bundle"
out=$(pod_run "$id" "$WORK/dmesg" 2>&1)
note "dmesg said: $out"
grep -q "Operation not permitted" <<<"$out" || fail "dmesg was not denied: $out"

note "a running container resolved from its cgroup id"
id=$(pod_new_id)
pod_bundle "$WORK/sleeper" "$ns" "$pod" sleeper "$image" "$uid" "$id" sleep 600 ||
	fail "cannot build the bundle"
pod_start "$id" "$WORK/sleeper" || fail "the container did not start"
pid=$(pod_pid "$id")
cgid=$(pod_cgroup_id "$id") || fail "no cgroup v2 directory for the container"
grep -qx "0::/kubepods/besteffort/pod$uid/$id" "/proc/$pid/cgroup" ||
	fail "the container is not in its own v2 cgroup: $(cat "/proc/$pid/cgroup")"
CTR_LIVE_PID=$pid CTR_LIVE_CGROUP_ID=$cgid CTR_LIVE_RUNC_ROOT=$POD_RUNC_ROOT \
	CTR_LIVE_ID=$id CTR_LIVE_POD_UID=$uid CTR_LIVE_NAMESPACE=$ns CTR_LIVE_POD=$pod \
	CTR_LIVE_CONTAINER=sleeper CTR_LIVE_IMAGE=$image "$resolver" ||
	fail "the resolver did not name the container"
echo ok
