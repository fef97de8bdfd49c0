#!/bin/bash
# tests/matrix/run.sh: captrail on Debian's cloud kernels 5.10 (bullseye),
# 6.1 (bookworm) and 6.12 (trixie), each booted under qemu with an
# initramfs holding busybox, captrail and the cases of tests/matrix/cases.
# Prints a matrix kernel x hook x test (pass / FAIL / skip and why), boot
# times and the accelerator, writes it as JSON, and exits 0 only when
# nothing failed. See tests/matrix/README.md.
#
# Needs these Debian packages, installed here when missing (root):
#   qemu-system-x86   qemu-system-x86_64
#   busybox-static    /bin/busybox: the guest's userland and cpio
#   python3           evaluate.py (standard library only)
#   gzip, apt, dpkg   the initramfs; downloading and unpacking the kernels
#   gnupg             (optional) checking which keyring verifies a suite
# Never the "busybox" package: it replaces busybox-static.
set -eu -o pipefail

here=$(cd "$(dirname "$0")" && pwd)
DEPS="qemu-system-x86 busybox-static python3 gzip"

usage() {
	cat >&2 <<'EOF'
usage: tests/matrix/run.sh --captrail PATH [--helper PATH]... [--kernels 5.10,6.1,6.12,6.18]
                           [--cache DIR] [--keep DIR] [--json FILE] [--case NAME]...
                           [--accel auto|kvm|tcg] [--timeout SECS]
  --captrail PATH  the captrail binary to test (packed with its libraries)
  --helper PATH    another program for the guest's /usr/bin (repeatable)
  --kernels LIST   kernel series (default 5.10,6.1,6.12,6.18)
  --cache DIR      downloaded kernels and apt state
                   (default $CAPTRAIL_MATRIX_CACHE or /var/cache/captrail-matrix)
  --keep DIR       keep the initramfs and each kernel's console log in DIR
  --json FILE      the matrix as JSON (default DIR/matrix.json with --keep,
                   else CACHE/matrix.json)
  --case NAME      only this case (repeatable; default every cases/*.sh)
  --accel MODE     auto (default: kvm when a probe VM runs, else tcg), kvm, tcg
  --timeout SECS   per VM (default $CAPTRAIL_MATRIX_VM_TIMEOUT or 300)
EOF
	exit 2
}

captrail="" kernels=5.10,6.1,6.12,6.18 keep="" json="" accel=${CAPTRAIL_MATRIX_ACCEL:-auto}
cache=${CAPTRAIL_MATRIX_CACHE:-/var/cache/captrail-matrix}
vm_timeout=${CAPTRAIL_MATRIX_VM_TIMEOUT:-300}
# A working KVM reaches /init in a few seconds; a broken one may hang.
kvm_probe=${CAPTRAIL_MATRIX_KVM_PROBE:-15}
helpers=() cases=()
while [ $# -gt 0 ]; do
	case $1 in
	--captrail) [ $# -ge 2 ] || usage; captrail=$2; shift 2 ;;
	--helper) [ $# -ge 2 ] || usage; helpers+=(--helper "$2"); shift 2 ;;
	--kernels) [ $# -ge 2 ] || usage; kernels=$2; shift 2 ;;
	--cache) [ $# -ge 2 ] || usage; cache=$2; shift 2 ;;
	--keep) [ $# -ge 2 ] || usage; keep=$2; shift 2 ;;
	--json) [ $# -ge 2 ] || usage; json=$2; shift 2 ;;
	--case) [ $# -ge 2 ] || usage; cases+=("$2"); shift 2 ;;
	--accel) [ $# -ge 2 ] || usage; accel=$2; shift 2 ;;
	--timeout) [ $# -ge 2 ] || usage; vm_timeout=$2; shift 2 ;;
	-h | --help) usage ;;
	*) echo "run.sh: unknown argument '$1'" >&2; usage ;;
	esac
done
[ -n "$captrail" ] || { echo "run.sh: --captrail PATH is required" >&2; usage; }
[ -x "$captrail" ] || { echo "run.sh: no executable captrail at $captrail" >&2; exit 2; }
case $accel in auto | kvm | tcg) ;; *) echo "run.sh: --accel auto, kvm or tcg" >&2; exit 2 ;; esac
[[ $vm_timeout =~ ^[0-9]+$ ]] || { echo "run.sh: --timeout takes seconds" >&2; exit 2; }
captrail=$(realpath "$captrail")
log() { echo "matrix: $*" >&2; }

# Dependencies: quiet when present.
missing=""
for pkg in $DEPS; do
	[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" = "install ok installed" ] ||
		missing="$missing $pkg"
done
if [ -n "$missing" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "run.sh: missing packages:$missing (run as root to install them)" >&2; exit 1; }
	log "installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086 # one word per package
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
PY=/usr/bin/python3

mkdir -p "$cache"
cache=$(realpath "$cache")
if [ -n "$keep" ]; then
	mkdir -p "$keep"
	work=$(realpath "$keep")
	rm -rf "$work/kernels"
else
	work=$(mktemp -d "${TMPDIR:-/tmp}/captrail-matrix.XXXXXX")
	trap 'rm -rf "$work"' EXIT
fi
if [ -z "$json" ]; then
	if [ -n "$keep" ]; then json=$work/matrix.json; else json=$cache/matrix.json; fi
fi

# The cases, in the order the guest runs them (its glob is sorted).
if [ ${#cases[@]} -eq 0 ]; then
	for f in "$here"/cases/*.sh; do cases+=("$(basename "$f" .sh)"); done
fi
case_args=()
for c in "${cases[@]}"; do case_args+=(--case "$c"); done
mapfile -t cases < <(printf '%s\n' "${cases[@]}" | LC_ALL=C sort -u)

IFS=, read -r -a series_list <<<"$kernels"

# 1. Kernels: downloaded once into the cache.
log "kernels ${series_list[*]} (cache $cache)"
"$here/kernels.sh" "$cache" "${series_list[@]}" >"$work/kernels.txt" || true
for series in "${series_list[@]}"; do
	mkdir -p "$work/kernels/$series"
	line=$(awk -v s="$series" '$1 == s' "$work/kernels.txt")
	read -r _ status pkg version <<<"$line" || true
	{
		echo "series=$series"
		if [ "$status" = ok ]; then
			echo "status=ok"
			echo "package=$pkg"
			echo "version=$version"
		else
			echo "status=fetch-error"
			echo "reason=${line#"$series error "}"
			[ -n "$line" ] || echo "reason=kernels.sh said nothing about it"
		fi
	} >"$work/kernels/$series/meta"
	log "  $series: ${line#"$series "}"
done

# 2. The initramfs, shared by every kernel (nothing in it is kernel-specific).
log "initramfs: $captrail${helpers[*]:+ ${helpers[*]}}"
"$here/initramfs.sh" "$work/initramfs.cpio.gz" "$captrail" ${helpers[@]+"${helpers[@]}"} "${case_args[@]}"

# qemu_boot KERNEL_DIR CONSOLE EXTRA_APPEND: the VM in the background; sets
# QEMU_PID.
# Under TCG the two vCPUs share one host thread: with a thread each
# (MTTCG), a CPU could run a stale copy of code the kernel had just
# patched to attach a tracepoint and die on its int3 (seen once on 6.12:
# "Oops: int3" in syscall_exit_to_user_mode_prepare while a program
# attached to sys_exit).
qemu_boot() {
	local accel_opt=$accel cpu=()
	[ "$accel" = kvm ] && cpu=(-cpu host)
	[ "$accel" = tcg ] && accel_opt=tcg,thread=single
	qemu-system-x86_64 -accel "$accel_opt" "${cpu[@]}" -smp 2 -m 1024 -nographic -no-reboot -nic none \
		-kernel "$1/vmlinuz" -initrd "$work/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 quiet $3" </dev/null >"$2" 2>&1 &
	QEMU_PID=$!
}

# 3. The accelerator: KVM when a probe VM reaches /init under it. A broken
# KVM (nested virtualisation without VMX, say) can hang the VM rather than
# fail, so the probe watches the console and gives up early.
accel_note=""
probe_kernel=""
for series in "${series_list[@]}"; do
	[ -s "$cache/kernels/$series/vmlinuz" ] && grep -q '^status=ok' "$work/kernels/$series/meta" &&
		{ probe_kernel=$cache/kernels/$series; break; }
done
if [ "$accel" = auto ]; then
	accel=tcg
	if [ ! -e /dev/kvm ]; then
		accel_note="no /dev/kvm"
	elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		accel_note="/dev/kvm is not accessible"
	elif [ -z "$probe_kernel" ]; then
		accel_note="no kernel to probe KVM with"
	else
		accel=kvm
		qemu_boot "$probe_kernel" "$work/kvm-probe.log" ctprobe
		for ((i = 0; i < kvm_probe * 10; i++)); do
			grep -q '@@CT probe ok' "$work/kvm-probe.log" && break
			grep -q 'KVM internal error' "$work/kvm-probe.log" && break
			kill -0 "$QEMU_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
		if grep -q '@@CT probe ok' "$work/kvm-probe.log"; then
			accel_note="/dev/kvm works"
		else
			accel=tcg
			why=$(grep -a -m 1 -E 'KVM|kvm|error' "$work/kvm-probe.log" | tr -d '\r' || true)
			[ -n "$why" ] || why="it did not reach /init within $kvm_probe s"
			grep -qwE 'vmx|svm' /proc/cpuinfo || why="$why; the CPU shows no vmx/svm flag"
			accel_note="/dev/kvm present but a probe VM failed under it: $why"
		fi
	fi
fi
log "accelerator: $accel${accel_note:+ ($accel_note)}"

# 4. Boot each kernel.
for series in "${series_list[@]}"; do
	meta=$work/kernels/$series/meta
	grep -q '^status=ok' "$meta" || continue
	log "booting $series under $accel (at most $vm_timeout s)"
	start=$EPOCHREALTIME
	qemu_boot "$cache/kernels/$series" "$work/kernels/$series/console.log" ""
	timed_out=0
	for ((i = 0; i < vm_timeout * 5; i++)); do
		kill -0 "$QEMU_PID" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$QEMU_PID" 2>/dev/null; then
		timed_out=1
		kill "$QEMU_PID" 2>/dev/null || true
	fi
	qemu_rc=0
	wait "$QEMU_PID" || qemu_rc=$?
	wall=$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
	printf 'qemu_rc=%s\nwall=%s\ntimed_out=%s\ntimeout=%s\n' "$qemu_rc" "$wall" "$timed_out" "$vm_timeout" >>"$meta"
	how="qemu exited $qemu_rc after $wall s"
	[ "$timed_out" = 1 ] && how="$how (timed out)"
	log "  $series: $how"
done

cat >"$work/run.meta" <<EOF
captrail=$captrail
kernels=$(IFS=,; echo "${series_list[*]}")
cases=$(IFS=,; echo "${cases[*]}")
accel=$accel
accel_note=$accel_note
EOF

# 5. Judge.
status=0
"$PY" -B "$here/evaluate.py" "$work" "$here/cases" "$json" || status=$?
[ -n "$keep" ] && log "console logs and initramfs kept in $work"
exit $status
