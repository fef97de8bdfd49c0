#!/bin/bash
# record remembers, per CPU, whether the task that checked last is recorded.
# That verdict must not outlive the task's cgroup: a recorded process that
# moves out stops counting (this part fails without the migration hook).
# Nor the task: a new process may get a reaped one's task_struct. The second
# part churns short-lived processes on both sides of the recording, on the
# CPU the verdict lives on, and wants exact counts; it cannot force a reuse
# to land right after a check of the old task, so it passes without the
# new-task hook too, and the hook's case rests on the code's argument.
. "$(dirname "$0")/lib.sh"
need_root
churn=$CAPTRAIL_BUILD/tests/helpers/cap_churn

cg2=$(findmnt -n -t cgroup2 -o TARGET | head -n 1)
[ -n "$cg2" ] || skip "no cgroup v2 mount: record follows forks instead"

# count JSON SYSCALL: CAP_SYS_ADMIN checks the profile counts for SYSCALL.
count() { record_count "$1" CAP_SYS_ADMIN "$2"; }

# A recorded process moves itself out between two loops.
outside="$cg2/captrail-e2e-outside-$$"
mkdir "$outside" || fail "cannot create $outside"
cleanup_hooks+=("rmdir '$outside' 2>/dev/null")
n=2000
record_json "$WORK/move.json" -- "$churn" move "$n" "$outside"
[ "$RECORD_RC" -eq 0 ] || fail "cap_churn move exited $RECORD_RC: $(cat "$WORK/record.err")"
in=$(count "$WORK/move.json" sethostname)
out=$(count "$WORK/move.json" setdomainname)
[ "$in" -le "$n" ] && [ "$in" -ge $((n - $(record_lost))) ] ||
	fail "$in checks counted before the move, want $n"
[ "$out" -eq 0 ] || fail "$out checks counted after the process left the recording's cgroup"

# Short-lived processes on both sides of the recording, on one CPU.
"$churn" forks 1000000 &
noise=$!
cleanup_hooks+=("kill $noise 2>/dev/null")
n=500
record_json "$WORK/forks.json" -- "$churn" forks "$n"
[ "$RECORD_RC" -eq 0 ] || fail "cap_churn forks exited $RECORD_RC: $(cat "$WORK/record.err")"
kill -0 "$noise" 2>/dev/null || fail "the unrecorded churn ended early; nothing was tested"
got=$(count "$WORK/forks.json" setdomainname)
[ "$got" -le "$n" ] || fail "$got checks counted, want $n: unrecorded processes were counted"
[ "$got" -ge $((n - $(record_lost))) ] || fail "$got checks counted, want $n ($(record_lost) reported lost)"
