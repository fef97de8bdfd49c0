#!/bin/bash
# Deployment files: the systemd unit passes `systemd-analyze verify` (with the
# man page it names) and confines the agent to captrail's own capability
# set; the DaemonSet parses and has what the agent needs on a node; the man
# page renders without warnings; the bash completion completes.
. "$(dirname "$0")/lib.sh"

SRC=${CAPTRAIL_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
UNIT=$SRC/deploy/captrail.service
DS=$SRC/deploy/daemonset.yaml
MAN=$SRC/docs/captrail.8
COMPLETION=$SRC/contrib/bash-completion/captrail
PY=/usr/bin/python3
NEEDED="CAP_BPF CAP_DAC_OVERRIDE CAP_DAC_READ_SEARCH CAP_PERFMON CAP_SYSLOG CAP_SYS_PTRACE"

command -v systemd-analyze >/dev/null || skip "no systemd-analyze (package systemd)"
"$PY" -c 'import yaml' 2>/dev/null || skip "no PyYAML for $PY (package python3-yaml)"
command -v man >/dev/null || skip "no man (package man-db)"
bin=$(realpath "$CAPTRAIL" 2>/dev/null) && [ -x "$bin" ] || fail "no captrail binary at $CAPTRAIL"

# --- systemd unit ---
note "unit: ExecStart is the installed path; verify runs on a copy naming this build"
grep -qx 'ExecStart=/usr/local/sbin/captrail agent' "$UNIT" ||
	fail "ExecStart is not the installed agent"
mkdir -p "$WORK/unit" "$WORK/man/man8"
sed "s|^ExecStart=/usr/local/sbin/captrail|ExecStart=$bin|" "$UNIT" >"$WORK/unit/captrail.service"
cp "$MAN" "$WORK/man/man8/captrail.8"
# Documentation=man:captrail(8) is checked too: MANPATH finds this tree's page.
if ! MANPATH=$WORK/man systemd-analyze verify "$WORK/unit/captrail.service" \
	>"$WORK/verify" 2>&1; then
	cat "$WORK/verify"
	fail "systemd-analyze verify failed"
fi
[ -s "$WORK/verify" ] && { cat "$WORK/verify"; fail "systemd-analyze verify warned"; }

value() { sed -n "s/^$1=//p" "$UNIT" | tail -n 1; }
bounding=$(value CapabilityBoundingSet | tr ' ' '\n' | sort | xargs)
[ "$bounding" = "$NEEDED" ] || fail "CapabilityBoundingSet is '$bounding', expected '$NEEDED'"
for kv in NoNewPrivileges=yes ProtectSystem=strict StateDirectory=captrail \
	RuntimeDirectory=captrail ProtectKernelModules=yes RestrictNamespaces=yes; do
	[ "$(value "${kv%%=*}")" = "${kv#*=}" ] || fail "unit lacks $kv"
done
for dir in /var/lib/captrail /run/captrail; do
	value ReadWritePaths | tr ' ' '\n' | grep -qx "$dir" || fail "ReadWritePaths lacks $dir"
done
# ProtectKernelLogs= would take CAP_SYSLOG out of the bounding set
grep -q '^ProtectKernelLogs=yes' "$UNIT" && fail "ProtectKernelLogs=yes removes CAP_SYSLOG"
exposure=$(systemd-analyze security --offline=yes "$WORK/unit/captrail.service" 2>/dev/null |
	sed -n 's/.*Overall exposure level for captrail.service: \([0-9.]*\).*/\1/p')
note "unit: exposure level $exposure"
[ -n "$exposure" ] && "$PY" -c "import sys; sys.exit(0 if float('$exposure') < 5 else 1)" ||
	fail "exposure level '$exposure' is not below 5 (MEDIUM or worse)"

# --- DaemonSet ---
note "daemonset: parsed with PyYAML"
"$PY" - "$DS" "$NEEDED" <<'EOF' || fail "the DaemonSet lacks what the agent needs"
import sys, yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
needed = sorted(c[len("CAP_"):] for c in sys.argv[2].split())
ds = [d for d in docs if d.get("kind") == "DaemonSet"]
assert len(ds) == 1, "one DaemonSet"
pod = ds[0]["spec"]["template"]["spec"]
errors = []

def check(cond, what):
    if not cond:
        errors.append(what)

check(pod.get("hostPID") is True, "hostPID: true")
check(ds[0]["spec"]["selector"]["matchLabels"].items()
      <= ds[0]["spec"]["template"]["metadata"]["labels"].items(), "selector matches the labels")
volumes = {v["name"]: v for v in pod.get("volumes", [])}
containers = pod["containers"]
check(len(containers) == 1, "one container")
c = containers[0]
mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}

