#!/bin/sh
# captrail record of dmesg as nobody: CAP_SYSLOG denied, never granted, and
# what the denied syscalls returned (EPERM) seen from the first denial on.
# shellcheck source=SCRIPTDIR/../guest/lib.sh
. /matrix/lib.sh
echo 1 >/proc/sys/kernel/dmesg_restrict

ct_run record captrail_hook record -o json --output "$CT_DIR/profile.json" --user nobody -- dmesg
ct_run profile cat "$CT_DIR/profile.json"
