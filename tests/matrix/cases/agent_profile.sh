#!/bin/sh
# captrail agent counts a root chown into its store; after the agent stops,
# captrail profile --db --all lists CAP_CHOWN. (--all, not --binary
# /bin/busybox: busybox sh runs its applets in a forked child or by
# exec'ing /proc/self/exe, which captrail names by the image before it, the
# path the shell was run by.)
# shellcheck source=SCRIPTDIR/../guest/lib.sh
. /matrix/lib.sh

touch "$CT_DIR/f"
ct_start agent captrail_hook agent --db "$CT_DIR/a.db" --socket "$CT_DIR/a.sock"
ct_wait_ready agent || { ct_finish agent; exit 1; }
ct_run workload sh -c "chown 65534 $CT_DIR/f"
ct_stop agent
ct_run profile "$CAPTRAIL" profile --db "$CT_DIR/a.db" --all -o json
