#!/bin/bash
# Builds the Debian package with dpkg-deb from a build directory's captrail
# and captrail.8: the binary in /usr/sbin (an administrator's daemon, man
# section 8), the man page, the bash completion, the systemd unit, and the
# agent's state directory /var/lib/captrail (0700, as the unit's
# StateDirectoryMode). Depends comes from dpkg-shlibdeps, so it names the
# packages of exactly the libraries the binary links.
#
#   scripts/deb.sh BUILD OUTDIR     -> OUTDIR/captrail_VERSION_ARCH.deb
set -eu
umask 022

[ $# -eq 2 ] || { echo "usage: $0 BUILD OUTDIR" >&2; exit 2; }
build=$1 out=$2
src=$(cd "$(dirname "$0")/.." && pwd)
version=$(cat "$src/VERSION")
for tool in dpkg-deb dpkg-shlibdeps; do
	command -v "$tool" >/dev/null ||
		{ echo "deb: no $tool (package dpkg-dev)" >&2; exit 1; }
done
for file in "$build/captrail" "$build/captrail.8"; do
	[ -e "$file" ] || { echo "deb: no $file (run make first)" >&2; exit 1; }
done
arch=$(dpkg --print-architecture)
mkdir -p "$out"
deb=$(realpath "$out")/captrail_${version}_$arch.deb

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# dpkg-shlibdeps reads debian/control and looks for the package's root (the
# directory holding DEBIAN) above the binary.
mkdir -p "$tmp/debian"
printf 'Source: captrail\n\nPackage: captrail\nArchitecture: any\n' >"$tmp/debian/control"
root=$tmp/debian/captrail
mkdir -p "$root/DEBIAN"

install -D -m 0755 -s "$build/captrail" "$root/usr/sbin/captrail"
mkdir -p "$root/usr/share/man/man8"
gzip -9n <"$build/captrail.8" >"$root/usr/share/man/man8/captrail.8.gz"
chmod 0644 "$root/usr/share/man/man8/captrail.8.gz"
install -D -m 0644 "$src/contrib/bash-completion/captrail" \
	"$root/usr/share/bash-completion/completions/captrail"
mkdir -p "$root/usr/lib/systemd/system"
sed 's|/usr/local/sbin/captrail|/usr/sbin/captrail|' "$src/deploy/captrail.service" \
	>"$root/usr/lib/systemd/system/captrail.service"
chmod 0644 "$root/usr/lib/systemd/system/captrail.service"
install -d -m 0700 "$root/var/lib/captrail"

depends=$(cd "$tmp" && dpkg-shlibdeps -O debian/captrail/usr/sbin/captrail |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

cat >"$root/DEBIAN/control" <<EOF
Package: captrail
Version: $version
Architecture: $arch
Maintainer: captrail maintainers <maintainers@users.noreply.r-seed-0f70efee.example>
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $depends
Section: admin
Priority: optional
Description: records the capabilities programs, containers and pods use
 captrail hooks the kernel's capability checks with eBPF and reports each
 with the process, container and pod that asked, the syscall and the
 verdict. It prints the smallest capability set a command, container or
 pod needs, for Kubernetes, docker, compose, systemd or OCI runtimes.
 .
 The captrail.service agent records every workload on the host into
 /var/lib/captrail; the package enables and starts it where systemd runs.
EOF

# Where systemd is not the running init (a chroot, an image build, a
# container), the scripts leave the unit installed and do nothing else.
# deb-systemd-invoke (init-system-helpers, essential) honours policy-rc.d.
cat >"$root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
	systemctl enable captrail.service >/dev/null 2>&1 || true
	deb-systemd-invoke restart captrail.service >/dev/null || true
fi
EOF
cat >"$root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	deb-systemd-invoke stop captrail.service >/dev/null || true
	systemctl disable captrail.service >/dev/null 2>&1 || true
fi
EOF
# The store is the package's data: kept on remove, deleted on purge.
cat >"$root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi
if [ "$1" = purge ]; then
	rm -rf /var/lib/captrail
fi
EOF
chmod 0755 "$root/DEBIAN/postinst" "$root/DEBIAN/prerm" "$root/DEBIAN/postrm"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\n' | LC_ALL=C sort |
	xargs md5sum) >"$root/DEBIAN/md5sums"

dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "deb: built $deb"
