#!/bin/bash
# podman as the engine: a container started by name chowns a file as root
# (CAP_CHOWN granted); a pod from `podman kube play` of a Pod manifest runs
# a container whose dmesg is denied (podman grants no CAP_SYSLOG). trace and
# the agent are pointed at this podman's private storage roots (--state-root
# tells them by their layout) and name each container as podman does: id,
# name and image asserted from `podman inspect`, the pod's container from
# `podman pod inspect`. A podman pod is not a Kubernetes pod (no namespace,
# no UID; podman keeps its name in its own database only): its containers
# are containers, with "docker" and no "pod" in Tetragon's schema, and
# profiled by their podman name. The runtime's start-up is tagged and kept
# out of the profiles.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_podman.sh"
need_root
podman_available || skip "$PODMAN_SKIP_REASON"
SCHEMA=$(dirname "$0")/../tetragon_schema.py
podman_setup || fail "podman setup failed"
note "podman $(podman --version | awk '{ print $3 }') with $PODMAN_RUNTIME"

# Names of this run: another run's podman may be in another root.
solo_name=solo-$$ pod_name=xwing-$$ pilot=xwing-$$-pilot
roots=(--state-root "$PODMAN_ROOT" --state-root "$PODMAN_RUNROOT"
	--state-root "$PODMAN_RUNTIME_ROOT")
# Only these two containers, by the names podman gives them.
start_trace -o json --containers "^($solo_name|$pilot)\$" "${roots[@]}"
DB=$WORK/agent.db SOCK=$WORK/agent.sock
"$CAPTRAIL" agent --db "$DB" --socket "$SOCK" --flush-interval 1 --metrics 127.0.0.1:0 \
	"${roots[@]}" 2>"$WORK/agent.err" &
agent=$!
cleanup_hooks+=("kill -KILL $agent 2>/dev/null")
wait_agent
# The agent's stream of the kube-play container, selected by podman's name.
"$CAPTRAIL" events --socket "$SOCK" --containers "^$pilot\$" -o json \
	>"$WORK/pilot.events" 2>"$WORK/events.err" &
events=$!
cleanup_hooks+=("kill -KILL $events 2>/dev/null")
wait_for "$WORK/events.err" 'ready, streaming' ||
	fail "events client not ready: $(cat "$WORK/events.err")"

pm run -d --pull never --name "$solo_name" "$PODMAN_IMAGE" \
	/bin/sh -c 'touch /tmp/f; chown 5 /tmp/f; exec sleep 600' >"$WORK/solo.id" ||
	fail "podman run failed"
cat >"$WORK/pod.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $pod_name
  namespace: empire
  labels:
    app: fighter
  annotations:
    captrail.test/role: pilot
spec:
  restartPolicy: Never
  containers:
  - name: pilot
    image: localhost/captrail-busybox:1
    command: ["/bin/sh", "-c", "/bin/dmesg >/dev/null 2>&1; exec sleep 600"]
EOF
pm kube play --network none "$WORK/pod.yaml" >"$WORK/play.out" 2>&1 ||
	fail "podman kube play failed: $(cat "$WORK/play.out")"

# What podman says of them.
solo=$(pm inspect --format json "$solo_name") || fail "podman inspect $solo_name failed"
solo_id=$(jq -r '.[0].Id' <<<"$solo")
solo_image=$(jq -r '.[0].ImageName' <<<"$solo")
pod=$(pm pod inspect "$pod_name") || fail "podman pod inspect $pod_name failed"
pod_ctr=$(jq -r '.Containers[] | select(.Id != $infra) | .Id' --arg infra \
	"$(jq -r .InfraContainerID <<<"$pod")" <<<"$pod")
[ "$(wc -w <<<"$pod_ctr")" -eq 1 ] || fail "pod $pod_name has containers '$pod_ctr'"
pilot_json=$(pm inspect --format json "$pod_ctr") || fail "podman inspect $pod_ctr failed"
pilot_name=$(jq -r '.[0].Name' <<<"$pilot_json")
pilot_image=$(jq -r '.[0].ImageName' <<<"$pilot_json")
[ "$(jq -r '.[0].Pod' <<<"$pilot_json")" = "$(jq -r .Id <<<"$pod")" ] ||
	fail "podman: $pod_ctr is not $pod_name's"
[ "$pilot_name" = "$pilot" ] || fail "podman named the pod's container '$pilot_name'"
note "podman: $solo_name $solo_id $solo_image; pod $pod_name: $pilot_name $pod_ctr $pilot_image"

chown_ev="select(.process_kprobe.args[1].capability_arg.value == 0
	and .process_kprobe.process.docker == \"${solo_id:0:31}\")"
syslog_ev="select(.process_kprobe.args[1].capability_arg.value == 34
	and .process_kprobe.process.docker == \"${pod_ctr:0:31}\")"
wait_event "\"docker\":\"${solo_id:0:31}\".*\"capability_arg\":\\{\"value\":0,"
wait_event "\"docker\":\"${pod_ctr:0:31}\".*\"capability_arg\":\\{\"value\":34,"
stop_trace
[ "$TRACE_RC" -eq 0 ] || fail "trace exited $TRACE_RC: $(cat "$WORK/err")"
ev=$(jq -c "$chown_ev" "$WORK/out" | head -n 1)
[ -n "$ev" ] || fail "no CAP_CHOWN event of $solo_name (${solo_id:0:12})"
[ "$(jq -r '.process_kprobe.return.int_arg' <<<"$ev")" = 0 ] || fail "chown was not granted: $ev"
[ "$(jq -r '.process_kprobe.process | has("pod")' <<<"$ev")" = false ] ||
	fail "a podman container has a pod: $ev"
