#!/bin/sh
# captrail record --cgroup of a loop that was running before it: root
# chown-ing a file back and forth in a cgroup of its own. The programs count
# that cgroup and those below it (bpf_current_task_under_cgroup()), on
# every hook; the profile grants CAP_CHOWN, by the program that chowned.
# shellcheck source=SCRIPTDIR/../guest/lib.sh
. /matrix/lib.sh

cg=/sys/fs/cgroup/ct-attach-$CT_HOOK
mkdir -p "$cg"
rm -f "$CT_DIR/stop"
touch "$CT_DIR/attached"
# shellcheck disable=SC2016 # expanded by the loop's own shell
sh -c 'echo $$ >"$1/cgroup.procs" && while [ ! -e "$2/stop" ]; do
	chown 1:1 "$2/attached"; chown 0:0 "$2/attached"; sleep 0.1
done' loop "$cg" "$CT_DIR" &
loop=$!
ct_run record captrail_hook record -o json --output "$CT_DIR/attach.json" \
	--cgroup "/ct-attach-$CT_HOOK" -d 2
touch "$CT_DIR/stop"
wait "$loop"
rmdir "$cg"
ct_run profile cat "$CT_DIR/attach.json"
