# Kubernetes-shaped containers with runc alone, for end-to-end tests (root);
# source it after lib.sh. A bundle gets a busybox rootfs, the cgroup a
# kubelet would give it (/kubepods/besteffort/pod<uid>/<id>, cgroupfs
# driver) and the annotations containerd's CRI plugin writes, so the
# container resolver names its pod exactly as on a node.
#
#   pod_available || skip "$POD_SKIP_REASON"
#   pod_bundle DIR NAMESPACE POD CONTAINER IMAGE POD_UID CONTAINER_ID CMD...
#   pod_new_uid / pod_new_id   a random pod UID / 64-hex container id to pass it
#   pod_run ID BUNDLE      foreground; the container's output is ours; its exit code
#   pod_start ID BUNDLE    detached; output in BUNDLE/output; returns once it runs
#   pod_pid ID             its init pid (initial pid namespace)
#   pod_cgroup_id ID       its cgroup v2 id, as bpf_get_current_cgroup_id() reports
#   pod_cleanup            kills and deletes every container, removes the cgroups
#                          it created; lib.sh's exit hook runs it
#
# runc keeps its state in the private root $POD_RUNC_ROOT (under $WORK), not
# /run/runc: the resolver finds these containers' bundles, and so the pod
# names, only when that root is one of its runtime state roots
# (struct container_roots.state[], or captrail's state-root option).
#
# POD_CGROUP_PARENT (e.g. /captrail-test-1/node-a) puts the kubelet's tree
# under it, as for several "nodes" on one host.
#
# POD_CAPS (space-separated) replaces runc's default capability set
# (CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE: no CAP_SYSLOG, so dmesg is
# denied although the process runs as uid 0).
set -u
POD_RUNC_ROOT=${POD_RUNC_ROOT:-${WORK:?source lib.sh first}/runc}
POD_CAPS=${POD_CAPS:-CAP_AUDIT_WRITE CAP_KILL CAP_NET_BIND_SERVICE}
POD_CGROUP_PARENT=${POD_CGROUP_PARENT:-}
POD_SKIP_REASON=
# In a file, so that pods started in a subshell ($(pod_run ...)) are cleaned up too.
POD_CGROUPS_FILE=${POD_CGROUPS_FILE:-$WORK/pod-cgroups}
declare -p cleanup_hooks >/dev/null 2>&1 && cleanup_hooks+=(pod_cleanup)

_pod_runc() { timeout 30 runc --root "$POD_RUNC_ROOT" "$@"; }

