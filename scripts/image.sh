#!/bin/bash
# Builds the captrail image from scratch with buildah: the binary at
# /usr/local/sbin/captrail (where deploy/daemonset.yaml runs it), exactly the
# shared libraries ldd resolves for it at the paths ldd names, and the few
# files the agent needs at run time. Nothing is pulled.
#
#   scripts/image.sh BINARY NAME
#
# BUILDAH_OPTS: global options for buildah (--root DIR --runroot DIR
# --storage-driver vfs), for a test that keeps its images apart.
set -eu

[ $# -eq 2 ] || { echo "usage: $0 BINARY NAME" >&2; exit 2; }
bin=$1 name=$2
src=$(cd "$(dirname "$0")/.." && pwd)
version=$(cat "$src/VERSION")
command -v buildah >/dev/null || { echo "image: no buildah (package buildah)" >&2; exit 1; }
[ -x "$bin" ] || { echo "image: no binary at $bin" >&2; exit 1; }
# shellcheck disable=SC2086 # BUILDAH_OPTS is a list of options
bh() { buildah ${BUILDAH_OPTS:-} "$@"; }

root=$(mktemp -d)
ctr=
cleanup() {
	if [ -n "$ctr" ]; then bh rm "$ctr" >/dev/null; fi
	rm -rf "$root"
}
trap cleanup EXIT

# Every library the loader maps (the interpreter is the line without "=>"),
# copied at the path the binary finds it by, with its mode (the
# interpreter is executable).
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || { echo "image: ldd found no libraries for $bin" >&2; exit 1; }
if ldd "$bin" | grep -q 'not found'; then
	echo "image: $bin needs libraries this host lacks:" >&2
	ldd "$bin" | grep 'not found' >&2
	exit 1
fi
for lib in $libs; do
	install -D -m "$(stat -L -c %a "$lib")" "$(realpath "$lib")" "$root$lib"
done
install -D -m 0755 "$bin" "$root/usr/local/sbin/captrail"

# Users for `record --user` and for naming uids; the agent runs as root.
mkdir -p "$root/etc"
printf '%s\n' 'root:x:0:0:root:/root:/usr/sbin/nologin' \
	'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
# The mount points of the DaemonSet, there under a read-only root too.
install -d -m 1777 "$root/tmp"
install -d -m 0700 "$root/var/lib/captrail" "$root/run/captrail"

ctr=$(bh from scratch)
bh copy "$ctr" "$root/" / >/dev/null
bh config --entrypoint '["/usr/local/sbin/captrail"]' --cmd agent \
	--label org.opencontainers.image.title=captrail \
	--label org.opencontainers.image.version="$version" \
	--label org.opencontainers.image.description="captrail capability recorder" \
	"$ctr"
bh commit --quiet "$ctr" "$name" >/dev/null
echo "image: built $name ($(echo "$libs" | wc -w) libraries)"
