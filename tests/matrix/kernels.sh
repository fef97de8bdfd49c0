#!/bin/bash
# kernels.sh CACHE SERIES...: make sure CACHE/kernels/SERIES/vmlinuz exists
# for each kernel series (5.10, 6.1, 6.12, 6.18): Debian's newest
# linux-image-SERIES.*-cloud-amd64 of the series' suite, downloaded with
# apt-get download and unpacked with dpkg-deb -x, never installed.
#
# apt runs on a private configuration: a deb822 .sources file in CACHE naming
# bullseye, bookworm, trixie and trixie-backports on the mirror this machine already uses, its
# own lists, caches, status file and (empty) apt.conf.d, so /var/lib/apt,
# /var/cache/apt and the machine's apt hooks are left alone. A series already
# in the cache needs no network.
#
# Prints one line per series: "SERIES ok PACKAGE VERSION" or
# "SERIES error REASON"; exits 1 if any series failed.
set -eu

cache=${1:?usage: kernels.sh CACHE SERIES...}
shift
[ $# -gt 0 ] || { echo "usage: kernels.sh CACHE SERIES..." >&2; exit 2; }

suite_of() {
	case $1 in
	5.10) echo bullseye ;;
	6.1) echo bookworm ;;
	6.12) echo trixie ;;
	6.18) echo trixie-backports ;; # has the capability tracepoint (6.14+)
	*) return 1 ;;
	esac
}

