# containerd with its CRI plugin, for end-to-end tests (root); source it
# after lib.sh. Everything containerd keeps is under $WORK: its root, state,
# sockets, runc's state root, its images (built here from a static busybox
# and a static pause, no registry). Pods share the node's network (no CNI)
# and are placed under the cgroup a kubelet with the cgroupfs driver gives
# them (/kubepods/besteffort/pod<uid>).
#
#   ctd_available || skip "$CTD_SKIP_REASON"
#   ctd_start                    containerd up, CRI answering, pause and busybox imported
#   cri ARGS...                  tests/cri/cri_client.py against it (runp, create, start,
#                                status, podstatus, stop, rm, stopp, rmp, version)
#   ctd_runp NS NAME UID [ARGS]  a pod sandbox (cri runp ARGS); prints its id and keeps
#                                its config in $CTD_DIR/pod-<id> for ctd_create
#   ctd_create POD ARGS... -- CMD...   a container of that pod; prints its id
#   ctd_cleanup                  pods removed, containerd, its shims and their
#                                containers stopped, mounts and cgroups removed;
#                                lib.sh's exit hook runs it
#
# $CTD_STATE is containerd's state directory (io.containerd.runtime.v2.task/
# <ns>/<id>/ holds each task's bundle), $CTD_RUNC_ROOT runc's (<ns>/<id>/).
# containerd 1.6's shims put their sockets in /run/containerd/s/ whatever
# the state directory (a hash of the address: never another daemon's);
# they remove them when they exit.
set -u
CTD_DIR=${WORK:?source lib.sh first}/containerd
CTD_SOCK=$CTD_DIR/containerd.sock
CTD_STATE=$CTD_DIR/state
CTD_ROOT=$CTD_DIR/root
CTD_RUNC_ROOT=$CTD_DIR/runc
CTD_NS=k8s.io
CTD_PAUSE_IMAGE=localhost/captrail/pause:e2e
CTD_BUSYBOX_IMAGE=localhost/captrail/busybox:e2e
CTD_PYTHON=/usr/bin/python3 # Debian's, whose python3-grpcio the client needs
CTD_SKIP_REASON=
CTD_PID=
CTD_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../cri" && pwd)
declare -p cleanup_hooks >/dev/null 2>&1 && cleanup_hooks+=(ctd_cleanup)