pod_available() {
	if ! command -v runc >/dev/null; then
		POD_SKIP_REASON="runc is not installed (apt-get install runc)"
	elif ! command -v jq >/dev/null; then
		POD_SKIP_REASON="jq is not installed"
	elif [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
		POD_SKIP_REASON="no static /bin/busybox (apt-get install busybox-static)"
	else
		return 0
	fi
	return 1
}

# The cgroup v2 mount: /sys/fs/cgroup, or /sys/fs/cgroup/unified when hybrid.
pod_v2_root() {
	local d
	for d in /sys/fs/cgroup /sys/fs/cgroup/unified; do
		[ "$(stat -f -c %T "$d" 2>/dev/null)" = cgroup2fs ] && { echo "$d"; return 0; }
	done
	return 1
}

pod_new_uid() { cat /proc/sys/kernel/random/uuid; }
pod_new_id() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

pod_bundle() {
	local dir=$1 ns=$2 pod=$3 ctr=$4 image=$5 uid=$6 id=$7 applet i=0 argv=()
	shift 7
	[ $# -gt 0 ] || { echo "pod_bundle: no command" >&2; return 2; }
	# jq 1.6 takes "-c" after --args for its own option: name each argument.
	for applet in "$@"; do
		argv+=(--arg "arg$i" "$applet")
		i=$((i + 1))
	done
	mkdir -p "$dir/rootfs/bin" "$dir/rootfs/proc" "$dir/rootfs/dev" "$dir/rootfs/sys" \
		"$dir/rootfs/tmp" "$dir/rootfs/etc" || return 1
	cp /bin/busybox "$dir/rootfs/bin/busybox" || return 1
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$applet"
	done
	echo "root:x:0:0:root:/:/bin/sh" >"$dir/rootfs/etc/passwd"
	jq -n --arg ns "$ns" --arg pod "$pod" --arg ctr "$ctr" --arg image "$image" \
		--arg uid "$uid" --arg cgroup "$POD_CGROUP_PARENT/kubepods/besteffort/pod$uid/$id" \
		--arg caps "$POD_CAPS" --argjson argc $# "${argv[@]}" '
	($caps | split(" ") | map(select(. != ""))) as $c |
	{
		ociVersion: "1.0.2-dev",
		process: {
			terminal: false,
			user: { uid: 0, gid: 0 },
			args: [range($argc) as $i | $ARGS.named["arg\($i)"]],
			env: ["PATH=/bin", "HOSTNAME=\($pod)"],
			cwd: "/",
			capabilities: { bounding: $c, effective: $c, permitted: $c, ambient: $c },
			rlimits: [{ type: "RLIMIT_NOFILE", hard: 1024, soft: 1024 }],
			noNewPrivileges: true
		},
		root: { path: "rootfs", readonly: true },
		hostname: $pod,
		mounts: [
			{ destination: "/proc", type: "proc", source: "proc" },
			{ destination: "/dev", type: "tmpfs", source: "tmpfs",
			  options: ["nosuid", "strictatime", "mode=755", "size=65536k"] },
			{ destination: "/dev/pts", type: "devpts", source: "devpts",
			  options: ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"] },
			{ destination: "/dev/shm", type: "tmpfs", source: "shm",
			  options: ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
			{ destination: "/dev/mqueue", type: "mqueue", source: "mqueue",
			  options: ["nosuid", "noexec", "nodev"] },
			{ destination: "/sys", type: "sysfs", source: "sysfs",
			  options: ["nosuid", "noexec", "nodev", "ro"] },
			{ destination: "/tmp", type: "tmpfs", source: "tmpfs",
			  options: ["nosuid", "nodev", "mode=1777"] }
		],
		annotations: {
			"io.kubernetes.cri.container-type": "container",
			"io.kubernetes.cri.container-name": $ctr,
			"io.kubernetes.cri.image-name": $image,
			"io.kubernetes.cri.sandbox-namespace": $ns,
			"io.kubernetes.cri.sandbox-name": $pod,
			"io.kubernetes.cri.sandbox-uid": $uid
		},
		linux: {
			cgroupsPath: $cgroup,
			resources: { devices: [{ allow: false, access: "rwm" }] },
			namespaces: [{ type: "pid" }, { type: "network" }, { type: "ipc" },
				     { type: "uts" }, { type: "mount" }],
			maskedPaths: ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
				      "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
				      "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
			readonlyPaths: ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
					"/proc/sysrq-trigger"]
		}
	}' >"$dir/config.json"
}

# Remembers the cgroup directories runc is about to create, in every
# hierarchy, so pod_cleanup removes those and nothing that was there before
# (runc deletes only the leaf).
_pod_note_cgroups() {
	local bundle=$1 path h rel part
	path=$(jq -r '.linux.cgroupsPath' "$bundle/config.json") || return 1
	for h in /sys/fs/cgroup /sys/fs/cgroup/*; do
		[ -d "$h" ] && [ ! -L "$h" ] && [ -e "$h/cgroup.procs" ] || continue
		rel=
		for part in ${path//\// }; do
			rel=$rel/$part
			[ -d "$h$rel" ] || echo "$h$rel" >>"$POD_CGROUPS_FILE"
		done
	done
}

pod_run() {
	local id=$1 bundle=$2
	_pod_note_cgroups "$bundle" || return 1
	mkdir -p "$POD_RUNC_ROOT"
	_pod_runc run --bundle "$bundle" "$id" </dev/null
}

pod_start() {
	local id=$1 bundle=$2 i
	_pod_note_cgroups "$bundle" || return 1
	mkdir -p "$POD_RUNC_ROOT"
	_pod_runc run --detach --bundle "$bundle" "$id" </dev/null >"$bundle/output" 2>&1 ||
		{ cat "$bundle/output" >&2; return 1; }
	for ((i = 0; i < 100; i++)); do
		_pod_runc state "$id" 2>/dev/null | jq -e '.status == "running"' >/dev/null && return 0
		sleep 0.1
	done
	echo "pod_start: $id is not running" >&2
	return 1
}

pod_pid() { _pod_runc state "$1" | jq -r '.pid'; }

pod_cgroup_id() {
	local root path
	root=$(pod_v2_root) || return 1
	path=$(_pod_runc state "$1" | jq -r '.bundle') || return 1
	path=$(jq -r '.linux.cgroupsPath' "$path/config.json") || return 1
	stat -c %i "$root$path"
}

pod_cleanup() {
	local id dir i
	if [ -d "$POD_RUNC_ROOT" ]; then
		for id in $(_pod_runc list --quiet 2>/dev/null); do
			_pod_runc delete --force "$id" >/dev/null 2>&1
		done
	fi
	# Deepest first. Only a container's own cgroup is killed and waited for:
	# a parent may hold another test's pod by now, and then stays.
	while read -r dir; do
		[ -n "$dir" ] && [ -d "$dir" ] || continue
		if [[ $dir =~ /[0-9a-f]{64}$ ]]; then
			[ -e "$dir/cgroup.kill" ] && echo 1 >"$dir/cgroup.kill" 2>/dev/null
			for ((i = 0; i < 50; i++)); do
				rmdir "$dir" 2>/dev/null || [ ! -d "$dir" ] && break
				sleep 0.1
			done
		else
			rmdir "$dir" 2>/dev/null
		fi
	done < <(sort -u "$POD_CGROUPS_FILE" 2>/dev/null | awk '{ print length, $0 }' |
		sort -rn | cut -d' ' -f2-)
	rm -f "$POD_CGROUPS_FILE"
}
