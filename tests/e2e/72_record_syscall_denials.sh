#!/bin/bash
# Every denial of a syscall gets that syscall's outcome (issue 15, item 8).
# nobody opening a file inside a directory it may not search is denied
# CAP_DAC_READ_SEARCH, then CAP_DAC_OVERRIDE (generic_permission), in one
# openat that fails with EACCES: both denials mattered. kill(-1, 0) as
# nobody is denied CAP_KILL once per process it may not signal, in one
# kill that returns 0: every one of those checks gets "fallback".
. "$(dirname "$0")/lib.sh"
need_root
command -v perl >/dev/null || skip "no perl"

chmod 711 "$WORK"
mkdir "$WORK/locked" && chmod 700 "$WORK/locked"
echo secret >"$WORK/locked/f" && chmod 600 "$WORK/locked/f"

# outcomes JSON CAP SYSCALL: "outcome:count" of CAP's checks in SYSCALL.
outcomes() {
	jq -r "[.capabilities[] | select(.name == \"$2\") | .checks[]
		| select(.syscall == \"$3\") | \"\(.outcome):\(.count)\"] | sort | join(\" \")" "$1"
}

record_json "$WORK/open.json" --user nobody -- perl -e \
	'open(my $f, "<", $ARGV[0]) and exit 3; $!{EACCES} or die "open: $!\n"' "$WORK/locked/f"
[ "$RECORD_RC" -eq 0 ] || fail "the open was not refused with EACCES (exit $RECORD_RC): $(cat "$WORK/record.err")"
syscall=$(jq -r '[.capabilities[] | select(.name == "CAP_DAC_READ_SEARCH") | .checks[].syscall]
	| map(select(. == "openat" or . == "open")) | first // empty' "$WORK/open.json")
[ -n "$syscall" ] || fail "no CAP_DAC_READ_SEARCH check in open: $(jq -c .capabilities "$WORK/open.json")"
for cap in CAP_DAC_READ_SEARCH CAP_DAC_OVERRIDE; do
	got=$(outcomes "$WORK/open.json" $cap "$syscall")
	[[ "$got" =~ ^mattered:[0-9]+$ ]] || fail "$cap in $syscall: '$got', want every check 'mattered'"
done

# kill(-1, 0): no signal is sent, processes nobody may not signal are
# skipped, and the call succeeds.
record_json "$WORK/kill.json" --user nobody -- perl -e 'kill(0, -1) or die "kill: $!\n"'
[ "$RECORD_RC" -eq 0 ] || fail "kill(-1, 0) failed (exit $RECORD_RC): $(cat "$WORK/record.err")"
got=$(outcomes "$WORK/kill.json" CAP_KILL kill)
[[ "$got" =~ ^fallback:([0-9]+)$ ]] || fail "CAP_KILL in kill: '$got', want every check 'fallback'"
[ "${BASH_REMATCH[1]}" -gt 1 ] || note "only ${BASH_REMATCH[1]} process nobody may not signal"
jq -e '.denials[] | select(.capability == "CAP_KILL") | select(.unobserved == 0)' \
	"$WORK/kill.json" >/dev/null || fail "the denials summary leaves CAP_KILL checks unobserved"
exit 0
