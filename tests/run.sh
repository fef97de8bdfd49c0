#!/bin/bash
# Runs the unit tests (cmocka binaries) and the end-to-end scripts, one
# process each, and closes with "N passed, N failed, N skipped". The
# acceptance suite (real Debian programs, minutes) runs only when asked:
# tests/run.sh acceptance [FILTER]; it closes with the table of its rows
# ("| program | ..." lines of the tests that ran).
# Exit code 77 from a test means "skipped"; with CAPTRAIL_NO_SKIP=1 (CI) a
# skip counts as a failure, because CI must run every test.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export CAPTRAIL=${CAPTRAIL:-$PWD/$BUILD/captrail}
export CAPTRAIL_BUILD=$PWD/$BUILD
export CAPTRAIL_SRC=$PWD
suite=${1:-all}
filter=${2:-}
passed=0 failed=0 skipped=0 failures="" rows=""

run_one() {
	local name=$1; shift
	local log rc
	log=$(mktemp)
	"$@" >"$log" 2>&1
	rc=$?
	case $rc in
	0) passed=$((passed + 1)); echo "PASS $name" ;;
	77)
		if [ "${CAPTRAIL_NO_SKIP:-0}" = 1 ]; then
			failed=$((failed + 1)); failures="$failures $name"
			echo "FAIL $name (skipped, but CAPTRAIL_NO_SKIP=1): $(tail -n 1 "$log")"
		else
			skipped=$((skipped + 1)); echo "SKIP $name: $(tail -n 1 "$log")"
		fi ;;
	*)
		failed=$((failed + 1)); failures="$failures $name"
		echo "FAIL $name (exit $rc)"; sed 's/^/    /' "$log" | tail -n 60 ;;
	esac
	[ "$rc" -ne 77 ] && rows="$rows$(grep '^| ' "$log")"$'\n'
	rm -f "$log"
}

if [ "$suite" = all ] || [ "$suite" = unit ]; then
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		case $t in *.d) continue ;; esac
		[ -n "$filter" ] && [[ $t != *$filter* ]] && continue
		run_one "unit/$(basename "$t")" "$t"
	done
fi
if [ "$suite" = all ] || [ "$suite" = e2e ]; then
	for t in tests/e2e/[0-9]*.sh; do
		[ -n "$filter" ] && [[ $t != *$filter* ]] && continue
		run_one "e2e/$(basename "$t" .sh)" bash "$t"
	done
fi
if [ "$suite" = acceptance ]; then
	for t in tests/acceptance/*.sh; do
		case $t in */lib.sh) continue ;; esac
		[ -n "$filter" ] && [[ $t != *$filter* ]] && continue
		run_one "acceptance/$(basename "$t" .sh)" bash "$t"
	done
fi
if [ -n "${rows//$'\n'/}" ]; then
	echo "| program | recommended | sufficient | minimal |"
	echo "|---|---|---|---|"
	printf '%s' "$rows" | grep .
fi
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
