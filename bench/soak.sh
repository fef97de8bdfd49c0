#!/bin/bash
# make soak: the agent under ASan+UBSan for SOAK_SECONDS (default one hour)
# of container and process churn, with an events client attached, metrics
# scraped and profiles asked for all along. Every SOAK_SAMPLE seconds it
# samples the agent's RSS, open fds, store and export size and loss
# counters; at the end it prints the samples, the churn done, and whether
# RSS and fds stayed flat after the warm-up and the store grew only with
# the workloads it had to remember. Exits 1 when a bound is broken or a
# sanitizer spoke.
#
#   SOAK_SECONDS=3600 SOAK_SAMPLE=30 bench/soak.sh [CAPTRAIL]
set -u
here=$(cd "$(dirname "$0")" && pwd)
CAPTRAIL=${1:-$here/../build/san/captrail}
. "$here/../tests/e2e/lib.sh"
. "$here/../tests/e2e/lib_pod.sh"
need_root
pod_available || skip "$POD_SKIP_REASON"
command -v curl >/dev/null || skip "curl is not installed"

seconds=${SOAK_SECONDS:-3600}
sample_every=${SOAK_SAMPLE:-30}
port=$((20000 + RANDOM % 20000))
db=$WORK/soak.db sock=$WORK/run/captrail.sock
samples=$WORK/samples.tsv
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}

"$CAPTRAIL" agent --db "$db" --socket "$sock" --flush-interval 5 \
	--metrics "127.0.0.1:$port" --state-root "$POD_RUNC_ROOT" \
	--export "$WORK/export.jsonl" --export-max-size 8388608 --export-max-backups 2 \
	>"$WORK/agent.out" 2>"$WORK/agent.err" &
agent=$!
cleanup_hooks+=("kill -KILL $agent 2>/dev/null")
wait_for "$WORK/agent.err" 'ready' || fail "agent not ready: $(cat "$WORK/agent.err")"

# A client that stays for the whole run, reading everything.
"$CAPTRAIL" events --socket "$sock" -o json >"$WORK/events.jsonl" 2>"$WORK/events.err" &
events=$!
cleanup_hooks+=("kill -KILL $events 2>/dev/null")

# One read-only rootfs for every pod; each pod is a config.json of its own.
pod_bundle "$WORK/base" soak base c busybox:soak "$(pod_new_uid)" "$(pod_new_id)" /bin/true ||
	fail "cannot build the base bundle"