def host_mount(path, host_paths, writable=False):
    m = mounts.get(path)
    check(m is not None, f"a mount at {path}")
    if not m:
        return
    v = volumes.get(m["name"], {})
    check(v.get("hostPath", {}).get("path") in host_paths,
          f"{path} comes from the host's {' or '.join(host_paths)}")
    if writable:
        check(not m.get("readOnly"), f"{path} is writable")
    else:
        check(m.get("readOnly") is True, f"{path} is read-only")

host_mount("/sys/kernel/btf", ["/sys/kernel/btf"])
host_mount("/sys/fs/cgroup", ["/sys/fs/cgroup"])
if "/run/containerd" in mounts:
    host_mount("/run/containerd", ["/run/containerd"])
else:
    host_mount("/run", ["/run"])
host_mount("/var/log/pods", ["/var/log/pods"])
host_mount("/var/lib/captrail", ["/var/lib/captrail"], writable=True)

env = {e["name"]: e for e in c.get("env", [])}
check(env.get("NODE_NAME", {}).get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
      == "spec.nodeName", "NODE_NAME from fieldRef spec.nodeName")

ports = {p.get("name"): p for p in c.get("ports", [])}
port = ports.get("metrics", {}).get("containerPort")
check(port == 9464, "a container port named metrics, 9464")
args = c.get("args", [])
check(args[:1] == ["agent"], "runs the agent")
metrics = [a for a in args if a.startswith("--metrics=")] or \
    [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--metrics"]
check(len(metrics) == 1 and metrics[0].rsplit(":", 1)[-1] == str(port),
      "--metrics listens on the metrics port")
annotations = ds[0]["spec"]["template"]["metadata"].get("annotations", {})
check(annotations.get("prometheus.io/port") == str(port), "prometheus.io/port annotation")

sc = c.get("securityContext", {})
caps = sc.get("capabilities", {})
check(caps.get("drop") == ["ALL"], "capabilities drop ALL")
check(sorted(caps.get("add", [])) == needed, f"capabilities add {needed} (the unit's set)")
check(not sc.get("privileged"), "not privileged")
check(pod.get("automountServiceAccountToken") is False, "no service account token")

for e in errors:
    print("missing:", e)
sys.exit(1 if errors else 0)
EOF

# --- man page ---
note "man page: renders without warnings"
MANWIDTH=80 man --warnings -l "$MAN" >"$WORK/man.txt" 2>"$WORK/man.err" ||
	fail "man cannot render $MAN"
[ -s "$WORK/man.err" ] && { cat "$WORK/man.err"; fail "man page warnings"; }
for word in trace record agent events profile --metrics --export-max-backups \
	/run/captrail/captrail.sock; do
	grep -q -- "$word" "$WORK/man.txt" || fail "the man page does not mention $word"
done

# --- bash completion ---
note "completion: subcommands and options"
bash -n "$COMPLETION" || fail "completion script has syntax errors"
# It reads commands and options from the captrail it finds on PATH.
complete_words() {
	PATH=$(dirname "$bin"):$PATH bash -c '
		source "$1"; shift
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMPREPLY=()
		_captrail captrail
		echo "${COMPREPLY[*]}"' _ "$COMPLETION" "$@"
}
[ "$(complete_words captrail ag)" = agent ] || fail "'captrail ag' does not complete to agent"
complete_words captrail profile --p | grep -qw -- --pod || fail "profile --p lacks --pod"
[ "$(complete_words captrail profile --me)" = --merge ] || fail "profile --me is not --merge"
[ "$(complete_words captrail events -o j)" = json ] || fail "events -o j is not json"
note "ok"
