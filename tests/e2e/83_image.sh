#!/bin/bash
# The image (scripts/image.sh, as `make image` builds it) holds captrail,
# exactly the libraries ldd names and nothing else but passwd, group and
# mount points; run under podman as deploy/daemonset.yaml runs it (its
# command, args, env, securityContext, hostPID and volumes, read from the
# file), the agent in it sees a process outside the container: a host
# dmesg as nobody, denied CAP_SYSLOG, reaches `captrail events` on the
# host through the socket's hostPath, with the container's NODE_NAME; its
# health endpoint answers; SIGTERM stops it cleanly, and the store on the
# state hostPath holds the host program's denial.
. "$(dirname "$0")/lib.sh"

SRC=${CAPTRAIL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DS=$SRC/deploy/daemonset.yaml
need_root
for tool in podman buildah runc; do
	command -v $tool >/dev/null || skip "no $tool (package $tool)"
done
python3 -c 'import yaml' 2>/dev/null || skip "no PyYAML (package python3-yaml)"
# With dmesg_restrict=0 reading the log needs no capability (a global
# setting this test must not change on a shared machine).
[ "$(cat /proc/sys/kernel/dmesg_restrict)" = 1 ] || skip "kernel.dmesg_restrict is 0"

version=$(cat "$SRC/VERSION")
image=localhost/captrail:$version
name=captrail-e2e-$$
node=e2e-node-$$
# Storage, state and temporary files of our own: other tests run podman
# at the same time. vfs: no mounts left behind if the test is killed. runc:
# crun refuses hybrid cgroup hierarchies, which kubelet's runc runs on.
store=$WORK/storage
podman_opts="--root $store/root --runroot $store/runroot --tmpdir $store/tmp
	--storage-driver vfs --cgroup-manager cgroupfs --events-backend file --runtime runc"
# shellcheck disable=SC2086 # podman_opts is a list of options
pm() { podman $podman_opts "$@"; }
cleanup_hooks+=("pm rm -f -t 0 $name >/dev/null 2>&1; pm rmi -a -f >/dev/null 2>&1")

note "the image, built from scratch into the test's storage"
BUILDAH_OPTS="--root $store/root --runroot $store/runroot --storage-driver vfs" \
	"$SRC/scripts/image.sh" "$CAPTRAIL" "$image" || fail "scripts/image.sh failed"
grep -q "image: localhost/captrail:$version\$" "$DS" ||
	fail "deploy/daemonset.yaml does not name $image"
[ "$(pm image inspect -f '{{index .Labels "org.opencontainers.image.version"}}' "$image")" = \
	"$version" ] || fail "the image's version label is not $version"
[ "$(pm image inspect -f '{{len .RootFS.Layers}}' "$image")" = 1 ] ||
	fail "the image has a base layer: not built from scratch"

note "its files: the binary, the libraries ldd names, passwd, group"
ctr=$(pm create "$image") || fail "podman create failed"
pm export "$ctr" | tar -tf - | grep -v '/$' | sort >"$WORK/files"
pm rm "$ctr" >/dev/null
{
	echo etc/group
	echo etc/passwd
	echo usr/local/sbin/captrail
	ldd "$CAPTRAIL" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
		sed 's|^/||'
} | sort >"$WORK/expected"
diff "$WORK/expected" "$WORK/files" || fail "the image holds other files than expected"
note "$(wc -l <"$WORK/files") files"

# The DaemonSet's pod as podman options. hostPath volumes the agent writes
# (store, socket) go to directories of the test, never the node's; the
# read-only ones are the host's own, or an empty directory of the test
# where the host has none (DirectoryOrCreate would create it on the node).
python3 - "$DS" "$WORK/hostpath" "$node" >"$WORK/podman-args" <<'EOF' ||
import os, sys, yaml

ds = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "DaemonSet"][0]
hostdir, node = sys.argv[2], sys.argv[3]
pod = ds["spec"]["template"]["spec"]
c = pod["containers"][0]
args = []
if pod.get("hostPID"):
    args.append("--pid=host")
for e in c.get("env", []):
    if e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "spec.nodeName":
        args.append(f"--env={e['name']}={node}")
    elif "value" in e:
        args.append(f"--env={e['name']}={e['value']}")
sc = c.get("securityContext", {})
if sc.get("privileged"):
    args.append("--privileged")
for cap in sc.get("capabilities", {}).get("drop", []):
    args.append(f"--cap-drop={cap}")
for cap in sc.get("capabilities", {}).get("add", []):
    args.append(f"--cap-add=CAP_{cap}")
if "runAsUser" in sc:
    args.append(f"--user={sc['runAsUser']}")
if sc.get("allowPrivilegeEscalation") is False:
    args.append("--security-opt=no-new-privileges")
if sc.get("readOnlyRootFilesystem"):
    args += ["--read-only", "--read-only-tmpfs=false"]
if sc.get("seccompProfile", {}).get("type") == "Unconfined":
    args.append("--security-opt=seccomp=unconfined")
volumes = {v["name"]: v for v in pod["volumes"]}
for m in c["volumeMounts"]:
    v = volumes[m["name"]]
    ro = bool(m.get("readOnly"))
    if "emptyDir" in v:
        size = v["emptyDir"].get("sizeLimit", "64Mi").replace("Mi", "m")
        args.append(f"--tmpfs={m['mountPath']}:size={size}")
        continue
    path = v["hostPath"]["path"]
    if not ro or not os.path.isdir(path):
        path = os.path.join(hostdir, m["name"])
        os.makedirs(path, exist_ok=True)
    args.append(f"--volume={path}:{m['mountPath']}:{'ro' if ro else 'rw'}")