pods=0 procs=0 failed=0
churn_pod() {
	local app=$1 uid id dir
	uid=$(pod_new_uid) id=$(pod_new_id) dir=$WORK/pods/$id
	mkdir -p "$dir"
	jq --arg root "$WORK/base/rootfs" --arg app "$app" --arg pod "$app-$(printf %05x $((RANDOM * 32 + RANDOM % 32)))" \
		--arg uid "$uid" --arg cg "/kubepods/besteffort/pod$uid/$id" '
		.root.path = $root | .hostname = $pod | .linux.cgroupsPath = $cg
		| .annotations["io.kubernetes.cri.sandbox-name"] = $pod
		| .annotations["io.kubernetes.cri.sandbox-uid"] = $uid
		| .annotations["io.kubernetes.cri.container-name"] = $app
		| .process.args = ["/bin/sh", "-c", "dmesg >/dev/null 2>&1; kill -0 1; hostname x 2>/dev/null; true"]' \
		"$WORK/base/config.json" >"$dir/config.json" || return 1
	pod_run "$id" "$dir" >/dev/null 2>&1
	_pod_runc delete --force "$id" >/dev/null 2>&1
	rm -rf "$dir"
}
churn_host() {
	setpriv --reuid=65534 --regid=65534 --clear-groups dmesg >/dev/null 2>&1
	unshare --uts hostname soak >/dev/null 2>&1
	for _ in 1 2 3 4 5; do sh -c 'exit 0'; done
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$agent/status"; }
fds() { find "/proc/$agent/fd" -mindepth 1 -maxdepth 1 | wc -l; }
bytes() { du -cb "$@" 2>/dev/null | tail -n 1 | cut -f1; }
metric() { # the sum of a metric's samples
	curl -sf "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m || index($1, m "{") == 1 { s += $2 } END { print s + 0 }'
}
profile_ok=0 profile_failed=0
sample() {
	local t=$1
	if "$CAPTRAIL" profile --socket "$sock" --all -o json >/dev/null 2>"$WORK/profile.err"; then
		profile_ok=$((profile_ok + 1))
	else
		profile_failed=$((profile_failed + 1))
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$(rss_kb)" "$(fds)" \
		"$(bytes "$db")" "$(bytes "$db-wal")" "$(bytes "$WORK"/export.jsonl*)" "$pods" "$procs" \
		"$(metric captrail_events_lost_total)" >>"$samples"
}

printf 't\trss_kb\tfds\tstore_bytes\twal_bytes\texport_bytes\tpods\tprocs\tlost\n' >"$samples"
start=$(date +%s) next=0 apps=(web api worker cron db)
while :; do
	now=$(($(date +%s) - start))
	[ "$now" -ge "$seconds" ] && break
	kill -0 "$agent" 2>/dev/null || fail "the agent died: $(tail -n 20 "$WORK/agent.err")"
	[ "$now" -ge "$next" ] && { sample "$now"; next=$((next + sample_every)); }
	if churn_pod "${apps[RANDOM % ${#apps[@]}]}"; then pods=$((pods + 1)); else failed=$((failed + 1)); fi
	churn_host
	procs=$((procs + 8))
done
sample "$seconds"

kill -TERM "$agent"
wait "$agent"
agent_rc=$?
kill -INT "$events" 2>/dev/null
wait "$events" 2>/dev/null

echo "soak: $seconds s, $pods pods ($failed failed to run), $procs host processes, $(wc -l <"$WORK/events.jsonl") events to the client, profile answered $profile_ok times, failed $profile_failed"
column -t "$samples"

# The bounds: after the first quarter (caches filled), RSS may grow by a
# quarter plus 8 MiB at most, fds by 4; the store, checkpointed when the
# agent stops, by what it must remember: a few KiB per pod (each pod is a
# workload of its own until owners are named). A sanitizer report or an
# unclean exit fails the run.
store_final=$(bytes "$db" "$db-wal")
verdict=0
awk -F'\t' -v q=$((seconds / 4)) -v s="$store_final" '
	NR > 1 && $1 >= q && !w { w = $2; f = $3 }
	NR > 1 { r = $2; g = $3; p = $7 }
	END {
		printf "soak: rss %d KiB after warm-up, %d KiB at the end; fds %d -> %d; store %d bytes at the end for %d pods (%.0f B/pod)\n", w, r, f, g, s, p, p ? s / p : 0
		bad = 0
		if (r > w * 1.25 + 8192) { print "soak: RSS kept growing"; bad = 1 }
		if (g > f + 4) { print "soak: fds kept growing"; bad = 1 }
		if (p && s / p > 16384) { print "soak: the store grew more than 16 KiB per pod"; bad = 1 }
		exit bad
	}' "$samples" || verdict=1
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$WORK/agent.err"; then
	echo "soak: the sanitizers reported:"; grep -E -A20 'Sanitizer|runtime error:' "$WORK/agent.err" | head -n 60
	verdict=1
fi
[ "$agent_rc" -eq 0 ] || { echo "soak: the agent exited $agent_rc"; verdict=1; }
[ "$profile_failed" -eq 0 ] || { echo "soak: profile failed $profile_failed times: $(cat "$WORK/profile.err")"; verdict=1; }
cp "$samples" "${SOAK_SAMPLES_OUT:-/dev/null}" 2>/dev/null
exit $verdict
