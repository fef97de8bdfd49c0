#!/bin/bash
# While `captrail trace` runs it holds only what it needs: the effective set
# is Base (empty unless add=), the permitted and bounding sets no more than
# the capabilities some ring can raise, inheritable and ambient empty; and it
# still reports the reference dmesg event. bypass keeps everything.
. "$(dirname "$0")/lib.sh"
need_root

cap() { echo $((1 << $1)); }
CAP_SYSLOG=$(cap 34)
CAP_CHOWN=$(cap 0)

# status PID: the capability sets of PID into INH PRM EFF BND AMB (numbers).
status() {
	local key value text
	INH='' PRM='' EFF='' BND='' AMB=''
	text=$(cat "/proc/$1/status") || fail "captrail (pid $1) is gone: $(cat "$WORK/err")"
	while read -r key value; do
		case $key in
		CapInh:) INH=$((16#$value)) ;;
		CapPrm:) PRM=$((16#$value)) ;;
		CapEff:) EFF=$((16#$value)) ;;
		CapBnd:) BND=$((16#$value)) ;;
		CapAmb:) AMB=$((16#$value)) ;;
		esac
	done <<<"$text"
	for value in "$INH" "$PRM" "$EFF" "$BND" "$AMB"; do
		[ -n "$value" ] || fail "capability sets missing from /proc/$1/status: $text"
	done
}

# ringed: into RINGED, the capabilities some ring may raise, from the ring
# column of `captrail --help capabilities`.
ringed() {
	local nr rest rows=0
	"$CAPTRAIL" --help capabilities >"$WORK/table" || fail "--help capabilities: exit $?"
	RINGED=0
	while read -r nr _ rest; do
		[[ $nr =~ ^[0-9]+$ ]] || continue
		rows=$((rows + 1))
		[ "${rest##* }" = - ] || RINGED=$((RINGED | (1 << nr)))
	done <"$WORK/table"
	[ $rows -gt 0 ] || fail "no table from --help capabilities: $(head -n 3 "$WORK/table")"
}

# expect_lowered BASE ALLOWED: captrail's sets while it traces. A shared
# machine can catch it inside a Specific ring for an instant (describing
# someone's process), so each sample of the effective set must be Base plus
# only ringed capabilities, and it must come back to exactly Base.
expect_lowered() {
	local base=$1 allowed=$(($1 | $2)) i exact=0
	for ((i = 0; i < 10; i++)); do
		status "$TRACE_PID"
		((EFF & ~allowed)) && fail "CapEff $(printf %x "$EFF") beyond $(printf %x $allowed)"
		((EFF == base)) && exact=1
		sleep 0.1
	done
	[ $exact = 1 ] || fail "CapEff never exactly Base $(printf %x "$base") (last $(printf %x "$EFF"))"
	((PRM & ~allowed)) && fail "CapPrm $(printf %x "$PRM") beyond $(printf %x $allowed)"
	((BND & ~allowed)) && fail "CapBnd $(printf %x "$BND") beyond $(printf %x $allowed)"
	((INH == 0)) || fail "CapInh $(printf %x "$INH") not empty"
	((AMB == 0)) || fail "CapAmb $(printf %x "$AMB") not empty"
}

# Default: Base is empty; the reference event still arrives.
ringed
allowed=$RINGED
(((allowed & CAP_CHOWN) == 0)) || fail "CAP_CHOWN is ringed by default"
start_trace --comm dmesg
expect_lowered 0 "$allowed"
run_dmesg_as_nobody
wait_event 'denied +CAP_SYSLOG'
stop_trace
[ "$TRACE_RC" -eq 0 ] || fail "trace exited $TRACE_RC"

# add= puts CAP_SYSLOG into Base, by flag or by variable; a flag replaces
# the variable; drop= takes a capability out of Base again.
start_trace --comm ct-e2e-none --capabilities add=cap_syslog
expect_lowered "$CAP_SYSLOG" "$allowed"
stop_trace
CAPABILITIES_ADD=cap_syslog start_trace --comm ct-e2e-none
expect_lowered "$CAP_SYSLOG" "$allowed"
stop_trace
CAPABILITIES_ADD=cap_chown start_trace --comm ct-e2e-none --capabilities add=SYSLOG
expect_lowered "$CAP_SYSLOG" "$allowed"
stop_trace
CAPABILITIES_ADD=cap_chown start_trace --comm ct-e2e-none --capabilities drop=chown
expect_lowered 0 "$allowed"
stop_trace
CAPABILITIES_BYPASS=1 start_trace --comm ct-e2e-none --capabilities bypass=false
expect_lowered 0 "$allowed"
stop_trace

# bypass: every capability captrail was given stays effective, nothing is
# dropped, and captrail says so.
status $$
given_prm=$PRM given_bnd=$BND
for how in flag env before; do
	case $how in
	flag) start_trace --comm ct-e2e-none --capabilities bypass=true ;;
	env) CAPABILITIES_BYPASS=1 start_trace --comm ct-e2e-none ;;
	before) TRACE_BEFORE=bypass=true start_trace --comm ct-e2e-none ;; # as tracee writes it
	esac
	status "$TRACE_PID"
	((EFF == given_prm)) || fail "$how bypass: CapEff lowered to $(printf %x "$EFF")"
	((PRM == given_prm)) || fail "$how bypass: CapPrm cut to $(printf %x "$PRM")"
	((BND == given_bnd)) || fail "$how bypass: CapBnd cut to $(printf %x "$BND")"
	grep -q bypass "$WORK/err" || fail "$how bypass: nothing said on stderr: $(cat "$WORK/err")"
	stop_trace
	[ "$TRACE_RC" -eq 0 ] || fail "$how bypass: trace exited $TRACE_RC"
done

# -v logs each ring change.
start_trace --comm ct-e2e-none -v
stop_trace
grep -qE 'rings: enter ebpf \((CAP_PERFMON,CAP_BPF|CAP_SYS_ADMIN)\) for ' "$WORK/err" ||
	fail "-v logged no ebpf ring: $(grep rings "$WORK/err")"
exit 0