ev=$(jq -c "$syslog_ev" "$WORK/out" | head -n 1)
[ -n "$ev" ] || fail "no CAP_SYSLOG event of $pod_name's container (${pod_ctr:0:12})"
[ "$(jq -r '.process_kprobe.return.int_arg' <<<"$ev")" != 0 ] || fail "dmesg was granted: $ev"
[ "$(jq -r '.process_kprobe.process | has("pod")' <<<"$ev")" = false ] ||
	fail "a podman pod's container has a Kubernetes pod: $ev"
[ "$(jq -r '.process_kprobe.process.binary' <<<"$ev")" = /bin/dmesg ] ||
	fail "CAP_SYSLOG is not dmesg's: $ev"

python3 "$SCHEMA" --canonical "$WORK/out" >"$WORK/schema.out" ||
	fail "events Tetragon's schema rejects: $(head -n 20 "$WORK/schema.out")"
note "$(tail -n 1 "$WORK/schema.out")"

# The runtime's start-up in the containers' cgroups: named by its file,
# tagged, never the workload's.
rt_path=$(pm info --format '{{.Host.OCIRuntime.Path}}')
rt_bin=$(readlink -f "$rt_path")
ours="select(.process_kprobe.process.docker == \"${solo_id:0:31}\"
	or .process_kprobe.process.docker == \"${pod_ctr:0:31}\")"
runtime='select(.process_kprobe.tags | index("runtime"))'
n_rt=$(jq -c "$ours | $runtime" "$WORK/out" | wc -l)
[ "$n_rt" -ge 1 ] || fail "no check of $PODMAN_RUNTIME's start-up tagged runtime"
# podman execs the runtime by its configured path, which may be a link
# (/usr/bin/runc -> ../sbin/runc): the file is what counts.
for bin in $(jq -r "$ours | $runtime | .process_kprobe.process.binary" "$WORK/out" | sort -u); do
	[ "$(readlink -f "$bin")" = "$rt_bin" ] || fail "a runtime check is named $bin, want $rt_bin"
done
[ "$(jq -c "$ours | select(.process_kprobe.process.binary as \$b | \$bins | index(\$b))
	| select((.process_kprobe.tags // []) | index(\"runtime\") | not)" \
	--argjson bins "$(jq -n --arg a "$rt_bin" --arg b "$rt_path" '[$a, $b]')" "$WORK/out" |
	wc -l)" -eq 0 ] || fail "a check of $rt_bin is not tagged runtime"
note "$n_rt checks of $rt_bin tagged runtime"

# The agent's stream selected by podman's container name carries only it.
wait_for "$WORK/pilot.events" '"value":34' || fail "no CAP_SYSLOG event in the $pilot stream"
[ "$(jq -r '.process_kprobe.process.docker' "$WORK/pilot.events" | sort -u)" = \
	"${pod_ctr:0:31}" ] ||
	fail "the $pilot stream carried other containers"

# Profiles by podman's names, from the agent.
profile() { timeout 60 "$CAPTRAIL" profile --socket "$SOCK" "$@"; }
wait_profile() { # NAME JQ
	local i
	for ((i = 0; i < 100; i++)); do
		profile --container "$1" -o json >"$WORK/$1.json" 2>"$WORK/profile.err" &&
			jq -e "$2" "$WORK/$1.json" >/dev/null && return 0
		sleep 0.2
	done
	return 1
}
wait_profile "$solo_name" '.grant | index("CAP_CHOWN")' ||
	fail "$solo_name's profile has no CAP_CHOWN: $(cat "$WORK/$solo_name.json" "$WORK/profile.err")"
wait_profile "$pilot" '.classes.denied | index("CAP_SYSLOG")' ||
	fail "$pilot's profile has no denied CAP_SYSLOG: $(cat "$WORK/$pilot.json" "$WORK/profile.err")"
for name in "$solo_name:$solo_id" "$pilot:$pod_ctr"; do
	id=${name#*:} name=${name%%:*}
	jq -e --arg n "$name" --arg id "$id" '.workload == $n and (.instances | index($id))' \
		"$WORK/$name.json" >/dev/null ||
		fail "$name's profile is not podman's $name ($id):" \
			"$(jq -c '[.workload, .instances]' "$WORK/$name.json")"
	jq -e '.grant | index("CAP_SYS_ADMIN") | not' "$WORK/$name.json" >/dev/null ||
		fail "$name's profile grants CAP_SYS_ADMIN (the runtime's): $(jq -c .grant "$WORK/$name.json")"
done
note "captrail profile --container $solo_name -o text:"
profile --container "$solo_name" -o text | sed -n '1,/^recommended/s/^/#   /p'
note "captrail profile --container $pilot -o text:"
profile --container "$pilot" -o text | sed -n '1,/^recommended/s/^/#   /p'
kill -INT $agent
wait $agent || fail "agent exited $? on SIGINT: $(tail -n 3 "$WORK/agent.err")"
# The image each container's workload was stored with is podman's.
image_of() {
	sqlite3 "$DB" "SELECT image FROM workloads WHERE kind = 2 AND container_name = '$1'"
}
[ "$(image_of "$solo_name")" = "$solo_image" ] ||
	fail "$solo_name's image is '$(image_of "$solo_name")', podman says $solo_image"
[ "$(image_of "$pilot")" = "$pilot_image" ] ||
	fail "$pilot's image is '$(image_of "$pilot")', podman says $pilot_image"
exit 0