ctd_available() {
	local bin
	for bin in containerd ctr containerd-shim-runc-v2 runc protoc gcc jq sha256sum; do
		command -v "$bin" >/dev/null || {
			CTD_SKIP_REASON="$bin is not installed (scripts/install-deps.sh)"
			return 1
		}
	done
	if ! "$CTD_PYTHON" -c 'import grpc, google.protobuf' 2>/dev/null; then
		CTD_SKIP_REASON="no python3-grpcio/python3-protobuf for $CTD_PYTHON"
	elif [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
		CTD_SKIP_REASON="no static /bin/busybox (apt-get install busybox-static)"
	elif [ ! -e "$(gcc -print-file-name=libc.a)" ]; then
		CTD_SKIP_REASON="no libc.a for a static pause (apt-get install libc6-dev)"
	else
		return 0
	fi
	return 1
}

cri() {
	timeout 90 "$CTD_PYTHON" "$CTD_SRC/cri_client.py" --socket "$CTD_SOCK" \
		--pb2-dir "$CTD_DIR/pb2" "$@"
}

_ctd_ctr() { timeout 60 ctr -a "$CTD_SOCK" -n "$CTD_NS" "$@"; }

_ctd_config() {
	cat <<-TOML
	version = 2
	root = "$CTD_ROOT"
	state = "$CTD_STATE"
	# Snapshotters that need their own filesystem: not here.
	disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
		"io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]
	[grpc]
	  address = "$CTD_SOCK"
	[ttrpc]
	  address = "$CTD_SOCK.ttrpc"
	[plugins."io.containerd.internal.v1.opt"]
	  path = "$CTD_DIR/opt"
	[plugins."io.containerd.grpc.v1.cri"]
	  sandbox_image = "$CTD_PAUSE_IMAGE"
	  disable_tcp_service = true
	  # The kubelet asks -998 for a sandbox; a root without CAP_SYS_RESOURCE
	  # (a container here) may not lower its own: clamp to containerd's.
	  restrict_oom_score_adj = true
	  stream_server_address = "127.0.0.1"
	  stream_server_port = "0"
	  [plugins."io.containerd.grpc.v1.cri".cni]
	    bin_dir = "$CTD_DIR/cni/bin"
	    conf_dir = "$CTD_DIR/cni/conf"
	  [plugins."io.containerd.grpc.v1.cri".containerd]
	    snapshotter = "overlayfs"
	    default_runtime_name = "runc"
	    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
	      runtime_type = "io.containerd.runc.v2"
	      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
	        SystemdCgroup = false
	        Root = "$CTD_RUNC_ROOT"
	TOML
}

# _ctd_blob DIR FILE: moves FILE into DIR/blobs/sha256/ under its digest;
# prints "sha256:<hex> <size>".
_ctd_blob() {
	local sum size
	sum=$(sha256sum "$2" | cut -d' ' -f1) || return 1
	size=$(stat -c %s "$2")
	mv "$2" "$1/blobs/sha256/$sum" || return 1
	echo "sha256:$sum $size"
}

# ctd_image NAME ROOTFS TAR ENTRYPOINT...: an OCI image archive of one
# uncompressed layer (ROOTFS's files, owned by root), imported as NAME.
ctd_image() {
	local name=$1 rootfs=$2 tar=$3 dir layer config manifest arch
	shift 3
	dir=$(mktemp -d "$CTD_DIR/image.XXXXXX") || return 1
	mkdir -p "$dir/blobs/sha256"
	arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
	tar --owner=0 --group=0 --numeric-owner -C "$rootfs" -cf "$dir/layer.tar" . || return 1
	layer=$(_ctd_blob "$dir" "$dir/layer.tar") || return 1
	jq -n --arg arch "$arch" --arg diff "${layer% *}" '$ARGS.positional as $ep | {
		architecture: $arch, os: "linux",
		config: { Entrypoint: $ep, Env: ["PATH=/bin"], WorkingDir: "/" },
		rootfs: { type: "layers", diff_ids: [$diff] } }' --args "$@" >"$dir/config.json" ||
		return 1
	config=$(_ctd_blob "$dir" "$dir/config.json") || return 1
	jq -n --arg c "${config% *}" --argjson cs "${config#* }" \
		--arg l "${layer% *}" --argjson ls "${layer#* }" '{
		schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: { mediaType: "application/vnd.oci.image.config.v1+json",
			  digest: $c, size: $cs },
		layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar",
			   digest: $l, size: $ls }] }' >"$dir/manifest.json" || return 1
	manifest=$(_ctd_blob "$dir" "$dir/manifest.json") || return 1
	jq -n --arg m "${manifest% *}" --argjson ms "${manifest#* }" --arg name "$name" '{
		schemaVersion: 2,
		manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json",
			      digest: $m, size: $ms,
			      annotations: { "io.containerd.image.name": $name,
					     "org.opencontainers.image.ref.name": ($name | sub(".*:"; "")) } }]
		}' >"$dir/index.json" || return 1
	echo '{"imageLayoutVersion":"1.0.0"}' >"$dir/oci-layout"
	tar -C "$dir" -cf "$tar" oci-layout index.json blobs || return 1
	rm -rf "$dir"
	_ctd_ctr images import --snapshotter overlayfs "$tar" >/dev/null ||
		{ echo "ctd_image: ctr could not import $name" >&2; return 1; }
}

