#!/bin/bash
# A granted check: sethostname in a private UTS namespace needs CAP_SYS_ADMIN.
. "$(dirname "$0")/lib.sh"
need_root

start_trace -o json --caps sys_admin
unshare --uts hostname captrail-e2e &
pid=$!
wait $pid || fail "unshare --uts hostname failed"
wait_event "\"pid\":$pid,"
stop_trace

n=$(jq_out "select(.process_kprobe.process.pid == $pid
	and .process_kprobe.args[1].capability_arg.name == \"CAP_SYS_ADMIN\"
	and .process_kprobe.return.int_arg == 0
	and (.process_kprobe.tags | index(\"syscall:sethostname\")))" | wc -l)
[ "$n" -ge 1 ] || fail "no granted CAP_SYS_ADMIN sethostname check for pid $pid"
