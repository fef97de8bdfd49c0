#!/bin/sh
# A granted CAP_SYS_ADMIN check and its syscall: root sets the host name in
# a new UTS namespace (busybox unshare -u hostname).
# shellcheck source=SCRIPTDIR/../guest/lib.sh
. /matrix/lib.sh

ct_start trace captrail_hook trace -o json --caps sys_admin
ct_wait_ready trace || { ct_finish trace; exit 1; }
ct_run uts unshare -u hostname matrix-uts
ct_wait_seen trace '*syscall:sethostname*'
ct_stop trace