_ctd_images() {
	local r=$CTD_DIR/rootfs applet
	mkdir -p "$r/pause" "$r/busybox/bin" "$r/busybox/etc" "$r/busybox/tmp" || return 1
	gcc -static -O2 -o "$r/pause/pause" "$CTD_SRC/pause.c" || return 1
	ctd_image "$CTD_PAUSE_IMAGE" "$r/pause" "$CTD_DIR/pause.tar" /pause || return 1
	cp /bin/busybox "$r/busybox/bin/busybox" || return 1
	for applet in $(/bin/busybox --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$r/busybox/bin/$applet"
	done
	echo "root:x:0:0:root:/:/bin/sh" >"$r/busybox/etc/passwd"
	echo "root:x:0:" >"$r/busybox/etc/group"
	ctd_image "$CTD_BUSYBOX_IMAGE" "$r/busybox" "$CTD_DIR/busybox.tar" /bin/sh
}

# Notes the cgroup directories that do not exist yet along PARENT, in every
# hierarchy, for ctd_cleanup to remove (containerd's runc removes only the
# containers' own).
_ctd_note_cgroups() {
	local h rel part
	for h in /sys/fs/cgroup /sys/fs/cgroup/*; do
		[ -d "$h" ] && [ ! -L "$h" ] && [ -e "$h/cgroup.procs" ] || continue
		rel=
		for part in ${1//\// }; do
			rel=$rel/$part
			[ -d "$h$rel" ] || echo "$h$rel" >>"$CTD_DIR/cgroups"
		done
	done
}

ctd_start() {
	local i
	mkdir -p "$CTD_DIR/pb2" "$CTD_DIR/cni/bin" "$CTD_DIR/cni/conf" "$CTD_RUNC_ROOT" || return 1
	: >"$CTD_DIR/pods"
	protoc --python_out="$CTD_DIR/pb2" -I "$CTD_SRC" "$CTD_SRC/cri.proto" || return 1
	_ctd_config >"$CTD_DIR/config.toml"
	containerd --config "$CTD_DIR/config.toml" --log-level info \
		>"$CTD_DIR/containerd.log" 2>&1 &
	CTD_PID=$!
	for ((i = 0; i < 300; i++)); do
		kill -0 "$CTD_PID" 2>/dev/null || break
		cri version >/dev/null 2>&1 && break
		sleep 0.1
	done
	cri version >"$CTD_DIR/version" 2>&1 || {
		echo "ctd_start: containerd's CRI does not answer: $(cat "$CTD_DIR/version")" >&2
		tail -n 20 "$CTD_DIR/containerd.log" >&2
		return 1
	}
	_ctd_images
}

ctd_runp() {
	local ns=$1 name=$2 uid=$3 parent=/kubepods/besteffort/pod$3 cfg id
	shift 3
	_ctd_note_cgroups "$parent"
	cfg=$(mktemp "$CTD_DIR/podcfg.XXXXXX") || return 1
	id=$(cri runp --namespace "$ns" --name "$name" --uid "$uid" \
		--cgroup-parent "$parent" --save "$cfg" "$@") || return 1
	echo "$id" >>"$CTD_DIR/pods"
	mv "$cfg" "$CTD_DIR/pod-$id"
	echo "$id"
}

ctd_create() {
	local pod=$1
	shift
	cri create --pod "$pod" --pod-config "$CTD_DIR/pod-$pod" "$@"
}

_ctd_shims() {
	local p
	for p in /proc/[0-9]*; do
		{ tr '\0' '\n' <"$p/cmdline"; } 2>/dev/null | grep -qxF -- "$CTD_SOCK" &&
			echo "${p#/proc/}"
	done
}

ctd_cleanup() {
	local id dir pids i m
	[ -d "$CTD_DIR" ] || return 0
	if [ -n "$CTD_PID" ] && kill -0 "$CTD_PID" 2>/dev/null; then
		while read -r id; do
			[ -n "$id" ] || continue
			cri stopp "$id" >/dev/null 2>&1
			cri rmp "$id" >/dev/null 2>&1
		done <"$CTD_DIR/pods"
		kill -TERM "$CTD_PID"
		for ((i = 0; i < 100; i++)); do
			kill -0 "$CTD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$CTD_PID" 2>/dev/null
		wait "$CTD_PID" 2>/dev/null
	fi
	CTD_PID=
	# What a failed removal left: the containers, then their shims.
	for dir in "$CTD_RUNC_ROOT"/*; do
		[ -d "$dir" ] || continue
		for id in $(timeout 30 runc --root "$dir" list --quiet 2>/dev/null); do
			timeout 30 runc --root "$dir" delete --force "$id" >/dev/null 2>&1
		done
	done
	pids=$(_ctd_shims)
	[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
	# Rootfs and shm mounts under our directories, deepest first.
	for ((i = 0; i < 3; i++)); do
		m=$(awk -v d="$CTD_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo |
			sort -r)
		[ -n "$m" ] || break
		for dir in $m; do umount -l "$dir" 2>/dev/null; done
	done
	while read -r dir; do
		[ -n "$dir" ] && [ -d "$dir" ] || continue
		# A pod's cgroup: its containers' first (runc removed them unless
		# killed), then itself; a parent only when no other test uses it.
		if [[ $dir =~ /pod[0-9a-f-]{36}$ ]]; then
			find "$dir" -mindepth 1 -depth -type d -exec rmdir {} + 2>/dev/null
		fi
		rmdir "$dir" 2>/dev/null
	done < <(sort -u "$CTD_DIR/cgroups" 2>/dev/null | awk '{ print length, $0 }' |
		sort -rn | cut -d' ' -f2-)
	rm -rf "$CTD_DIR"
}
