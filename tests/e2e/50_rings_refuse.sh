#!/bin/bash
# Failing to drop is a hard error: under a seccomp filter that refuses
# capset(2) or prctl(PR_CAPBSET_DROP), captrail exits 1 before tracing with
# one line naming what it could not drop, why, and the way out; with bypass
# the same situation runs.
. "$(dirname "$0")/lib.sh"
need_root
SECCOMP_EXEC=${CAPTRAIL_BUILD:-$(dirname "$CAPTRAIL")}/tests/helpers/seccomp_exec
[ -x "$SECCOMP_EXEC" ] || fail "no helper at $SECCOMP_EXEC (make builds it)"

# -d bounds a captrail that wrongly runs: it would then exit 0, and fail here.
for deny in -c -b; do
	"$SECCOMP_EXEC" $deny "$CAPTRAIL" trace --comm ct-e2e-none -d 5 >"$WORK/out" 2>"$WORK/err"
	rc=$?
	[ "$rc" -eq 1 ] || fail "seccomp $deny: exit $rc, want 1: $(cat "$WORK/err")"
	[ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "seccomp $deny: not one line: $(cat "$WORK/err")"
	grep -q '^captrail [a-z]*: ready' "$WORK/err" && fail "seccomp $deny: traced anyway"
	for want in "Operation not permitted" "--capabilities bypass=true" CAP_SYS_MODULE; do
		grep -qF -- "$want" "$WORK/err" ||
			fail "seccomp $deny: '$(cat "$WORK/err")' lacks '$want'"
	done
	case $deny in
	-b) grep -q bounding "$WORK/err" || fail "seccomp -b: no 'bounding' in '$(cat "$WORK/err")'" ;;
	-c) grep -q permitted "$WORK/err" || fail "seccomp -c: no 'permitted' in '$(cat "$WORK/err")'" ;;
	esac
done

# With bypass it runs, by flag or by variable.
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$SECCOMP_EXEC" "$CAPTRAIL" >"$WORK/captrail-seccomp"
chmod +x "$WORK/captrail-seccomp"
CAPTRAIL=$WORK/captrail-seccomp start_trace --comm ct-e2e-none --capabilities bypass=true
stop_trace
[ "$TRACE_RC" -eq 0 ] || fail "seccomp with bypass=true: exit $TRACE_RC: $(cat "$WORK/err")"
CAPABILITIES_BYPASS=1 CAPTRAIL=$WORK/captrail-seccomp start_trace --comm ct-e2e-none
stop_trace
[ "$TRACE_RC" -eq 0 ] ||
	fail "seccomp with CAPABILITIES_BYPASS=1: exit $TRACE_RC: $(cat "$WORK/err")"
exit 0
