#!/bin/bash
# Bad input: one clear line on stderr naming the bad value, exit 2.
. "$(dirname "$0")/lib.sh"
[ -x "$CAPTRAIL" ] || fail "no captrail binary at $CAPTRAIL"

expect_usage() {
	local want=$1; shift
	"$CAPTRAIL" "$@" >"$WORK/out" 2>"$WORK/err"
	local rc=$?
	[ "$rc" -eq 2 ] || fail "'$*' exited $rc, want 2"
	grep -qF -- "$want" "$WORK/err" || fail "'$*' said '$(cat "$WORK/err")', want '$want'"
	[ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "'$*' printed more than one line"
}

expect_usage "unknown capability 'cap_sysloog' (did you mean CAP_SYSLOG?)" trace --caps cap_sysloog
expect_usage "unknown capability 'nope'" trace --caps chown,nope
# An empty list, or an empty item, is no capability: never "every one".
expect_usage "--caps needs a list of capabilities" trace --caps ''
expect_usage "--caps needs a list of capabilities" trace --caps ,
expect_usage "--grant needs a list of capabilities" record --user nobody --grant '' -- true
expect_usage "invalid pid list '12x'" trace -p 12x
expect_usage "invalid pid list '1,,2'" trace --pid 1,,2
expect_usage "invalid uid 'bob'" trace --uid bob
expect_usage "exclude each other" trace --containers-only --host-only
expect_usage "unknown output format 'yaml'" trace -o yaml
expect_usage "invalid duration '-1'" trace -d -1
# Past a year (or past a double) is refused, not turned into "stop now".
expect_usage "invalid duration '99999999999999999999' (seconds, 0.001 to 31536000: a year)" \
	trace -d 99999999999999999999
expect_usage "invalid duration '31536001'" record -d 31536001 -- true
expect_usage "invalid flush interval '1e-9'" agent --flush-interval 1e-9
expect_usage "invalid rate '1e10'" agent --export-rate 1e10
expect_usage "unknown option '--frobnicate'" trace --frobnicate
expect_usage "unknown command 'tarce'" tarce
expect_usage "--capabilities applies to trace, record, run, agent" --capabilities bypass=true events
expect_usage "'--capabilities' needs a value" --capabilities
expect_usage "unknown capabilities key 'bypas'" --capabilities bypas=true trace
expect_usage "unknown hook 'bogus' (auto, tracepoint, fexit, kprobe)" trace --hook bogus
expect_usage "unknown hook ''" record --hook "" -- true
# What a message quotes cannot forge a line or drive the terminal.
expect_usage "bad regular expression '\\x1b]0;pwn\\x07\\nFAKE('" trace --pods $'\x1b]0;pwn\x07\nFAKE('
if LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$WORK/err"; then
	fail "control bytes in a usage error"
fi
