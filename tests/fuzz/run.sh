#!/bin/bash
# Runs each libFuzzer harness of BUILD for SECONDS, JOBS at a time (or only
# the one named), from its seeds in tests/fuzz/corpus/NAME plus what earlier
# runs found (BUILD/corpus/NAME), and prints one line per harness with its
# executions. A crash, leak, timeout or out-of-memory input is saved as
# BUILD/crashes/NAME-*, and the script exits 1.
#   tests/fuzz/run.sh BUILD SECONDS [JOBS [NAME]]
# Per-harness flags: tests/fuzz/fuzz_NAME.options ("key = value" lines of a
# [libfuzzer] section) and a dictionary, tests/fuzz/fuzz_NAME.dict.
set -u
cd "$(dirname "$0")/../.."
build=${1:?BUILD}
seconds=${2:?SECONDS}
jobs=${3:-1}
only=${4:-}
src=$PWD

# Defaults any .options file may override: a parser never takes seconds on
# one input, and no input should need a gigabyte.
options() {
	local name=$1 file=tests/fuzz/fuzz_$1.options
	local -A opt=([max_len]=4096 [timeout]=10 [rss_limit_mb]=1024)

	if [ -f "$file" ]; then
		while IFS='=' read -r key value; do
			key=${key// /} value=${value// /}
			[[ -z $key || $key == \[* || $key == \#* ]] && continue
			opt[$key]=$value
		done <"$file"
	fi
	for key in "${!opt[@]}"; do
		printf -- '-%s=%s\n' "$key" "${opt[$key]}"
	done
	[ -f "tests/fuzz/fuzz_$name.dict" ] && echo "-dict=$src/tests/fuzz/fuzz_$name.dict"
}

run_one() {
	local name=$1 bin=$src/$build/fuzz_$1 log=$src/$build/logs/$1.log
	local corpus=$src/$build/corpus/$1 seeds=$src/tests/fuzz/corpus/$1 rc execs

	mkdir -p "$corpus" "$src/$build/crashes" "$src/$build/logs"
	# shellcheck disable=SC2046
	"$bin" $(options "$name") -max_total_time="$seconds" -print_final_stats=1 \
		-artifact_prefix="$src/$build/crashes/$name-" "$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		printf 'fuzz_%-16s %10s executions in %ss, corpus %s\n' "$name" "${execs:-?}" \
			"$seconds" "$(find "$corpus" -type f | wc -l)"
		return 0
	fi
	printf 'fuzz_%-16s FAILED (exit %s) after %s executions; log %s\n' "$name" "$rc" \
		"${execs:-?}" "$log"
	grep -m 1 -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|.*harness check)' "$log" |
		sed 's/^/    /'
	sed -n 's/^.*Test unit written to /    input: /p' "$log"
	return 1
}

names=()
for f in tests/fuzz/fuzz_*.c; do
	name=$(basename "$f" .c)
	name=${name#fuzz_}
	[ -n "$only" ] && [ "$name" != "$only" ] && continue
	names+=("$name")
done
if [ ${#names[@]} -eq 0 ]; then
	echo "tests/fuzz/run.sh: no harness named '$only'" >&2
	exit 2
fi

start=$SECONDS
for name in "${names[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
		wait -n
	done
	rm -f "$build/logs/$name.ok"
	(run_one "$name" && touch "$build/logs/$name.ok") &
done
wait
failed=0
for name in "${names[@]}"; do
	[ -f "$build/logs/$name.ok" ] || failed=1
done
echo "${#names[@]} harnesses in $((SECONDS - start))s"
exit $failed
