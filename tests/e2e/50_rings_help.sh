#!/bin/bash
# `captrail --help capabilities` (and `help capabilities`): one row per
# capability 0..cap_last_cap with captrail's five sets and its ring.
# The table is printed before captrail lowers anything, so it shows the sets
# captrail was started with. The reference is a sibling started the same
# way: `grep Cap /proc/self/status` behind the same prefix gets the sets the
# kernel gives any plain program exec'd in that setting.
. "$(dirname "$0")/lib.sh"
[ -x "$CAPTRAIL" ] || fail "no captrail binary at $CAPTRAIL"
[ "$(id -u)" -eq 0 ] || skip "needs root (sets up capability sets with setpriv)"
last=$(cat /proc/sys/kernel/cap_last_cap)

declare -A NAME BND PRM EFF INH AMB RING

# table PREFIX... -- ARGS...: captrail ARGS behind PREFIX into the arrays.
table() {
	local prefix=() nr name b p e i a ring
	while [ "$1" != -- ]; do prefix+=("$1"); shift; done
	shift
	"${prefix[@]}" "$CAPTRAIL" "$@" >"$WORK/table" 2>"$WORK/err" ||
		fail "captrail $*: exit $?: $(cat "$WORK/err")"
	grep -qx "cap_last_cap: $last" "$WORK/table" ||
		fail "no 'cap_last_cap: $last' header: $(head -n 3 "$WORK/table")"
	[ "$(grep -cE '^[0-9]+ ' "$WORK/table")" -eq $((last + 1)) ] ||
		fail "want $((last + 1)) rows: $(cat "$WORK/table")"
	NAME=() BND=() PRM=() EFF=() INH=() AMB=() RING=()
	while read -r nr name b p e i a ring; do
		[[ $nr =~ ^[0-9]+$ ]] || continue
		NAME[$nr]=$name BND[$nr]=$b PRM[$nr]=$p EFF[$nr]=$e INH[$nr]=$i AMB[$nr]=$a
		RING[$nr]=$ring
	done <"$WORK/table"
	for ((nr = 0; nr <= last; nr++))
	do
		[ -n "${RING[$nr]:-}" ] || fail "row $nr missing or short: $(cat "$WORK/table")"
	done
}

# compare PREFIX...: the table behind PREFIX against a sibling's status.
compare() {
	local set mask nr want got
	"$@" grep '^Cap' /proc/self/status >"$WORK/status" || fail "$* grep: exit $?"
	table "$@" -- --help capabilities
	for set in Bnd Prm Eff Inh Amb; do
		mask=$((16#$(awk -v k="Cap$set:" '$1 == k { print $2 }' "$WORK/status")))
		for ((nr = 0; nr <= last; nr++)); do
			want=-
			(((mask >> nr) & 1)) && want=x
			case $set in
			Bnd) got=${BND[$nr]} ;; Prm) got=${PRM[$nr]} ;; Eff) got=${EFF[$nr]} ;;
			Inh) got=${INH[$nr]} ;; Amb) got=${AMB[$nr]} ;;
			esac
			[ "$got" = "$want" ] ||
				fail "$*: ${NAME[$nr]} ($nr) Cap$set column '$got', status says '$want'"
		done
	done
}

ring_is() {
	[ "${RING[$1]}" = "$2" ] || fail "$3: ${NAME[$1]} ($1) ring '${RING[$1]}', want '$2'"
}

# Root as it is (this machine's CapBnd lacks CAP_SYS_RESOURCE).
compare env
if [ "${NAME[0]}" != CAP_CHOWN ] || [ "${NAME[21]}" != CAP_SYS_ADMIN ] ||
	[ "${NAME[34]}" != CAP_SYSLOG ]; then
	fail "wrong names: ${NAME[0]} ${NAME[21]} ${NAME[34]}"
fi
cp "$WORK/table" "$WORK/table.help"
"$CAPTRAIL" help capabilities >"$WORK/table.alias" || fail "help capabilities: exit $?"
cmp -s "$WORK/table.help" "$WORK/table.alias" ||
	fail "'help capabilities' differs from '--help capabilities'"

# Root with a smaller bounding set and an inheritable set.
compare setpriv --bounding-set=-sys_module,-kill --inh-caps=+chown,+net_raw
# Another user with ambient capabilities: every column differs.
compare setpriv --reuid=65534 --regid=65534 --clear-groups --bounding-set=-sys_module \
	--inh-caps=+chown,+net_raw,+kill --ambient-caps=+chown,+net_raw

# Rings: ebpf for loading BPF, specific for reading /proc and kallsyms and
# for signalling a recorded command that runs as another user (CAP_KILL).
table env -- --help capabilities
if [ "$last" -ge 39 ]; then
	ring_is 39 ebpf default; ring_is 38 ebpf default; ring_is 21 - default
else
	ring_is 21 ebpf default
fi
for nr in 2 5 19 34; do ring_is $nr specific default; done
for nr in 0 16; do ring_is $nr - default; done

table env CAPABILITIES_ADD=cap_chown -- --help capabilities
ring_is 0 base CAPABILITIES_ADD
grep -qx "base ring: CAP_CHOWN" "$WORK/table" ||
	fail "no base ring header: $(head -n 3 "$WORK/table")"
table env CAPABILITIES_ADD=cap_chown -- help capabilities --capabilities add=KILL
ring_is 5 base "flag over CAPABILITIES_ADD"; ring_is 0 - "flag over CAPABILITIES_ADD"
table env -- --help capabilities --capabilities add=chown,cap_kill --capabilities drop=kill
ring_is 0 base "add and drop"; ring_is 5 specific "add and drop"
table env CAPABILITIES_DROP=chown -- --help capabilities --capabilities add=chown
ring_is 0 - "CAPABILITIES_DROP with a flag add"

# Bypass: every permitted capability stays effective.
for how in "env -- --help capabilities --capabilities bypass=true" \
	"env CAPABILITIES_BYPASS=1 -- --help capabilities"; do
	# shellcheck disable=SC2086
	table $how
	for ((nr = 0; nr <= last; nr++)); do
		if [ "${PRM[$nr]}" = x ]; then ring_is $nr full "$how"; else ring_is $nr - "$how"; fi
	done
done
table env CAPABILITIES_BYPASS=1 -- --help capabilities --capabilities bypass=false
ring_is 34 specific "bypass=false over CAPABILITIES_BYPASS=1"
exit 0
