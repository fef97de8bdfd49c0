# Docker Engine for end-to-end tests (root): a dockerd of the test's own,
# with its image built here from the static /bin/busybox (no registry).
# Source it after lib.sh.
#
#   docker_available || skip "$DOCKER_SKIP_REASON"
#   docker_start           dockerd on $DOCKER_SOCK; returns once it answers
#   docker_image NAME      NAME (repository:tag) imported from a busybox rootfs
#   dk ARGS...             the docker client against that dockerd
#   docker_cleanup         removes every container, stops dockerd and what it
#                          started, removes its cgroups; lib.sh's exit hook runs it
#
# Everything it keeps is under $WORK/docker: the data root ($DOCKER_DATA:
# containers/<id>/config.v2.json), the exec root ($DOCKER_EXEC: runc's
# state in runtime-runc/moby/<id>/, the managed containerd's socket and
# state in containerd/), the socket, pidfile, trust key and log. No bridge,
# no iptables rules; storage driver vfs (plain copies, no mounts to undo);
# cgroupfs driver under $DOCKER_CGROUP_PARENT, whose last component
# "docker" is where Docker's default parent puts containers.
#
# Two paths are not dockerd's to choose: containerd 1.6 puts its shims'
# sockets in /run/containerd/s (named by a hash of its own socket's path,
# removed as each shim exits) and dockerd 20.10 its plugin directory in
# /run/docker. dockerd runs in the host's mount namespace all the same:
# runc's init may re-exec itself (its cloned binary) after it joined the
# container's cgroup, and captrail tells that start-up from the workload by
# its exec in the host's mount namespace (identity/images.h), which a
# namespace of dockerd's own would hide. docker_cleanup removes
# /run/docker/plugins if dockerd made it, and unmounts what Docker left
# under $WORK (network namespaces, the data root's bind).
set -u
DOCKER_DIR=${WORK:?source lib.sh first}/docker
DOCKER_DATA=$DOCKER_DIR/data
DOCKER_EXEC=$DOCKER_DIR/exec
DOCKER_SOCK=$DOCKER_DIR/docker.sock
DOCKER_CGROUP_TOP=/captrail-e2e-${WORK##*.}
DOCKER_CGROUP_PARENT=$DOCKER_CGROUP_TOP/docker
DOCKER_PID=
DOCKER_MADE_PLUGINS=
DOCKER_SKIP_REASON=
cleanup_hooks+=(docker_cleanup)

dk() { DOCKER_HOST=unix://$DOCKER_SOCK DOCKER_CONFIG=$DOCKER_DIR/client timeout 60 docker "$@"; }

docker_available() {
	if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
		DOCKER_SKIP_REASON="Docker Engine is not installed (apt-get install docker.io)"
	elif ! command -v containerd >/dev/null || ! command -v runc >/dev/null; then
		DOCKER_SKIP_REASON="containerd or runc is not installed (apt-get install docker.io)"
	elif ! command -v jq >/dev/null || ! command -v findmnt >/dev/null; then
		DOCKER_SKIP_REASON="jq or findmnt is not installed"
	elif [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
		DOCKER_SKIP_REASON="no static /bin/busybox (apt-get install busybox-static)"
	else
		return 0
	fi
	return 1
}

docker_start() {
	local opts=() i
	mkdir -p "$DOCKER_DIR" || return 1
	# The trust key dockerd 20.10 would write to /etc/docker/key.json.
	jq -n --arg key "$DOCKER_DIR/key.json" '{"deprecated-key-path": $key}' \
		>"$DOCKER_DIR/daemon.json" || return 1
	dockerd --help 2>&1 | grep -q -- --ip6tables && opts+=(--ip6tables=false)
	[ -e /run/docker/plugins ] || DOCKER_MADE_PLUGINS=1
	dockerd --config-file "$DOCKER_DIR/daemon.json" -H "unix://$DOCKER_SOCK" \
		--data-root "$DOCKER_DATA" --exec-root "$DOCKER_EXEC" \
		--pidfile "$DOCKER_DIR/docker.pid" --iptables=false "${opts[@]}" --bridge=none \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "$DOCKER_CGROUP_PARENT" \
		--storage-driver vfs >"$DOCKER_DIR/dockerd.log" 2>&1 &
	DOCKER_PID=$!
	for ((i = 0; i < 600; i++)); do
		dk version >/dev/null 2>&1 && return 0
		kill -0 "$DOCKER_PID" 2>/dev/null || break
		sleep 0.1
	done
	echo "dockerd did not start: $(tail -n 5 "$DOCKER_DIR/dockerd.log")" >&2
	return 1
}

docker_image() {
	local rootfs=$DOCKER_DIR/rootfs applet
	mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp" "$rootfs/proc" "$rootfs/dev" \
		"$rootfs/sys" || return 1
	cp /bin/busybox "$rootfs/bin/busybox" || return 1
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$rootfs/bin/$applet"
	done
	echo "root:x:0:0:root:/:/bin/sh" >"$rootfs/etc/passwd"
	tar -C "$rootfs" -cf "$DOCKER_DIR/rootfs.tar" . || return 1
	dk import "$DOCKER_DIR/rootfs.tar" "$1" >/dev/null
}

# The pids whose command line names our exec root: the managed containerd
# and the shims, should dockerd have died without stopping them.
_docker_leftovers() {
	local p
	for p in /proc/[0-9]*; do
		tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -qF -- "$DOCKER_EXEC/" && echo "${p#/proc/}"
	done
}

docker_cleanup() {
	local ids h d pid i
	[ -n "$DOCKER_PID" ] || return 0
	ids=$(dk ps -aq 2>/dev/null)
	[ -n "$ids" ] && dk rm -f $ids >/dev/null 2>&1
	kill -TERM "$DOCKER_PID" 2>/dev/null
	for ((i = 0; i < 300; i++)); do
		kill -0 "$DOCKER_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$DOCKER_PID" 2>/dev/null
	for pid in $(_docker_leftovers); do kill -KILL "$pid" 2>/dev/null; done
	findmnt -rn -o TARGET | grep -F -- "$DOCKER_DIR/" | sort -r | xargs -r umount -l 2>/dev/null
	[ -n "$DOCKER_MADE_PLUGINS" ] && rmdir /run/docker/plugins /run/docker 2>/dev/null
	for h in /sys/fs/cgroup /sys/fs/cgroup/*; do
		d=$h$DOCKER_CGROUP_TOP
		[ -d "$d" ] && [ ! -L "$h" ] || continue
		find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$d" ] || break
			sleep 0.1
		done
	done
	DOCKER_PID=
}
