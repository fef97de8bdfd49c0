#!/bin/bash
# What is seen but never recommended: dmesg as an unprivileged user is
# denied CAP_SYSLOG (denied-only, the denial mattered); reading
# /proc/kallsyms makes a noaudit CAP_SYSLOG check.
. "$(dirname "$0")/lib.sh"
need_root

record_json "$WORK/dmesg.json" --user nobody -- dmesg
[ "$RECORD_RC" -ne 0 ] || fail "dmesg as nobody succeeded?"
[ "$(profile_class "$WORK/dmesg.json" denied)" = "SYSLOG" ] ||
	fail "denied is '$(profile_class "$WORK/dmesg.json" denied)', want SYSLOG"
[ -z "$(profile_grant "$WORK/dmesg.json")" ] || fail "grant is '$(profile_grant "$WORK/dmesg.json")', want nothing"
jq -e '.denials[] | select(.capability == "CAP_SYSLOG" or .name == "CAP_SYSLOG")' \
	"$WORK/dmesg.json" >/dev/null || fail "no denial report for CAP_SYSLOG: $(jq -c .denials "$WORK/dmesg.json")"
jq -e '[.capabilities[] | select(.name == "CAP_SYSLOG") | .checks[]
	| select(.syscall == "syslog" and .outcome == "mattered")] | length > 0' \
	"$WORK/dmesg.json" >/dev/null || fail "the syslog denial is not reported as mattering"

record_json "$WORK/kallsyms.json" -- head -n 1 /proc/kallsyms
[ "$RECORD_RC" -eq 0 ] || fail "head /proc/kallsyms exited $RECORD_RC"
[[ " $(profile_class "$WORK/kallsyms.json" noaudit) " == *" SYSLOG "* ]] ||
	fail "kallsyms' CAP_SYSLOG check is not noaudit: $(jq -c .classes "$WORK/kallsyms.json")"
[[ " $(profile_grant "$WORK/kallsyms.json") " != *" SYSLOG "* ]] ||
	fail "the noaudit CAP_SYSLOG check was recommended"
