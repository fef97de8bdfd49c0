#!/bin/bash
# The Debian package (scripts/deb.sh, as `make deb` builds it): its control
# data (version from VERSION, Depends that this host's libraries satisfy)
# and contents (binary, gzipped man page, completion, unit, a 0700 state
# directory, all root's); installed with dpkg into a private root (its own
# database: the host's is untouched), the binary runs (--version, hooks),
# the unit, man page and completion are where systemd, man and
# bash-completion look. The maintainer scripts do nothing where systemd is
# not running, and where it is (a private root that looks so, with
# systemctl and deb-systemd-invoke recording their calls) enable and start
# the unit on install and stop and disable it on removal; removal keeps the
# store, purge deletes it.
. "$(dirname "$0")/lib.sh"

SRC=${CAPTRAIL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD_DIR=${CAPTRAIL_BUILD:-$(dirname "$CAPTRAIL")}
need_root
for tool in dpkg-deb dpkg-shlibdeps; do
	command -v $tool >/dev/null || skip "no $tool (package dpkg-dev)"
done
# The private root's /bin/sh, for the maintainer scripts dpkg runs in it
[ -x /bin/busybox ] || skip "no /bin/busybox (package busybox-static)"

version=$(cat "$SRC/VERSION")
arch=$(dpkg --print-architecture)
deb=$WORK/out/captrail_${version}_$arch.deb

note "scripts/deb.sh $BUILD_DIR"
"$SRC/scripts/deb.sh" "$BUILD_DIR" "$WORK/out" || fail "scripts/deb.sh failed"
[ -f "$deb" ] || fail "no $deb"

note "dpkg-deb --info"
field() { dpkg-deb --field "$deb" "$1"; }
[ "$(field Package)" = captrail ] || fail "Package is '$(field Package)'"
[ "$(field Version)" = "$version" ] || fail "Version is '$(field Version)', VERSION says $version"
[ "$(field Architecture)" = "$arch" ] || fail "Architecture is '$(field Architecture)'"
depends=$(field Depends)
note "Depends: $depends"
for pkg in libc6 libbpf1 libsqlite3-0; do
	grep -qE "(^|, )$pkg( |,|$)" <<<"$depends" || fail "Depends lacks $pkg"
done
# Each dependency is one this host satisfies: the package installs where
# it was built.
while read -r pkg op ver; do
	have=$(dpkg-query -W -f '${Version}' "$pkg" 2>/dev/null) ||
		fail "$pkg is not installed here"
	[ -z "$op" ] || dpkg --compare-versions "$have" "$op" "$ver" ||
		fail "Depends: $pkg $op $ver, but this host has $have"
done < <(tr ',' '\n' <<<"$depends" | sed 's/[()]//g; s/^ *//')
dpkg-deb --info "$deb" | grep -qE '^ +[0-9]+ bytes, +[0-9]+ lines +\* +postinst' ||
	fail "no executable postinst"

note "dpkg-deb --contents"
dpkg-deb --contents "$deb" >"$WORK/contents"
awk '$2 != "root/root"' "$WORK/contents" | grep . && fail "files not owned by root"
for entry in '-rwxr-xr-x ./usr/sbin/captrail' \
	'-rw-r--r-- ./usr/share/man/man8/captrail.8.gz' \
	'-rw-r--r-- ./usr/share/bash-completion/completions/captrail' \
	'-rw-r--r-- ./usr/lib/systemd/system/captrail.service' \
	'drwx------ ./var/lib/captrail/'; do
	awk '{ print $1, $6 }' "$WORK/contents" | grep -qxF -- "$entry" ||
		fail "contents lack $entry"
done

# A root of its own: dpkg's database in it, and busybox as the shell the
# maintainer scripts run with once dpkg chroots into it. systemctl and
# deb-systemd-invoke are stubs that log their calls.
R=$WORK/root
mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/bin" "$R/usr/bin" "$R/dev"
mknod -m 666 "$R/dev/null" c 1 3 || fail "cannot make the private root's /dev/null"
: >"$R/var/lib/dpkg/status"
cp /bin/busybox "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
ln -s busybox "$R/bin/rm"
for stub in systemctl deb-systemd-invoke; do
	# shellcheck disable=SC2016 # the stub's own expansions
	printf '#!/bin/sh\necho "${0##*/} $*" >>/calls\n' >"$R/usr/bin/$stub"
	chmod 755 "$R/usr/bin/$stub"
done
: >"$R/calls"
# The private database has none of the libraries; the host has them (above).
dpkg_r() { dpkg --root="$R" --force-depends "$@" >>"$WORK/dpkg.log" 2>&1; }

note "dpkg --root: install where systemd is not running"
dpkg_r -i "$deb" || fail "dpkg -i failed: $(cat "$WORK/dpkg.log")"
[ "$(dpkg-query --admindir="$R/var/lib/dpkg" -W -f '${Status}' captrail)" = \
	"install ok installed" ] || fail "captrail is not installed in the private root"
[ -s "$R/calls" ] && fail "the scripts called systemd without systemd: $(cat "$R/calls")"
[ "$(stat -c '%a %U' "$R/var/lib/captrail")" = "700 root" ] ||
	fail "/var/lib/captrail is $(stat -c '%a %U' "$R/var/lib/captrail")"

note "the installed binary"
out=$("$R/usr/sbin/captrail" --version) || fail "captrail --version failed"
[ "$out" = "captrail $version" ] || fail "--version says '$out'"
[ "$("$R/usr/sbin/captrail" version)" = "captrail $version" ] || fail "version disagrees"
"$R/usr/sbin/captrail" version extra 2>/dev/null
[ $? -eq 2 ] || fail "version with an argument is not a usage error"
"$R/usr/sbin/captrail" hooks >"$WORK/hooks" 2>&1 ||
	fail "captrail hooks failed: $(cat "$WORK/hooks")"
note "$(tr '\n' ';' <"$WORK/hooks")"
for hook in tracepoint fexit kprobe; do
	grep -qE "^$hook +(available|unavailable)" "$WORK/hooks" ||
		fail "hooks says nothing of $hook"
done

note "unit, man page, completion where they belong"
unit=$R/usr/lib/systemd/system/captrail.service
[ -f "$unit" ] || fail "no unit in /usr/lib/systemd/system"
diff <(sed 's|/usr/local/sbin/captrail|/usr/sbin/captrail|' "$SRC/deploy/captrail.service") \
	"$unit" || fail "the installed unit is not deploy/captrail.service for /usr/sbin"
grep -qx 'ExecStart=/usr/sbin/captrail agent' "$unit" || fail "ExecStart is not /usr/sbin/captrail"
header=$(gzip -dc "$R/usr/share/man/man8/captrail.8.gz" | head -n 1)
grep -qF "\"captrail $version\"" <<<"$header" ||
	fail "the man page's header does not name captrail $version: $header"
[ "$(MANPATH=$R/usr/share/man man -w captrail)" = "$R/usr/share/man/man8/captrail.8.gz" ] ||
	fail "man does not find captrail(8) in the installed tree"
if command -v systemd-analyze >/dev/null; then
	sed "s|^ExecStart=/usr/sbin/captrail|ExecStart=$R/usr/sbin/captrail|" "$unit" \
		>"$WORK/captrail.service"
	MANPATH=$R/usr/share/man systemd-analyze verify "$WORK/captrail.service" \
		>"$WORK/verify" 2>&1 ||
		fail "systemd-analyze verify: $(cat "$WORK/verify")"
fi
completion=$R/usr/share/bash-completion/completions/captrail
[ -f "$completion" ] || fail "no completion in /usr/share/bash-completion/completions"
complete_words() {
	PATH=$R/usr/sbin:$PATH bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		_captrail captrail
		echo "${COMPREPLY[*]}"' _ "$completion" "$@"
}
commands=$("$R/usr/sbin/captrail" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]*\) .*/\1/p')
[ "$(complete_words captrail '')" = "$(tr '\n' ' ' <<<"$commands")help --help --version" ] ||
	fail "captrail <TAB> is '$(complete_words captrail '')', not the commands of --help"
