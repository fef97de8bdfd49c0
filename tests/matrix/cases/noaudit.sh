#!/bin/sh
# The kernel's noaudit probes are never recommended: reading /proc/kallsyms
# (CAP_SYSLOG, noaudit) and a 64 MiB allocation (the overcommit
# CAP_SYS_ADMIN check, noaudit).
# shellcheck source=SCRIPTDIR/../guest/lib.sh
. /matrix/lib.sh

ct_run record captrail_hook record -o json --output "$CT_DIR/profile.json" -- \
	sh -c 'cat /proc/kallsyms >/dev/null && dd if=/dev/zero of=/dev/null bs=64M count=1'
ct_run profile cat "$CT_DIR/profile.json"
