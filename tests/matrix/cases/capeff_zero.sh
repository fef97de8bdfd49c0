#!/bin/sh
# captrail keeps no effective capability while it traces: its own
# /proc/PID/status, read while tracing, has CapEff 0.
# shellcheck source=SCRIPTDIR/../guest/lib.sh
. /matrix/lib.sh

ct_start trace captrail_hook trace -o json --uid 4242
ct_wait_ready trace || { ct_finish trace; exit 1; }
ct_run status cat "/proc/$(ct_pid trace)/status"
ct_stop trace
