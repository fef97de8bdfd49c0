#!/bin/bash
# Every event of a real trace is read the way a strict protojson parser of
# Tetragon's schema reads it (tests/tetragon_schema.py --canonical: no
# unknown field, wrong type or enum name, nothing protojson would omit):
# dmesg denied as nobody, a granted CAP_DAC_OVERRIDE (Tetragon spells it
# DAC_OVERRIDE) by a command with an argument Tetragon quotes, a process
# whose real, effective, saved and fs ids differ, a runc pod (its init and
# its child in the init's tree, a process runc exec'd into it not), and a
# container outside Kubernetes, which has "docker" and no "pod".
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pod.sh"
need_root
pod_available || skip "$POD_SKIP_REASON"
command -v python3 >/dev/null || skip "python3 is not installed"
SCHEMA=$(dirname "$0")/../tetragon_schema.py

uid=$(pod_new_uid)
pod_id=$(pod_new_id)
plain_id=$(pod_new_id)
# The pod's init (pid 1) asks for CAP_SYS_RESOURCE itself (a hard limit
# raised), its child dmesg for CAP_SYSLOG: both in the init's tree.
pod_bundle "$WORK/pod" default xwing spaceship docker.io/library/busybox:1.35 "$uid" \
	"$pod_id" /bin/sh -c 'ulimit -H -n 2048 2>/dev/null; /bin/dmesg >/dev/null 2>&1; exec sleep 600'
# The same container as Docker's cgroupfs driver places it, without the
# CRI annotations: no pod.
pod_bundle "$WORK/plain" "" "" "" "" "" "$plain_id" \
	/bin/sh -c '/bin/dmesg >/dev/null 2>&1; exec sleep 600'
jq --arg cg "/docker/$plain_id" '.linux.cgroupsPath = $cg | .hostname = "plain" | del(.annotations)' \
	"$WORK/plain/config.json" >"$WORK/plain.json" && mv "$WORK/plain.json" "$WORK/plain/config.json"

install -m 000 /dev/null "$WORK/sealed"
start_trace -o json --state-root "$POD_RUNC_ROOT"
run_dmesg_as_nobody
# root writes to a file no mode bit allows: CAP_DAC_OVERRIDE granted; the
# second file's name holds a space, which Tetragon's arguments quote
tee -a "$WORK/sealed" "$WORK/a b" </dev/null >/dev/null
# Real, effective, saved and fs ids all different, and securebits, in a
# process that then asks for CAP_SYS_NICE (denied: setresuid cleared its
# effective set)
python3 - <<'PY' || fail "the credentials' program failed"
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_SECUREBITS, SECBIT_NOROOT, SECBIT_KEEP_CAPS = 28, 1 << 0, 1 << 4
if libc.prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_KEEP_CAPS, 0, 0, 0):
    raise OSError(ctypes.get_errno(), "prctl")
os.setgroups([])
os.setresgid(1234, 2345, 3456)
os.setresuid(1234, 2345, 3456)
libc.setfsuid(3456)
libc.setfsgid(3456)
try:
    os.nice(-1)
except PermissionError:
    pass
PY
pod_start "$pod_id" "$WORK/pod" || fail "pod did not start"
pod_start "$plain_id" "$WORK/plain" || fail "plain container did not start"
wait_event '"name":"xwing"'
wait_event '"value":34.*"name":"xwing"|"name":"xwing".*"value":34'
# Entered into the pod from outside: not in its init's tree.
_pod_runc exec "$pod_id" /bin/dmesg -r >/dev/null 2>&1
wait_event '"arguments":"-r"'
wait_event "\"docker\":\"${plain_id:0:31}\".*\"value\":34|\"value\":34.*\"docker\":\"${plain_id:0:31}\""
wait_event '"value":1,'
wait_event '"fsuid":3456'
stop_trace
[ "$TRACE_RC" -eq 0 ] || fail "trace exited $TRACE_RC"

python3 "$SCHEMA" --canonical "$WORK/out" >"$WORK/schema.out" ||
	fail "events Tetragon's schema rejects: $(head -n 20 "$WORK/schema.out")"
note "$(tail -n 1 "$WORK/schema.out")"

first() { jq_out "select($1)" | head -n 1; }
check() { # EVENT JQ WANT
	[ "$(jq -r "$2" <<<"$1")" = "$3" ] || fail "$2 is '$(jq -r "$2" <<<"$1")', want '$3'"
}

