#!/bin/bash
# record -o json fills last_ns (issue 15, item 6): every check and every
# capability has 0 < first_ns <= last_ns, and a key checked again later on
# another CPU has last_ns > first_ns (its time is read when it takes that
# CPU's slot). Without --user, the profile names the user root.
. "$(dirname "$0")/lib.sh"
need_root
command -v perl >/dev/null || skip "no perl"
command -v taskset >/dev/null || skip "no taskset"
[ "$(nproc)" -ge 2 ] || skip "one CPU: the check cannot be moved to another"

mkfifo "$WORK/go"
echo hi >"$WORK/f"
# CAP_CHOWN twice from one chown syscall site: root chowning its file to
# uid 1, then the now foreign file again; between the two the test moves
# the process from CPU 0 to CPU 1.
cat >"$WORK/twice.pl" <<'PERL'
my ($file, $go, $pidfile) = @ARGV;
chown(1, -1, $file) or die "chown: $!\n";
open(my $p, ">", $pidfile) or die; print $p "$$\n"; close($p);
open(my $g, "<", $go) or die "fifo: $!\n"; <$g>; close($g);
chown(1, -1, $file) or die "chown: $!\n";
PERL
"$CAPTRAIL" record -o json --output "$WORK/p.json" -- \
	taskset -c 0 perl "$WORK/twice.pl" "$WORK/f" "$WORK/go" "$WORK/pid" 2>"$WORK/record.err" &
rec=$!
# Whatever fails, the script is let go (it waits on the fifo) and ends.
release() {
	kill -0 $rec 2>/dev/null || return 0
	timeout 5 sh -c 'echo go >"$1"' _ "$WORK/go" 2>/dev/null
	wait $rec
}
cleanup_hooks+=(release)
for ((i = 0; i < 600; i++)); do
	[ -s "$WORK/pid" ] && break
	kill -0 $rec 2>/dev/null || break
	sleep 0.1
done
[ -s "$WORK/pid" ] || { grep -q "cannot load the BPF programs" "$WORK/record.err" &&
	skip "BPF programs cannot load here"; fail "the recorded script did not start: $(cat "$WORK/record.err")"; }
taskset -a -p -c 1 "$(cat "$WORK/pid")" >/dev/null || fail "cannot move the process to CPU 1"
echo go >"$WORK/go"
wait $rec || fail "record exited $?: $(cat "$WORK/record.err")"
jq -e . "$WORK/p.json" >/dev/null || fail "record wrote invalid JSON"

jq -e '[.capabilities[].checks[] | .first_ns > 0 and .last_ns >= .first_ns] | all' \
	"$WORK/p.json" >/dev/null || fail "a check has no times, or last_ns < first_ns:
$(jq -c '[.capabilities[].checks[] | {syscall, first_ns, last_ns}]' "$WORK/p.json")"
jq -e '[.capabilities[] | .first_ns > 0 and .last_ns >= .first_ns] | all' \
	"$WORK/p.json" >/dev/null || fail "a capability has no times, or last_ns < first_ns"
jq -e '.capabilities[] | select(.name == "CAP_CHOWN") | .checks[]
	| select(.binary | test("perl")) | select(.count == 2 and .last_ns > .first_ns)' \
	"$WORK/p.json" >/dev/null || fail "the second chown did not move last_ns:
$(jq -c '.capabilities[] | select(.name == "CAP_CHOWN")' "$WORK/p.json")"

[ "$(jq -c .user "$WORK/p.json")" = '{"uid":0,"name":"root"}' ] ||
	fail "user is $(jq -c .user "$WORK/p.json"), want uid 0 named root"
"$CAPTRAIL" record -- true 2>/dev/null | grep -qx 'user       root (uid 0)' ||
	fail "the text profile does not name root"
exit 0