# The machine's Debian mirror: the first URI of an enabled "deb" source for
# the machine's own suite (deb822 files first, then the one-line format).
machine_mirror() {
	local codename files
	codename=$(sed -n 's/^VERSION_CODENAME=//p' /etc/os-release | tr -d '"')
	files=$(find /etc/apt/sources.list.d -maxdepth 1 -name '*.sources' 2>/dev/null | sort)
	if [ -n "$files" ]; then
		# shellcheck disable=SC2086 # one word per file name
		awk -v suite="$codename" '
			BEGIN { RS = ""; FS = "\n" }
			{
				types = ""; uris = ""; suites = ""; enabled = "yes"
				for (i = 1; i <= NF; i++) {
					line = $i
					if (line ~ /^#/ || line ~ /^[ \t]/) continue
					key = tolower(line); sub(/:.*/, "", key)
					val = line; sub(/^[^:]*:[ \t]*/, "", val)
					if (key == "types") types = val
					else if (key == "uris") uris = val
					else if (key == "suites") suites = val
					else if (key == "enabled") enabled = tolower(val)
				}
				if (enabled == "no" || (" " types " ") !~ / deb /) next
				if ((" " suites " ") !~ (" " suite " ")) next
				split(uris, u, /[ \t]+/)
				print u[1]; exit
			}' $files | head -n 1 | grep . && return 0
	fi
	if [ -r /etc/apt/sources.list ]; then
		awk -v suite="$codename" '
			$1 == "deb" {
				i = 2
				if ($2 ~ /^\[/) { while (i <= NF && $i !~ /\]$/) i++; i++ }
				if ($(i + 1) == suite) { print $i; exit }
			}' /etc/apt/sources.list | grep . && return 0
	fi
	return 1
}

# The keyrings that verify SUITES: Debian's archive keyring when it holds
# the suite's keys, otherwise the per-release keyrings Debian ships.
keyrings_for() {
	local main=/usr/share/keyrings/debian-archive-keyring.gpg
	local suite uids="" list=$main f
	if command -v gpg >/dev/null; then
		local home
		home=$(mktemp -d)
		uids=$(GNUPGHOME=$home gpg --batch --show-keys --with-colons "$main" 2>/dev/null |
			awk -F: '$1 == "uid" { print $10 }')
		rm -rf "$home"
	fi
	for suite in "$@"; do
		[ -z "$uids" ] && break # cannot tell: the archive keyring it is
		grep -q "/$suite)" <<<"$uids" && continue
		for f in /usr/share/keyrings/debian-archive-"$suite"-automatic.gpg \
			/usr/share/keyrings/debian-archive-"$suite"-stable.gpg; do
			[ -r "$f" ] && list="$list $f"
		done
	done
	echo "$list"
}

mkdir -p "$cache/kernels" "$cache/debs" "$cache/lists/partial" "$cache/apt/archives/partial" \
	"$cache/apt/state" "$cache/apt/conf.d"
touch "$cache/apt/status"

# Everything apt reads or writes points into the cache. APT_CONFIG is read
# before apt.conf.d, so it can swap apt.conf.d for an empty directory (the
# machine's update hooks, packagekit and appstream, stay out); the machine's
# Acquire settings (proxies, validity checks) are carried over.
write_apt_config() {
	{
		apt-config dump Acquire 2>/dev/null | grep -v -e '^Acquire::IndexTargets' -e '^Acquire::Languages' || true
		cat <<CONF
Dir::Etc::parts "$cache/apt/conf.d";
Dir::Etc::main "/dev/null";
Dir::Etc::preferences "/dev/null";
Dir::Etc::preferencesparts "/dev/null";
Dir::State "$cache/apt/state";
Dir::State::status "$cache/apt/status";
Dir::Log "$cache/apt/log";
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::Languages "none";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
CONF
	} >"$cache/apt/apt.conf"
}

APT_OPTS=(-o "Dir::Etc::sourcelist=$cache/captrail-matrix.sources"
	-o Dir::Etc::sourceparts=/dev/null
	-o "Dir::State::Lists=$cache/lists"
	-o "Dir::Cache=$cache/apt")
apt_() { APT_CONFIG="$cache/apt/apt.conf" "$@" "${APT_OPTS[@]}"; }

updated=no
update_lists() {
	[ "$updated" = yes ] && return 0
	local mirror keyrings suites=(bullseye bookworm trixie trixie-backports)
	mirror=${CAPTRAIL_MATRIX_MIRROR:-$(machine_mirror)} || {
		echo "cannot find this machine's Debian mirror in /etc/apt (set CAPTRAIL_MATRIX_MIRROR)"
		return 1
	}
	keyrings=$(keyrings_for "${suites[@]}")
	cat >"$cache/captrail-matrix.sources" <<SRC
# Written by tests/matrix/kernels.sh: the kernels of the captrail matrix.
Types: deb
URIs: $mirror
Suites: ${suites[*]}
Components: main
Architectures: amd64
Signed-By: $keyrings
SRC
	write_apt_config
	echo "kernels: apt-get update on $mirror (${suites[*]})" >&2
	apt_ apt-get update -qq >&2 || { echo "apt-get update failed"; return 1; }
	updated=yes
}

# The newest linux-image-SERIES.*-cloud-amd64 (signed image, not -dbg or
# -unsigned), by package name: the ABI number grows with each upload.
newest_image() {
	local series=$1 re
	re="^linux-image-${series//./\\.}\\.[^ ]*-cloud-amd64\$"
	apt_ apt-cache pkgnames linux-image- | grep -E "$re" | sort -V | tail -n 1
}

# fetch SERIES: into the cache, unless there already; says why not on stdout.
fetch() {
	local series=$1 dir=$cache/kernels/$1 pkg version tmp deb
	[ -s "$dir/vmlinuz" ] && [ -s "$dir/package" ] && return 0
	suite_of "$series" >/dev/null || { echo "unknown kernel series $series (know 5.10, 6.1, 6.12, 6.18)"; return 1; }
	update_lists || return 1
	pkg=$(newest_image "$series")
	[ -n "$pkg" ] || { echo "no linux-image-$series.*-cloud-amd64 in $(suite_of "$series")"; return 1; }
	version=$(apt_ apt-cache policy "$pkg" | awk '/Candidate:/ { print $2 }')
	rm -f "$cache/debs/${pkg}_"*.deb
	(cd "$cache/debs" && apt_ apt-get download -qq "$pkg" >&2) || { echo "apt-get download $pkg failed"; return 1; }
	deb=$(find "$cache/debs" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
	[ -n "$deb" ] || { echo "apt-get download $pkg left no .deb"; return 1; }
	tmp=$(mktemp -d "$cache/unpack.XXXXXX")
	if ! dpkg-deb -x "$deb" "$tmp"; then rm -rf "$tmp"; echo "dpkg-deb -x $deb failed"; return 1; fi
	mkdir -p "$dir"
	cp "$tmp"/boot/vmlinuz-* "$dir/vmlinuz.tmp" && mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
	cp "$tmp"/boot/config-* "$dir/config" 2>/dev/null || true
	rm -rf "$tmp" "$deb"
	echo "$pkg $version" >"$dir/package.tmp" && mv "$dir/package.tmp" "$dir/package"
}

# apt-get download drops privileges to _apt, which must be able to write.
id _apt >/dev/null 2>&1 && chown _apt "$cache/debs"

reason=$(mktemp)
trap 'rm -f "$reason"' EXIT
status=0
for series in "$@"; do
	if fetch "$series" >"$reason"; then
		echo "$series ok $(cat "$cache/kernels/$series/package")"
	else
		echo "$series error $(head -n 1 "$reason")"
		status=1
	fi
done
exit $status
