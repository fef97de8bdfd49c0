#!/bin/bash
# Docker Engine as a node runs it: two containers started by name, one that
# chowns a file as root (CAP_CHOWN, in Docker's default set), one denied
# dmesg (CAP_SYSLOG, not in it). trace and the agent are pointed at this
# dockerd's data and exec roots (--state-root, told apart by their layout);
# what they say of each container is checked against what Docker answers
# (docker inspect): its id on every event ("docker", no "pod": Tetragon's
# shape for a container outside Kubernetes, which its schema accepts), its
# name in trace's filter and the agent's profiles, its image in the
# agent's rows. runc's init is tagged "runtime" and kept out of the profiles.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_docker.sh"
need_root
docker_available || skip "$DOCKER_SKIP_REASON"
command -v python3 >/dev/null || skip "python3 is not installed"
SCHEMA=$(dirname "$0")/../tetragon_schema.py
SOCK=$WORK/agent.sock

suffix=$(tr 'A-Z' 'a-z' <<<"${WORK##*.}")
image=captrail-busybox:e2e-$suffix
chowner=ct-chown-$suffix
dmesger=ct-dmesg-$suffix
docker_start || fail "dockerd did not start"
docker_image "$image" || fail "cannot import the busybox image"

# Only these two containers, by the names captrail reads from Docker's
# state: the rest of a shared machine's checks would be most of the output.
start_trace -o json --state-root "$DOCKER_DATA" --state-root "$DOCKER_EXEC" \
	--containers "^($chowner|$dmesger)\$"
"$CAPTRAIL" agent --db "$WORK/agent.db" --socket "$SOCK" --flush-interval 1 \
	--metrics 127.0.0.1:0 --state-root "$DOCKER_DATA" --state-root "$DOCKER_EXEC" \
	2>"$WORK/agent.err" &
agent=$!
cleanup_hooks+=("kill -KILL $agent 2>/dev/null")
wait_agent

dk run -d --name "$chowner" --network none "$image" \
	/bin/sh -c 'touch /tmp/f; chown 5 /tmp/f; exec sleep 600' >/dev/null ||
	fail "docker run $chowner failed: $(tail -n 3 "$DOCKER_DIR/dockerd.log")"
# Docker's default seccomp profile fails syslog(2) itself unless CAP_SYSLOG
# is granted, before the kernel checks the capability: unconfined, the
# denial is the capability set's.
dk run -d --name "$dmesger" --network none --security-opt seccomp=unconfined "$image" \
	/bin/sh -c 'dmesg >/dev/null 2>&1; exec sleep 600' >/dev/null ||
	fail "docker run $dmesger failed: $(tail -n 3 "$DOCKER_DIR/dockerd.log")"

inspect() { dk inspect -f "$2" "$1"; }
chown_id=$(inspect "$chowner" '{{.Id}}') && dmesg_id=$(inspect "$dmesger" '{{.Id}}') ||
	fail "docker inspect failed"
