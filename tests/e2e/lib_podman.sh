# podman as a real engine for end-to-end tests (root); source it after
# lib.sh. Every podman call goes through pm, which keeps all of podman's
# state under $WORK/podman: its storage graph root (root/), run root
# (runroot/), tmpdir, the OCI runtime's state (runc/), and its own
# containers.conf, storage.conf and registries.conf (CONTAINERS_CONF, ...),
# never /var/lib/containers or /run/containers; the cgroupfs manager, file
# events, no network, nothing pulled: the image is imported from the static
# /bin/busybox, kube play's infra image is the pause image podman builds
# itself from catatonit.
#
#   podman_available || skip "$PODMAN_SKIP_REASON"
#   podman_setup           the directories, configuration and $PODMAN_IMAGE
#   pm ARGS...             podman on that state
#   podman_cleanup         removes every pod and container, conmon, mounts and
#                          cgroups; lib.sh's exit hook runs it
#
# PODMAN_ROOT, PODMAN_RUNROOT and PODMAN_RUNTIME_ROOT are what captrail's
# --state-root is given: it tells the two storage roots by their layout.
set -u
PODMAN_DIR=${WORK:?source lib.sh first}/podman
PODMAN_ROOT=$PODMAN_DIR/root
PODMAN_RUNROOT=$PODMAN_DIR/runroot
PODMAN_RUNTIME_ROOT=$PODMAN_DIR/runtime
PODMAN_IMAGE=localhost/captrail-busybox:1
PODMAN_RUNTIME=
PODMAN_SKIP_REASON=
declare -p cleanup_hooks >/dev/null 2>&1 && cleanup_hooks+=(podman_cleanup)

podman_available() {
	if ! command -v podman >/dev/null; then
		PODMAN_SKIP_REASON="podman is not installed (scripts/install-deps.sh)"
	elif ! command -v conmon >/dev/null; then
		PODMAN_SKIP_REASON="conmon is not installed"
	elif ! command -v jq >/dev/null; then
		PODMAN_SKIP_REASON="jq is not installed"
	elif [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
		PODMAN_SKIP_REASON="no static /bin/busybox (apt-get install busybox-static)"
	elif ! _podman_pick_runtime; then
		PODMAN_SKIP_REASON="neither crun nor runc can run podman's containers here"
	else
		return 0
	fi
	return 1
}

# crun refuses hybrid cgroups whose v2 hierarchy has controllers enabled
# ("cgroups in hybrid mode not supported"); runc runs there.
_podman_pick_runtime() {
	local u=/sys/fs/cgroup/unified/cgroup.controllers
	if command -v crun >/dev/null && [ -z "$(cat "$u" 2>/dev/null)" ]; then
		PODMAN_RUNTIME=crun
	elif command -v runc >/dev/null; then
		PODMAN_RUNTIME=runc
	else
		return 1
	fi
}

pm() {
	timeout 120 podman --root "$PODMAN_ROOT" --runroot "$PODMAN_RUNROOT" \
		--tmpdir "$PODMAN_DIR/tmp" --cgroup-manager=cgroupfs --events-backend=file \
		--runtime "$PODMAN_RUNTIME" --runtime-flag "root=$PODMAN_RUNTIME_ROOT" "$@"
}

podman_setup() {
	local rootfs=$PODMAN_DIR/rootfs applet
	mkdir -p "$PODMAN_ROOT" "$PODMAN_RUNROOT" "$PODMAN_DIR/tmp" "$PODMAN_RUNTIME_ROOT" \
		"$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" || return 1
	# The sandbox's hard limits may be below podman's defaults for root,
	# which only CAP_SYS_RESOURCE could raise to.
	cat >"$PODMAN_DIR/containers.conf" <<-EOF
	[containers]
	netns = "none"
	default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
	[engine]
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	runtime = "$PODMAN_RUNTIME"
	EOF
	cat >"$PODMAN_DIR/storage.conf" <<-EOF
	[storage]
	driver = "overlay"
	graphroot = "$PODMAN_ROOT"
	runroot = "$PODMAN_RUNROOT"
	EOF
	echo 'unqualified-search-registries = []' >"$PODMAN_DIR/registries.conf"
	export CONTAINERS_CONF=$PODMAN_DIR/containers.conf
	export CONTAINERS_STORAGE_CONF=$PODMAN_DIR/storage.conf
	export CONTAINERS_REGISTRIES_CONF=$PODMAN_DIR/registries.conf
	cp /bin/busybox "$rootfs/bin/busybox" || return 1
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
	done
	echo "root:x:0:0:root:/:/bin/sh" >"$rootfs/etc/passwd"
	tar -C "$rootfs" -cf "$PODMAN_DIR/rootfs.tar" . &&
		pm import --quiet "$PODMAN_DIR/rootfs.tar" "$PODMAN_IMAGE" >/dev/null
}

# The cgroups of this podman's containers and pods, in every hierarchy,
# deepest first: podman's cleanup asks the runtime without its --root,
# which then leaves a container's cgroup behind.
_podman_cgroups() {
	local id h
	for id in "$@"; do
		for h in /sys/fs/cgroup /sys/fs/cgroup/*; do
			[ -d "$h/libpod_parent" ] || continue
			find "$h/libpod_parent" -depth -type d -name "*$id*" 2>/dev/null
		done
	done | awk '{ print length, $0 }' | sort -rn | cut -d' ' -f2- | uniq
}

podman_cleanup() {
	local ids pid dir m h i
	[ -d "$PODMAN_DIR" ] && [ -n "$PODMAN_RUNTIME" ] || return 0
	ids=$(pm ps -a --no-trunc --format '{{.ID}}' 2>/dev/null; pm pod ps --no-trunc -q 2>/dev/null)
	pm pod rm -af -t 0 >/dev/null 2>&1
	pm rm -af -t 0 >/dev/null 2>&1
	# conmon outlives a podman that was killed: its pid files say which.
	for pid in $(cat "$PODMAN_RUNROOT"/*-containers/*/userdata/conmon.pid 2>/dev/null); do
		grep -qs -- "$PODMAN_ROOT" "/proc/$pid/cmdline" && kill -KILL "$pid" 2>/dev/null
	done
	for dir in $(_podman_cgroups $ids); do
		[ -e "$dir/cgroup.kill" ] && echo 1 >"$dir/cgroup.kill" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			rmdir "$dir" 2>/dev/null || [ ! -d "$dir" ] && break
			sleep 0.1
		done
	done
	# conmon's own cgroup, then the parent, when nothing else is left there.
	for h in /sys/fs/cgroup /sys/fs/cgroup/*; do
		rmdir "$h/libpod_parent/conmon" "$h/libpod_parent" 2>/dev/null
	done
	# Deepest first: overlay merged dirs, the containers' shm.
	for m in $(awk -v d="$PODMAN_DIR/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null
	done
}
