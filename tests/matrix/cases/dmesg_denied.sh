#!/bin/sh
# dmesg as uid 65534 (dmesg_restrict=1) is denied CAP_SYSLOG: the reference
# example. captrail trace streams JSON while busybox dmesg runs as nobody.
# shellcheck source=SCRIPTDIR/../guest/lib.sh
. /matrix/lib.sh
echo 1 >/proc/sys/kernel/dmesg_restrict

ct_start trace captrail_hook trace -o json --uid 65534
ct_wait_ready trace || { ct_finish trace; exit 1; }
ct_run dmesg su -s /bin/sh nobody -c dmesg
ct_wait_seen trace '*"value":34*'
ct_stop trace