name=$(inspect "$chowner" '{{.Name}}')
[ "$name" = "/$chowner" ] || fail "docker names it '$name'"
docker_name=${name#/}
chown_image=$(inspect "$chowner" '{{.Config.Image}}')
[ "$chown_image" = "$image" ] || fail "docker says the image is '$chown_image'"
docker_field() { # ID CAP: an event of the container with the capability
	printf '"docker":"%s".*"value":%s,|"value":%s,.*"docker":"%s"' "${1:0:31}" "$2" "$2" "${1:0:31}"
}
wait_event "$(docker_field "$chown_id" 0)"
wait_event "$(docker_field "$dmesg_id" 34)"
stop_trace
[ "$TRACE_RC" -eq 0 ] || fail "trace exited $TRACE_RC: $(cat "$WORK/err")"

python3 "$SCHEMA" --canonical "$WORK/out" >"$WORK/schema.out" ||
	fail "events Tetragon's schema rejects: $(head -n 20 "$WORK/schema.out")"
note "$(tail -n 1 "$WORK/schema.out")"

first() { jq_out "select($1)" | head -n 1; }
check() { # EVENT JQ WANT
	[ "$(jq -r "$2" <<<"$1")" = "$3" ] || fail "$2 is '$(jq -r "$2" <<<"$1")', want '$3'"
}
of() { echo ".process_kprobe.process.docker == \"${1:0:31}\""; }
runtime='(.process_kprobe.tags | index("runtime"))'

ev=$(first "$(of "$chown_id") and .process_kprobe.args[1].capability_arg.value == 0")
[ -n "$ev" ] || fail "no CAP_CHOWN event of $chowner"
check "$ev" '.process_kprobe.args[1].capability_arg.name' CAP_CHOWN
check "$ev" '.process_kprobe.return.int_arg' 0
check "$ev" '.process_kprobe.process | has("pod")' false
check "$ev" "$runtime" null
chown_event=$ev

ev=$(first "$(of "$dmesg_id") and .process_kprobe.args[1].capability_arg.value == 34")
[ -n "$ev" ] || fail "no CAP_SYSLOG event of $dmesger"
check "$ev" '.process_kprobe.args[1].capability_arg.name' CAP_SYSLOG
check "$ev" '.process_kprobe.return.int_arg != 0' true
check "$ev" '.process_kprobe.process | has("pod")' false
check "$ev" "$runtime" null

# runc's init runs in each container's cgroup before it enters the
# container: its checks carry the container, are tagged, and are named by
# runc's own file.
runc_bin=$(readlink -f "$(command -v runc)")
for id in "$chown_id" "$dmesg_id"; do
	n=$(jq_out "select($(of "$id") and $runtime != null)" | wc -l)
	[ "$n" -ge 1 ] || fail "no check of runc's init in ${id:0:12} is tagged runtime"
	note "${id:0:12}: $n checks of runc's init tagged runtime"
done
bins=$(jq_out -r "select($runtime != null) | .process_kprobe.process.binary" | sort -u)
[ "$bins" = "$runc_bin" ] || fail "runtime checks are named '$bins', want $runc_bin"

# The filter by name let only these two containers' events through.
others=$(jq_out "select(($(of "$chown_id") or $(of "$dmesg_id")) | not)" | wc -l)
[ "$others" -eq 0 ] || fail "the filter by name let $others events of others through"

# The agent: profiles by Docker's names.
profile() { timeout 60 "$CAPTRAIL" profile --socket "$SOCK" "$@"; }
wait_profile() { # NAME JQ: until the profile of NAME satisfies JQ
	local i
	for ((i = 0; i < 100; i++)); do
		profile --container "$1" -o json 2>"$WORK/profile.err" | jq -e "$2" >/dev/null &&
			return 0
		sleep 0.2
	done
	return 1
}
wait_profile "$chowner" '.grant | index("CAP_CHOWN")' ||
	fail "the profile of $chowner never granted CAP_CHOWN: $(cat "$WORK/profile.err")"
wait_profile "$dmesger" '.classes.denied | index("CAP_SYSLOG")' ||
	fail "the profile of $dmesger never listed CAP_SYSLOG as denied: $(cat "$WORK/profile.err")"
profile --container "$chowner" -o json >"$WORK/chown.json" || fail "profile of $chowner failed"
# runc's init mounted, made nodes and set capabilities in the container's
# cgroup: none of it is the workload's.
[ "$(profile_grant "$WORK/chown.json")" = CHOWN ] ||
	fail "the profile of $chowner grants $(profile_grant "$WORK/chown.json"):" \
		"$(tail -n 4 "$WORK/agent.err")"
jq -e '[.capabilities[] | select(.name == "CAP_SYS_ADMIN") | .granted] | add // 0 | . == 0' \
	"$WORK/chown.json" >/dev/null || fail "runc's CAP_SYS_ADMIN checks are in the profile"
profile --container "$dmesger" -o json >"$WORK/dmesg.json" || fail "profile of $dmesger failed"
[ "$(profile_grant "$WORK/dmesg.json")" = "" ] ||
	fail "the profile of $dmesger grants $(profile_grant "$WORK/dmesg.json"):" \
		"$(tail -n 4 "$WORK/agent.err")"
profile --container "$chowner" -o text >"$WORK/chown.txt" || fail "profile -o text failed"
grep -q "CAP_CHOWN" "$WORK/chown.txt" || fail "the text profile lacks CAP_CHOWN"

# The agent's rows: kind, name, image and instance as Docker has them.
python3 - "$SOCK" "$chowner" >"$WORK/rows.json" <<'EOF' || fail "the profile request failed"
import json, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(60)
s.connect(sys.argv[1])
s.sendall((json.dumps({"version": 1, "op": "profile",
                       "select": {"container": sys.argv[2]}}) + "\n").encode())
data = b""
while not data.endswith(b"\n"):
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print(data.decode().strip())
EOF
jq -e --arg n "$docker_name" --arg img "$chown_image" '[.profile[] | select(.kind == "container"
	and .container_name == $n and .image == $img)] | length > 0' "$WORK/rows.json" >/dev/null ||
	fail "the agent's rows do not name $docker_name and $chown_image: $(head -c 600 "$WORK/rows.json")"
jq -e --arg id "$chown_id" '[.instances[].instance] == [$id]' "$WORK/rows.json" >/dev/null ||
	fail "the agent's instances are $(jq -c '.instances' "$WORK/rows.json"), want $chown_id"

# record --container takes Docker's name for a running container: a
# docker exec in it chowns again while it is recorded, then SIGINT ends it.
"$CAPTRAIL" record --container "$chowner" -o json --state-root "$DOCKER_DATA" \
	--state-root "$DOCKER_EXEC" >"$WORK/attach.json" 2>"$WORK/attach.err" &
attach=$!
wait_for "$WORK/attach.err" "ready, recording" ||
	fail "record --container did not start: $(cat "$WORK/attach.err")"
dk exec "$chowner" chown 6 /tmp/f || fail "docker exec failed"
kill -INT $attach
wait $attach || fail "record --container $chowner exited $?: $(cat "$WORK/attach.err")"
[ "$(jq -r .workload "$WORK/attach.json")" = "$chowner" ] ||
	fail "record --container named the profile '$(jq -r .workload "$WORK/attach.json")'"
[ "$(profile_grant "$WORK/attach.json")" = CHOWN ] ||
	fail "record --container $chowner grants '$(profile_grant "$WORK/attach.json")', want CHOWN"

note "docker inspect $chowner: name $name, id $chown_id, image $chown_image"
note "one event of $chowner:"
note "$chown_event"
note "captrail profile --container $chowner -o text:"
sed 's/^/#   /' "$WORK/chown.txt"

kill -INT $agent
wait $agent || fail "agent exited $? on SIGINT: $(cat "$WORK/agent.err")"
runtime_checks=$(sed -n \
	"s/^captrail agent: \([0-9]*\) checks of container runtimes' start-up.*/\1/p" "$WORK/agent.err")
note "the agent kept ${runtime_checks:-0} runtime checks apart"
[ "${runtime_checks:-0}" -ge 1 ] || fail "the agent counted no runtime checks"
exit 0
