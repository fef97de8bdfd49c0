#!/bin/sh
# captrail overhead benchmark (see bench/README.md). Run by `make bench`, or
# directly as root after `make -C bench BUILD=<abs build dir>`:
#   BUILD=/abs/build bench/run.sh
# Knobs (environment, defaults in brackets):
#   BENCH_ROUNDS [9]          interleaved rounds per table
#   BENCH_N [300000]          sethostname() calls per capcheck run
#   BENCH_MIXED_N [500]       shell-loop iterations per mixed run
#   BENCH_STREAM_SECS [5]     length of one streaming-throughput run
#   BENCH_STREAM_RUNS [3]     streaming-throughput runs, paced and flat out each
#   BENCH_STREAM_RATE [300000] checks/s of the paced streaming runs
#   BENCH_STARTUP_RUNS [7]    start-up measurements
#   BENCH_PROCS [10000]       live processes for the RSS step
#   BENCH_TOGGLE_RUNS [3]     aggtoggle runs (in-kernel cost, toggled)
#   BENCH_TOGGLE_SECS [20]    length of one aggtoggle run
#   BENCH_ROWS                keep only these rows (comma list of floor, record,
#                             agent, stream, bt_count, bt_printf)
#   BENCH_SKIP                skip steps (comma list of mixed, toggled,
#                             throughput, startup, rss_10k, api_burst)
#   BENCH_BURST_N [20000]     checks per burst of the API burst step
#   BENCH_BURST_RUNS [5]      bursts (api_burst.py)
#   BENCH_QUIET_WAIT [20]     seconds to wait for another session's BPF
#   BENCH_QUIET_BUDGET [120]  tracers to detach, per measurement / in all
#   CAPTRAIL [$BUILD/captrail], BENCH_RESULTS [bench/results.json]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
BUILD=${BUILD:-$(cd "$here/.." && pwd)/build}
export BUILD

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: must run as root (BPF, unshare, tracefs)" >&2
	exit 1
fi
for prog in capcheck mixed spawn floor aggtoggle; do
	if [ ! -x "$BUILD/bench/$prog" ]; then
		echo "bench: $BUILD/bench/$prog missing; run 'make -C bench BUILD=$BUILD'" >&2
		exit 1
	fi
done

# bpftrace resolves tracepoint:capability:cap_capable through tracefs.
if [ ! -d /sys/kernel/tracing/events ]; then
	mount -t tracefs tracefs /sys/kernel/tracing ||
		echo "bench: cannot mount tracefs; the bpftrace rows will be n/a" >&2
fi

# The pyenv shim may point anywhere; the harness needs only the stdlib.
py=/usr/bin/python3
[ -x "$py" ] || py=python3
"$py" "$here/bench.py"
case ",${BENCH_SKIP:-}," in
*,api_burst,*) ;;
*) "$py" "$here/api_burst.py" ;;
esac