ev=$(first '.process_kprobe.args[1].capability_arg.value == 34 and .process_kprobe.process.uid == 65534')
[ -n "$ev" ] || fail "no CAP_SYSLOG event of nobody"
check "$ev" '.process_kprobe.args[1].capability_arg.name' CAP_SYSLOG
check "$ev" '.process_kprobe.return_action' KPROBE_ACTION_POST
check "$ev" '.process_kprobe.process | has("pod") or has("docker")' false
check "$ev" '.process_kprobe.process.cap | has("permitted")' false # nobody holds none
check "$ev" '.process_kprobe.parent.tid == .process_kprobe.parent.pid' true

ev=$(first '.process_kprobe.args[1].capability_arg.value == 1 and .process_kprobe.return.int_arg == 0
	and (.process_kprobe.process.binary | endswith("/tee"))')
[ -n "$ev" ] || fail "no granted CAP_DAC_OVERRIDE event of tee"
check "$ev" '.process_kprobe.args[1].capability_arg.name' DAC_OVERRIDE
check "$ev" '.process_kprobe.process.cap.effective | index("DAC_OVERRIDE") != null' true
check "$ev" '.process_kprobe.process.arguments' "-a $WORK/sealed \"$WORK/a b\""

ev=$(first '.process_kprobe.process.process_credentials.fsuid == 3456')
[ -n "$ev" ] || fail "no event of the process with its own ids"
check "$ev" '.process_kprobe.args[1].capability_arg.name' CAP_SYS_NICE
check "$ev" '.process_kprobe.process.process_credentials | [.uid, .euid, .suid, .fsuid] | join(",")' \
	1234,2345,3456,3456
check "$ev" '.process_kprobe.process.process_credentials | [.gid, .egid, .sgid, .fsgid] | join(",")' \
	1234,2345,3456,3456
check "$ev" '.process_kprobe.process.process_credentials.securebits | join(",")' \
	SecBitNoRoot,SecBitKeepCaps
check "$ev" '.process_kprobe.parent | has("process_credentials")' false
ev=$(first '.process_kprobe.args[1].capability_arg.value == 1 and .process_kprobe.return.int_arg == 0
	and (.process_kprobe.process.binary | endswith("/tee"))')
check "$ev" '.process_kprobe.process.process_credentials | [.uid, .euid, .fsuid, .gid] | join(",")' \
	0,0,0,0
check "$ev" '.process_kprobe.process.process_credentials | has("securebits")' false

ev=$(first '.process_kprobe.args[1].capability_arg.value == 34 and .process_kprobe.process.pod.name == "xwing"')
[ -n "$ev" ] || fail "no CAP_SYSLOG event of the pod"
check "$ev" '.process_kprobe.process.pod.namespace' default
check "$ev" '.process_kprobe.process.pod.uid' "$uid"
check "$ev" '.process_kprobe.process.pod.container.image | keys | join(",")' name
check "$ev" '.process_kprobe.process.docker' "${pod_id:0:31}"
check "$ev" '.process_kprobe.process.pod.workload' xwing
check "$ev" '.process_kprobe.process.pod.workload_kind' Pod
check "$ev" '.process_kprobe.process.in_init_tree' true
check "$ev" '.process_kprobe.parent.in_init_tree' true

ev=$(first '.process_kprobe.args[1].capability_arg.value == 24 and .process_kprobe.process.pod.name == "xwing"')
[ -n "$ev" ] || fail "no CAP_SYS_RESOURCE event of the pod's init"
check "$ev" '.process_kprobe.process.pod.container.pid' 1
check "$ev" '.process_kprobe.process.in_init_tree' true

ev=$(first '.process_kprobe.process.arguments == "-r" and .process_kprobe.process.pod.name == "xwing"')
[ -n "$ev" ] || fail "no event of the dmesg runc exec'd in the pod"
check "$ev" '.process_kprobe.process.in_init_tree' false

ev=$(first ".process_kprobe.args[1].capability_arg.value == 34
	and .process_kprobe.process.docker == \"${plain_id:0:31}\"")
[ -n "$ev" ] || fail "no CAP_SYSLOG event of the plain container"
check "$ev" '.process_kprobe.process | has("pod")' false
check "$ev" '.process_kprobe.process.in_init_tree' true
ev=$(first '.process_kprobe.process | has("pod") or has("docker") | not')
check "$ev" '.process_kprobe.process | has("in_init_tree")' false
exit 0
