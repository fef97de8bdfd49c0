#!/bin/bash
# A runc container's own init joins the container's cgroup before it enters
# the container's namespaces: its checks (CAP_SYS_ADMIN to mount the
# rootfs, ...) carry the pod but are the runtime's. trace names the file
# runc exec'd (not /proc/self/exe or /dev/fd/N) and tags them "runtime";
# the agent keeps them out of the pod's profile and counts them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pod.sh"
need_root
pod_available || skip "$POD_SKIP_REASON"

runc_bin=$(readlink -f "$(command -v runc)")
image=docker.io/library/busybox:1.35
uid=$(pod_new_uid)
id=$(pod_new_id)
# The workload asks only for CAP_SYSLOG (dmesg), never CAP_SYS_ADMIN.
pod_bundle "$WORK/bundle" default initpod app "$image" "$uid" "$id" \
	/bin/sh -c '/bin/dmesg >/dev/null 2>&1; exec sleep 600'

"$CAPTRAIL" trace -o json --caps sys_admin,syslog --state-root "$POD_RUNC_ROOT" \
	--namespaces default --pods initpod >"$WORK/out" 2>"$WORK/trace.err" &
trace=$!
cleanup_hooks+=("kill -KILL $trace 2>/dev/null")
wait_for "$WORK/trace.err" '^captrail [a-z]*: ready' || fail "trace not ready: $(cat "$WORK/trace.err")"

DB=$WORK/agent.db
SOCK=$WORK/agent.sock
"$CAPTRAIL" agent --db "$DB" --socket "$SOCK" --flush-interval 1 --metrics 127.0.0.1:0 \
	--state-root "$POD_RUNC_ROOT" 2>"$WORK/agent.err" &
agent=$!
cleanup_hooks+=("kill -KILL $agent 2>/dev/null")
wait_for "$WORK/agent.err" '^captrail agent: ready' || fail "agent not ready: $(cat "$WORK/agent.err")"
port=$(sed -n 's/^captrail agent: metrics on port //p' "$WORK/agent.err")

pod_start "$id" "$WORK/bundle" || fail "pod did not start"
wait_for "$WORK/out" '"value":34' || fail "no CAP_SYSLOG event from the pod: $(cat "$WORK/trace.err")"
kill -INT $trace
wait $trace || fail "trace exited $?"

admin='select(.process_kprobe.args[1].capability_arg.value == 21)'
runtime='select(.process_kprobe.tags | index("runtime"))'
# runc's init asks for CAP_SYS_ADMIN (mounts, pivot_root) in the pod's
# cgroup: tagged, and named by runc's own file.
[ "$(jq -c "$admin | $runtime" "$WORK/out" | wc -l)" -ge 1 ] ||
	fail "no CAP_SYS_ADMIN check of runc's init tagged runtime"
jq -r "$runtime"' | .process_kprobe.process.binary' "$WORK/out" | sort -u >"$WORK/binaries"
[ "$(cat "$WORK/binaries")" = "$runc_bin" ] ||
	fail "runtime checks are named '$(tr '\n' ' ' <"$WORK/binaries")', want $runc_bin:" \
		"$(jq -c "$runtime | select(.process_kprobe.process.binary != \"$runc_bin\")" \
			"$WORK/out" | head -n 1)"
[ "$(jq -r "$runtime"' | .process_kprobe.process.pod.name' "$WORK/out" | sort -u)" = initpod ] ||
	fail "runc's init checks lost the pod"
# No check is named by the path string runc gave to execve.
jq -r '.process_kprobe.process.binary' "$WORK/out" | grep -E '^/proc/|^/dev/fd/' &&
	fail "a check is named by an exec path string, not a file"
# Every check runc's file made is its start-up's; the workload's are not.
[ "$(jq -c "select(.process_kprobe.process.binary == \"$runc_bin\")"' |
	select((.process_kprobe.tags | index("runtime")) == null)' "$WORK/out" | wc -l)" -eq 0 ] ||
	fail "a check of runc's init is not tagged runtime"
syslog='select(.process_kprobe.args[1].capability_arg.value == 34)'
[ "$(jq -r "$syslog"' | .process_kprobe.process.binary' "$WORK/out" | sort -u)" = /bin/dmesg ] ||
	fail "CAP_SYSLOG is not dmesg's"
[ "$(jq -c "$syslog | $runtime" "$WORK/out" | wc -l)" -eq 0 ] ||
	fail "the workload's check is tagged runtime"
note "$(jq -c "$admin | $runtime" "$WORK/out" | wc -l) CAP_SYS_ADMIN checks of $runc_bin tagged runtime"

# The agent: the pod's profile has CAP_SYSLOG and does not recommend
# CAP_SYS_ADMIN; the runtime's checks are counted apart.
for ((i = 0; i < 100; i++)); do
	timeout 60 "$CAPTRAIL" profile --socket "$SOCK" --pod default/initpod -o json \
		>"$WORK/profile.json" 2>"$WORK/profile.err" &&
		jq -e '[.. | strings] | index("CAP_SYSLOG")' "$WORK/profile.json" >/dev/null && break
	sleep 0.2
done
jq -e '[.. | strings] | index("CAP_SYSLOG")' "$WORK/profile.json" >/dev/null ||
	fail "the pod's profile has no CAP_SYSLOG: $(cat "$WORK/profile.json" "$WORK/profile.err")"
# The workload's own CAP_SYS_ADMIN checks (denied, noaudit: the memory
# overcommit's) stay; runc's granted ones are not the pod's.
jq -e '.grant | index("CAP_SYS_ADMIN") | not' "$WORK/profile.json" >/dev/null ||
	fail "the pod's profile grants CAP_SYS_ADMIN: $(jq -c .grant "$WORK/profile.json")"
jq -e '.classes.required | index("CAP_SYS_ADMIN") | not' "$WORK/profile.json" >/dev/null ||
	fail "the pod's profile requires CAP_SYS_ADMIN"
jq -e '[.capabilities[] | select(.name == "CAP_SYS_ADMIN") | .granted] | add // 0 | . == 0' \
	"$WORK/profile.json" >/dev/null || fail "runc's granted CAP_SYS_ADMIN checks are in the profile"
scraped=$(curl -s "http://127.0.0.1:$port/metrics" | sed -n 's/^captrail_runtime_checks_total //p')
[ "${scraped:-0}" -ge 1 ] || fail "captrail_runtime_checks_total is '$scraped'"
kill -INT $agent
wait $agent || fail "agent exited $? on SIGINT: $(cat "$WORK/agent.err")"
runtime=$(sed -n "s/^captrail agent: \([0-9]*\) checks of container runtimes' start-up.*/\1/p" \
	"$WORK/agent.err")
note "the agent kept ${runtime:-0} runtime checks apart"
[ "${runtime:-0}" -ge 1 ] || fail "the agent counted no runtime checks: $(tail -n 3 "$WORK/agent.err")"