[ "$(complete_words captrail vers)" = version ] || fail "'captrail vers' is not version"
for cmd in $commands; do
	offered=" $(complete_words captrail "$cmd" --) "
	for opt in $("$R/usr/sbin/captrail" "$cmd" --help 2>/dev/null |
		grep -oE '^ +(-[a-z], )?--[a-z-]+' | sed 's/.* //'); do
		[[ $offered == *" $opt "* ]] || fail "captrail $cmd -- <TAB> lacks $opt: $offered"
	done
done

note "dpkg --remove keeps the store"
echo store >"$R/var/lib/captrail/captrail.db"
dpkg_r --remove captrail || fail "dpkg --remove failed: $(cat "$WORK/dpkg.log")"
[ -e "$R/usr/sbin/captrail" ] && fail "the binary is left after removal"
[ -f "$R/var/lib/captrail/captrail.db" ] || fail "removal deleted the store"
[ -s "$R/calls" ] && fail "the scripts called systemd without systemd: $(cat "$R/calls")"

note "where systemd runs: enabled and started, then stopped, disabled; purge deletes the store"
mkdir -p "$R/run/systemd/system"
dpkg_r -i "$deb" || fail "dpkg -i failed: $(cat "$WORK/dpkg.log")"
grep -qx 'systemctl enable captrail.service' "$R/calls" || fail "not enabled: $(cat "$R/calls")"
grep -qx 'deb-systemd-invoke restart captrail.service' "$R/calls" ||
	fail "not started: $(cat "$R/calls")"
: >"$R/calls"
dpkg_r --purge captrail || fail "dpkg --purge failed: $(cat "$WORK/dpkg.log")"
grep -qx 'deb-systemd-invoke stop captrail.service' "$R/calls" ||
	fail "not stopped: $(cat "$R/calls")"
grep -qx 'systemctl disable captrail.service' "$R/calls" || fail "not disabled: $(cat "$R/calls")"
[ -e "$R/var/lib/captrail" ] && fail "purge left /var/lib/captrail"
note "ok"