args.append(f"--entrypoint={c['command'][0]}")
print("\n".join(args))
print("IMAGE")
print("\n".join(c["command"][1:] + c.get("args", [])))
EOF
	fail "cannot read the DaemonSet's pod from $DS"
mapfile -t run_args <"$WORK/podman-args"
for i in "${!run_args[@]}"; do [ "${run_args[i]}" = IMAGE ] && run_args[i]=$image; done
note "podman run ${run_args[*]}"

note "the agent in the container, as the DaemonSet runs it"
# The default ulimits podman asks for are above this machine's hard limits
# (raising them needs CAP_SYS_RESOURCE); uid 0 is exempt from RLIMIT_NPROC.
pm run --name "$name" --network none --ulimit "nofile=$(ulimit -Sn):$(ulimit -Hn)" \
	--ulimit nproc=4096:4096 "${run_args[@]}" >"$WORK/agent.out" 2>"$WORK/agent.err" &
AGENT=$!
# wait_agent stops waiting when podman run (the container) has ended
TRACE_PID=$AGENT
wait_agent
TRACE_PID=
sock=$WORK/hostpath/socket/captrail.sock
[ -S "$sock" ] || fail "no API socket on the socket hostPath: $(ls -la "$WORK/hostpath/socket")"

note "captrail events on the host, through the socket's hostPath"
"$CAPTRAIL" events --socket "$sock" -o json --processes '^/usr/bin/dmesg$' \
	>"$WORK/out" 2>"$WORK/events.err" &
EVENTS=$!
cleanup_hooks+=("kill $EVENTS 2>/dev/null")
wait_for "$WORK/events.err" 'ready, streaming' ||
	fail "events client not ready: $(cat "$WORK/events.err")"

note "dmesg as nobody on the host, outside the container"
# Each run is a new process; the first ones may run before the agent
# attached its stream program for the new client.
: >"$WORK/pids"
seen=
for ((i = 0; i < 100; i++)); do
	sh -c 'echo $$ >>"$1"; exec setpriv --reuid=65534 --regid=65534 --clear-groups dmesg' \
		_ "$WORK/pids" >/dev/null 2>&1
	pids=$(paste -sd, "$WORK/pids")
	seen=$(jq -r --argjson pids "[$pids]" 'select(.process_kprobe.process.pid as $p
		| $pids | index($p)) | select(.process_kprobe.args[].capability_arg.value == 34)
		| .process_kprobe.process.pid' "$WORK/out" 2>/dev/null | head -n 1)
	[ -n "$seen" ] && break
	sleep 0.2
done
[ -n "$seen" ] || fail "no CAP_SYSLOG event of a host dmesg: $(head -c 2000 "$WORK/out")"
jq -c "select(.process_kprobe.process.pid == $seen)
	| select(.process_kprobe.args[].capability_arg.value == 34)" "$WORK/out" |
	head -n 1 >"$WORK/event"
note "event: $(head -c 400 "$WORK/event")"
jq -e --arg node "$node" '.node_name == $node
	and .process_kprobe.process.binary == "/usr/bin/dmesg"
	and .process_kprobe.process.uid == 65534
	and (.process_kprobe.args[] | select(.capability_arg) | .capability_arg.name)
		== "CAP_SYSLOG"
	and .process_kprobe.return.int_arg == -1
	and (.process_kprobe.tags | index("denied"))
	and (.process_kprobe.process | has("pod") | not)' "$WORK/event" >/dev/null ||
	fail "the event is not the host dmesg's CAP_SYSLOG denial on $node: $(cat "$WORK/event")"

note "the health endpoint the probes ask, in the container's network namespace"
cpid=$(pm inspect -f '{{.State.Pid}}' "$name") || fail "no pid for the container"
probe=$(python3 - "$DS" <<'EOF'
import sys, yaml

ds = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "DaemonSet"][0]
c = ds["spec"]["template"]["spec"]["containers"][0]
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
get = c["livenessProbe"]["httpGet"]
print(str(ports.get(get["port"], get["port"])) + get["path"])
EOF
) || fail "no liveness probe in the DaemonSet"
nsenter -t "$cpid" -n curl -sf "http://127.0.0.1:$probe" >/dev/null ||
	fail "GET 127.0.0.1:$probe, the liveness probe, failed in the container"

note "SIGTERM, as kubelet stops the pod: the agent flushes and exits 0"
kill "$EVENTS" 2>/dev/null
pm stop -t 30 "$name" >/dev/null || fail "podman stop failed"
wait "$AGENT"
rc=$?
[ "$rc" -eq 0 ] || fail "the agent exited $rc: $(tail -n 5 "$WORK/agent.err")"
db=$WORK/hostpath/state/captrail.db
[ -s "$db" ] || fail "no store on the state hostPath"
"$CAPTRAIL" profile --db "$db" --binary /usr/bin/dmesg -o json >"$WORK/profile.json" ||
	fail "no profile of /usr/bin/dmesg in the container's store"
jq -e '.. | objects | select(.name? == "CAP_SYSLOG")' "$WORK/profile.json" >/dev/null ||
	fail "the store lacks dmesg's CAP_SYSLOG: $(head -c 1000 "$WORK/profile.json")"
note "ok"
