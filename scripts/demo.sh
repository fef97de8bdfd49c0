#!/bin/bash
# The reference example, end to end: trace capability checks while `dmesg`
# runs as an unprivileged user, and print the CAP_SYSLOG denial it gets.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it loads BPF programs)" >&2; exit 1; }
./scripts/install-deps.sh test
make -s build/captrail
captrail=${1:-build/captrail}
tmp=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$tmp"' EXIT

"$captrail" trace -o json --comm dmesg >"$tmp/events" 2>"$tmp/err" &
pid=$!
until grep -q '^captrail [a-z]*: ready' "$tmp/err"; do
	kill -0 $pid 2>/dev/null || { cat "$tmp/err" >&2; exit 1; }
	sleep 0.1
done
echo "$ setpriv --reuid=65534 --regid=65534 --clear-groups dmesg"
setpriv --reuid=65534 --regid=65534 --clear-groups dmesg 2>&1 | head -n 3 || true
until grep -q '"value":34' "$tmp/events"; do sleep 0.1; done
kill -INT $pid
wait $pid
cat "$tmp/err"
echo
echo "the CAP_SYSLOG check, as captrail reports it:"
jq 'select(.process_kprobe.args[1].capability_arg.value == 34)' "$tmp/events" | jq -s '.[0]'
