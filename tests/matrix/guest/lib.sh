# shellcheck shell=sh
# Guest-side primitives of the kernel matrix, sourced by /init and by every
# case script (busybox ash). The guest judges nothing: it runs commands and
# dumps what they printed and how they exited between markers on the
# console; tests/matrix/evaluate.py reads the console and decides.
#
# Console protocol (one marker per line, "key=value" words, no spaces in
# values; dumped text prefixed with "|"):
#   @@CT boot uptime=SECS kernel=RELEASE
#   @@CT begin case=NAME hook=HOOK
#   @@CT start step=STEP pid=PID
#   @@CT ready step=STEP ok=1|0          (a line matching was seen on stderr)
#   @@CT seen step=STEP ok=1|0           (a line matching was seen on stdout)
#   @@CT out step=STEP stream=stdout|stderr
#   |...text...
#   @@CT out-end step=STEP stream=stdout|stderr lines=N shown=N
#   @@CT exit step=STEP rc=RC killed=0|1
#   @@CT end case=NAME hook=HOOK rc=RC
#   @@CT plan hooks=a,b,c source=captrail|default noflag=SUB,SUB
#   @@CT done

CAPTRAIL=${CAPTRAIL:-/usr/bin/captrail}
CT_DIR=${CT_DIR:-/tmp/ct}
CT_HOOK=${CT_HOOK:-}
# Bounds, in tenths of a second, only so a broken kernel or captrail cannot
# hang the VM; nothing is asserted on them.
CT_WAIT_READY=${CT_WAIT_READY:-1200}
CT_WAIT_EXIT=${CT_WAIT_EXIT:-1200}
CT_WAIT_SEEN=${CT_WAIT_SEEN:-300}
CT_DUMP_MAX=${CT_DUMP_MAX:-4000}
mkdir -p "$CT_DIR"

ct_mark() { echo "@@CT $*"; }

# ct_dump STEP STREAM FILE: the file's lines, "|"-prefixed, at most
# CT_DUMP_MAX of them.
ct_dump() {
	_n=0
	[ -f "$3" ] && _n=$(sed -n '$=' "$3")
	ct_mark out "step=$1" "stream=$2"
	[ -f "$3" ] && sed -n "1,${CT_DUMP_MAX}s/^/|/p" "$3"
	_shown=${_n:-0}
	[ "$_shown" -gt "$CT_DUMP_MAX" ] && _shown=$CT_DUMP_MAX
	# A last line without its newline must not swallow the marker.
	[ "$_shown" = "${_n:-0}" ] && [ -s "$3" ] && [ -n "$(tail -c 1 "$3")" ] && echo
	ct_mark out-end "step=$1" "stream=$2" "lines=${_n:-0}" "shown=$_shown"
}

# ct_has FILE GLOB: a line of FILE matches the shell pattern GLOB. Shell
# builtins only: polling must not fill the trace with its own processes.
ct_has() {
	[ -f "$1" ] || return 1
	while IFS= read -r _l || [ -n "$_l" ]; do
		# shellcheck disable=SC2254 # $2 is a pattern on purpose
		case $_l in $2) return 0 ;; esac
	done <"$1"
	return 1
}

ct_pid() { eval "echo \${CT_PID_$1:-}"; }

# ct_alive PID: running, not a zombie waiting to be reaped.
ct_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	IFS= read -r _st <"/proc/$1/stat" 2>/dev/null || return 1
	_st=${_st##*) }
	_st=${_st%% *}
	[ -n "$_st" ] && [ "$_st" != Z ]
}

# ct_start STEP CMD...: CMD in the background, stdout and stderr in files.
# CMD may be a shell function that ends in exec (captrail_hook): the
# recorded pid is then the program's.
ct_start() {
	_step=$1; shift
	"$@" >"$CT_DIR/$_step.stdout" 2>"$CT_DIR/$_step.stderr" </dev/null &
	eval "CT_PID_$_step=$!"
	ct_mark start "step=$_step" "pid=$!"
}

# ct_wait_ready STEP [GLOB]: until STEP's stderr has a line matching GLOB
# (default *ready*) or STEP is gone.
ct_wait_ready() {
	_pid=$(ct_pid "$1"); _i=0; _ok=0
	while [ "$_i" -lt "$CT_WAIT_READY" ]; do
		if ct_has "$CT_DIR/$1.stderr" "${2:-*ready*}"; then _ok=1; break; fi
		ct_alive "$_pid" || break
		sleep 0.1; _i=$((_i + 1))
	done
	ct_mark ready "step=$1" "ok=$_ok"
	[ "$_ok" = 1 ]
}

# ct_wait_seen STEP GLOB: until STEP's stdout has a line matching GLOB (an
# event was flushed), or STEP is gone. The host judges the content.
ct_wait_seen() {
	_pid=$(ct_pid "$1"); _i=0; _ok=0
	while [ "$_i" -lt "$CT_WAIT_SEEN" ]; do
		if ct_has "$CT_DIR/$1.stdout" "$2"; then _ok=1; break; fi
		ct_alive "$_pid" || break
		sleep 0.1; _i=$((_i + 1))
	done
	ct_mark seen "step=$1" "ok=$_ok"
	[ "$_ok" = 1 ]
}

# ct_finish STEP: wait for STEP to exit (SIGKILL past the bound), then dump
# its output and exit status.
ct_finish() {
	_pid=$(ct_pid "$1"); _i=0; _killed=0
	while ct_alive "$_pid"; do
		if [ "$_i" -ge "$CT_WAIT_EXIT" ]; then kill -KILL "$_pid" 2>/dev/null; _killed=1; break; fi
		sleep 0.1; _i=$((_i + 1))
	done
	wait "$_pid"
	_rc=$?
	ct_dump "$1" stdout "$CT_DIR/$1.stdout"
	ct_dump "$1" stderr "$CT_DIR/$1.stderr"
	ct_mark exit "step=$1" "rc=$_rc" "killed=$_killed"
	return "$_rc"
}

# ct_stop STEP [SIGNAL]: signal STEP (default INT) and finish it.
ct_stop() {
	_pid=$(ct_pid "$1")
	ct_alive "$_pid" && kill "-${2:-INT}" "$_pid" 2>/dev/null
	ct_finish "$1"
}

# ct_run STEP CMD...: CMD in the foreground (bounded), dumped.
ct_run() {
	_step=$1; shift
	ct_start "$_step" "$@"
	ct_finish "$_step"
}

# captrail_hook SUBCOMMAND ARGS...: exec captrail SUBCOMMAND --hook HOOK
# ARGS..., leaving --hook out where this captrail's SUBCOMMAND does not
# have the option yet (the plan line says so, and the host notes it).
captrail_hook() {
	_sub=$1; shift
	case " ${CT_NOFLAG:-} " in
	*" $_sub "*) exec "$CAPTRAIL" "$_sub" "$@" ;;
	*) exec "$CAPTRAIL" "$_sub" --hook "$CT_HOOK" "$@" ;;
	esac
}
