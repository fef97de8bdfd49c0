#!/bin/bash
# record counts every check exactly: three processes alternate two syscalls
# on two CPUs, so the kernel's per-CPU slots change hands all the time and
# the last counts are folded in after detaching. Only checks the summary
# reports as lost may be missing.
. "$(dirname "$0")/lib.sh"
need_root

n=20000 procs=3
record_json "$WORK/loop.json" -- "$CAPTRAIL_BUILD/tests/helpers/cap_loop" "$n" "$procs"
[ "$RECORD_RC" -eq 0 ] || fail "cap_loop exited $RECORD_RC: $(cat "$WORK/record.err")"
lost=$(record_lost)
[ -n "$lost" ] || fail "no summary line: $(cat "$WORK/record.err")"
want=$((n * procs))
for syscall in sethostname setdomainname; do
	got=$(record_count "$WORK/loop.json" CAP_SYS_ADMIN "$syscall")
	[ "$got" -le "$want" ] && [ "$got" -ge $((want - lost)) ] ||
		fail "$syscall: $got checks counted, want $want ($lost reported lost)"
done
seen=$(sed -n 's/^captrail [a-z]*: \([0-9]*\) checks seen.*/\1/p' "$WORK/record.err")
[ "$seen" -ge $((2 * want)) ] || fail "summary says $seen checks seen, want at least $((2 * want))"

# The recording's cgroup is gone afterwards (its parent is r-x for root on
# systemd machines: removing it needs a ring of its own).
cg2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
if [ -n "$cg2" ]; then
	"$CAPTRAIL" record -o json -- true >/dev/null 2>&1 &
	rpid=$!
	wait $rpid || fail "record -- true exited $?"
	[ ! -e "$cg2/captrail-record-$rpid" ] || fail "record left its cgroup $cg2/captrail-record-$rpid"
fi
