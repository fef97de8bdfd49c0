#!/bin/bash
# A command that fails on a denial that mattered is told first and loudly,
# before the profile (which recommends nothing): which capability, syscall
# and binary, and the --grant that would give it. --verify refuses to call
# such a run ok, and --minimize does not run.
. "$(dirname "$0")/lib.sh"
need_root
dmesg=$(command -v dmesg) || skip "no dmesg"
[ "$(cat /proc/sys/kernel/dmesg_restrict 2>/dev/null)" = 1 ] ||
	skip "dmesg_restrict is 0: nobody may read the kernel log"

"$CAPTRAIL" record --user nobody --verify --minimize -- dmesg >"$WORK/out" 2>"$WORK/err"
rc=$?
grep -q "cannot load the BPF programs" "$WORK/err" && skip "BPF programs cannot load here"
[ "$rc" -eq 1 ] || fail "record --verify of a failed run exited $rc: $(cat "$WORK/err")"
grep -q "^captrail record: warning: the command failed (exit 1) on a denied capability: CAP_SYSLOG denied in syslog by $dmesg$" \
	"$WORK/err" || fail "no failure warning: $(cat "$WORK/err")"
grep -q "^captrail record: warning: --grant syslog would give it what was denied$" "$WORK/err" ||
	fail "no --grant advice: $(cat "$WORK/err")"
# First: before the summary line (and the profile on stdout).
first=$(grep -n "warning: the command failed" "$WORK/err" | head -n 1 | cut -d: -f1)
summary=$(grep -n "checks seen" "$WORK/err" | cut -d: -f1)
[ "$first" -lt "$summary" ] || fail "the warning comes after the summary: $(cat "$WORK/err")"
grep -q "^captrail record: verify: not meaningful: the recorded run failed on a denied capability$" \
	"$WORK/err" || fail "verify: $(cat "$WORK/err")"
grep -q "verify: ok" "$WORK/err" && fail "verify called the failed run ok"
grep -q "minimize: skipped: the recorded run failed on a denied capability" "$WORK/err" ||
	fail "minimize: $(cat "$WORK/err")"
grep -q "^recommended: no capabilities$" "$WORK/out" || fail "profile: $(cat "$WORK/out")"

# With the advised grant it works and verifies.
"$CAPTRAIL" record --user nobody --grant syslog --verify -- dmesg >/dev/null 2>"$WORK/err" ||
	fail "with --grant syslog: $(cat "$WORK/err")"
grep -q "warning: the command failed" "$WORK/err" && fail "warned about a run that worked"
exit 0
