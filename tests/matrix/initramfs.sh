#!/bin/bash
# initramfs.sh OUT CAPTRAIL [--helper PATH]... [--case NAME]...
# Writes OUT, a gzipped newc cpio archive for the matrix guests:
#   /bin/busybox (busybox-static) and a symlink per applet,
#   /usr/bin/captrail and each helper, with every shared library ldd names
#   (the dynamic loader included) at its own path,
#   /init (guest/init), /matrix/lib.sh, /matrix/cases/*.sh (all, or the
#   --case ones).
set -eu -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: initramfs.sh OUT CAPTRAIL [--helper PATH]... [--case NAME]..." >&2; exit 2; }
[ $# -ge 2 ] || usage
out=$1 captrail=$2
shift 2
helpers=() cases=()
while [ $# -gt 0 ]; do
	case $1 in
	--helper) [ $# -ge 2 ] || usage; helpers+=("$2"); shift 2 ;;
	--case) [ $# -ge 2 ] || usage; cases+=("$2"); shift 2 ;;
	*) usage ;;
	esac
done

busybox=/bin/busybox
"$busybox" --list >/dev/null 2>&1 || { echo "initramfs: $busybox is not busybox (install busybox-static)" >&2; exit 1; }
ldd "$busybox" >/dev/null 2>&1 && { echo "initramfs: $busybox is not static (install busybox-static)" >&2; exit 1; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/captrail-initramfs.XXXXXX")
# mktemp makes it 0700: it is the guest's /, which every user must traverse.
chmod 0755 "$stage"
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,usr/bin,etc,proc,sys,dev,tmp,run,root,matrix/cases}

cp "$busybox" "$stage/bin/busybox"
while read -r applet; do
	[ "$applet" = busybox ] && continue
	ln -s busybox "$stage/bin/$applet"
done < <("$busybox" --list)

# copy_program PATH: into /usr/bin with the libraries it needs. ldd lines are
# "name => /path (addr)", "/path (addr)" (the loader) or "name (addr)" (vdso).
copy_program() {
	local prog=$1 lib libs
	[ -x "$prog" ] || { echo "initramfs: $prog is not an executable file" >&2; exit 1; }
	cp -L "$prog" "$stage/usr/bin/$(basename "$prog")"
	libs=$(ldd "$prog" 2>/dev/null || true)
	if grep -q 'not found' <<<"$libs"; then
		echo "initramfs: $prog needs libraries that are missing here:" >&2
		grep 'not found' <<<"$libs" >&2
		exit 1
	fi
	while read -r lib; do
		[ -e "$stage$lib" ] && continue
		mkdir -p "$stage$(dirname "$lib")"
		cp -L "$lib" "$stage$lib"
	done < <(awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$libs")
}
copy_program "$captrail"
[ "$(basename "$captrail")" = captrail ] || mv "$stage/usr/bin/$(basename "$captrail")" "$stage/usr/bin/captrail"
for helper in ${helpers[@]+"${helpers[@]}"}; do copy_program "$helper"; done

install -m 0755 "$here/guest/init" "$stage/init"
install -m 0644 "$here/guest/lib.sh" "$stage/matrix/lib.sh"
if [ ${#cases[@]} -eq 0 ]; then
	for f in "$here"/cases/*.sh; do cases+=("$(basename "$f" .sh)"); done
fi
for c in "${cases[@]}"; do
	[ -f "$here/cases/$c.sh" ] || { echo "initramfs: no case $c (tests/matrix/cases/$c.sh)" >&2; exit 1; }
	install -m 0755 "$here/cases/$c.sh" "$stage/matrix/cases/$c.sh"
done
# The kernel opens /dev/console for /init before devtmpfs is mounted.
mknod -m 0600 "$stage/dev/console" c 5 1 2>/dev/null || true

(cd "$stage" && find . | LC_ALL=C sort | "$busybox" cpio -o -H newc 2>/dev/null) | gzip -6 >"$out.tmp"
mv "$out.tmp" "$out"
