#!/bin/bash
# In-kernel filters: --denied, --pid, --caps, --unique, --uid.
. "$(dirname "$0")/lib.sh"
need_root

# --denied hides granted checks (hostname in a UTS namespace is granted).
start_trace -o json --denied
unshare --uts hostname captrail-e2e
run_dmesg_as_nobody
wait_event '"value":34'
stop_trace
[ "$(jq_out 'select(.process_kprobe.return.int_arg == 0)' | wc -l)" -eq 0 ] ||
	fail "--denied let granted checks through"

# --pid hides other processes: the watched process waits on a fifo so the
# trace is attached before it acts.
mkfifo "$WORK/go"
sh -c "read _ < '$WORK/go'; exec unshare --uts hostname captrail-e2e" &
pid=$!
start_trace -o json -p "$pid"
run_dmesg_as_nobody
echo go >"$WORK/go"
wait $pid
wait_event "\"pid\":$pid,"
stop_trace
[ "$(jq_out "select(.process_kprobe.process.pid != $pid)" | wc -l)" -eq 0 ] ||
	fail "--pid $pid let other processes through"

# --caps keeps only the named capabilities.
start_trace -o json --caps CAP_SYSLOG,chown
run_dmesg_as_nobody
unshare --uts hostname captrail-e2e
wait_event '"value":34'
stop_trace
[ "$(jq_out 'select(.process_kprobe.args[1].capability_arg.value != 34
	and .process_kprobe.args[1].capability_arg.value != 0)' | wc -l)" -eq 0 ] ||
	fail "--caps let other capabilities through"

# --unique: dmesg checks CAP_SYSLOG several times; one line per
# process x capability x verdict remains.
start_trace -o json --unique --uid 65534
run_dmesg_as_nobody
wait_event '"value":34'
stop_trace
dups=$(jq_out '[.process_kprobe.process.pid, .process_kprobe.args[1].capability_arg.value,
	.process_kprobe.return.int_arg]' | sort | uniq -d | wc -l)
[ "$dups" -eq 0 ] || fail "--unique printed repeats"
[ "$(jq_out 'select(.process_kprobe.process.uid != 65534)' | wc -l)" -eq 0 ] ||
	fail "--uid 65534 let other users through"
