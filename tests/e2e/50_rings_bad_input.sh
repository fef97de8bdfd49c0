#!/bin/bash
# Bad --capabilities values and CAPABILITIES_* variables: one line on
# stderr naming the bad key or value, exit 2, nothing traced.
. "$(dirname "$0")/lib.sh"
[ -x "$CAPTRAIL" ] || fail "no captrail binary at $CAPTRAIL"

# expect_usage WANT [VAR=VALUE...] ARGS...
expect_usage() {
	local want=$1 vars=() rc
	shift
	while [[ $1 == CAPABILITIES_*=* ]]; do vars+=("$1"); shift; done
	env "${vars[@]}" "$CAPTRAIL" "$@" >"$WORK/out" 2>"$WORK/err"
	rc=$?
	[ "$rc" -eq 2 ] || fail "'${vars[*]} $*' exited $rc, want 2: $(cat "$WORK/err")"
	grep -qF -- "$want" "$WORK/err" || fail "'${vars[*]} $*' said '$(cat "$WORK/err")', want '$want'"
	[ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "'${vars[*]} $*' printed more than one line"
}

for cmd in "trace --comm ct-e2e-none -d 5" "--help capabilities"; do
	# shellcheck disable=SC2086
	set -- $cmd
	expect_usage "unknown capability 'cap_sysloog' in add= (did you mean CAP_SYSLOG?)" \
		"$@" --capabilities add=cap_sysloog
	expect_usage "unknown capability 'net_bind' in drop= (did you mean CAP_NET_BIND_SERVICE?)" \
		"$@" --capabilities drop=chown,net_bind
	expect_usage "empty capability name in add='chown,'" "$@" --capabilities add=chown,
	expect_usage "malformed capabilities option 'bypass'" "$@" --capabilities bypass
	expect_usage "malformed capabilities option '=1'" "$@" --capabilities =1
	expect_usage "unknown capabilities key 'frob' (want bypass, add or drop)" \
		"$@" --capabilities frob=1
	expect_usage "invalid bypass value 'maybe' (want true or false)" \
		"$@" --capabilities bypass=maybe
	expect_usage "invalid CAPABILITIES_BYPASS 'maybe' (want 0 or 1)" \
		CAPABILITIES_BYPASS=maybe "$@"
	expect_usage "unknown capability 'sysloog' in CAPABILITIES_ADD (did you mean CAP_SYSLOG?)" \
		CAPABILITIES_ADD=chown,sysloog "$@"
	expect_usage "unknown capability 'x' in CAPABILITIES_DROP" CAPABILITIES_DROP=x "$@"
	expect_usage "needs a value" "$@" --capabilities
done
exit 0
