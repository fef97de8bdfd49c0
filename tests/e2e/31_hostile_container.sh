#!/bin/bash
# A hostile pod: its four CRI annotations that name it (namespace, pod,
# container, image) are 1 MiB each, the image's of multibyte characters.
# Every `trace -o json` event and every line of the agent's export stays
# small; the pod's names are cut at a character boundary and end with the
# mark (U+2026); the agent keeps flushing its store and `profile` answers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pod.sh"
need_root
pod_available || skip "$POD_SKIP_REASON"
PY=/usr/bin/python3
[ -x "$PY" ] || skip "no $PY"
MAX_LINE=65536 # bytes: one event, with both pods (process and parent)

id=$(pod_new_id)
POD_CAPS=CAP_CHOWN pod_bundle "$WORK/bundle" hostile hostile c busybox:1.36 "$(pod_new_uid)" "$id" \
	/bin/sh -c 'touch /tmp/f; chown 5 /tmp/f; echo done; exec sleep 600' || fail "no bundle"
# jq cannot take 1 MiB arguments (the kernel's limit is 128 KiB each).
$PY - "$WORK/bundle/config.json" <<'PYEOF' || fail "cannot write the annotations"
import json, sys
path = sys.argv[1]
config = json.load(open(path))
mib = 1 << 20
config["annotations"].update({
    "io.kubernetes.cri.sandbox-namespace": "n" * mib,
    "io.kubernetes.cri.sandbox-name": "p" * mib,
    "io.kubernetes.cri.container-name": "c" * mib,
    "io.kubernetes.cri.image-name": "\u00e9" * (mib // 2),
})
json.dump(config, open(path, "w"), ensure_ascii=False)
PYEOF

DB=$WORK/captrail.db SOCK=$WORK/captrail.sock
"$CAPTRAIL" agent --db "$DB" --socket "$SOCK" --flush-interval 1 --export "$WORK/export.jsonl" \
	--metrics 127.0.0.1:0 \
	--state-root "$POD_RUNC_ROOT" 2>"$WORK/agent.err" &
AGENT=$!
cleanup_hooks+=("kill -KILL $AGENT 2>/dev/null")
wait_agent
start_trace -o json --containers-only --state-root "$POD_RUNC_ROOT"

pod_start "$id" "$WORK/bundle" || fail "the pod did not start"
wait_event 'pppppppppppppppp.*"CAP_CHOWN"'
stop_trace
[ "$TRACE_RC" -eq 0 ] || fail "trace exited $TRACE_RC: $(cat "$WORK/err")"

# Every line small; the pod's names cut, marked, whole characters.
check_lines() { # FILE WHAT
	$PY - "$1" "$2" "$MAX_LINE" <<'PYEOF'
import json, sys
path, what, max_line = sys.argv[1], sys.argv[2], int(sys.argv[3])
mark = "\u2026"
bounds = {"namespace": 256, "name": 256, "container.name": 256, "container.image.name": 512}
seen = largest = 0
for n, line in enumerate(open(path, "rb"), 1):
    if len(line) > max_line:
        sys.exit(f"{what} line {n} is {len(line)} bytes")
    if b"pppppppppppppppp" not in line:
        continue
    event = json.loads(line.decode("utf-8"))["process_kprobe"]
    for who in ("process", "parent"):
        pod = event.get(who, {}).get("pod")
        if not pod or not pod.get("name", "").startswith("pppppppp"):
            continue # grep's arguments, say
        values = {"namespace": pod["namespace"], "name": pod["name"],
                  "container.name": pod["container"]["name"],
                  "container.image.name": pod["container"]["image"]["name"]}
        for key, value in values.items():
            size = len(value.encode("utf-8"))
            if size > bounds[key] or not value.endswith(mark):
                sys.exit(f"{what} line {n}: {who}.pod.{key} is {size} bytes, "
                         f"ends {value[-3:]!r}")
            if set(value[:-1]) != {{"namespace": "n", "name": "p", "container.name": "c",
                                    "container.image.name": "\u00e9"}[key]}:
                sys.exit(f"{what} line {n}: {who}.pod.{key} is not a cut of the annotation")
        seen += 1
        largest = max(largest, len(line))
if not seen:
    sys.exit(f"no event of the hostile pod in the {what}")
print(f"# {what}: {seen} pods named in events of the hostile pod, the largest line "
      f"{largest} bytes, none over {max_line}")
PYEOF
}
check_lines "$WORK/out" "trace output" || fail "trace output is not bounded"

# The agent: profile answers, its store names the pod by its cut names,
# and a later check is flushed too.
profile_chown() { # the pod's CAP_CHOWN count in the agent's profiles
	timeout 60 "$CAPTRAIL" profile --socket "$SOCK" --all -o json | jq '
		[(if type == "array" then .[] else . end)
		 | select(.workload | startswith("nnnnnnnn"))
		 | .capabilities[] | select(.name == "CAP_CHOWN") | .granted] | add // 0'
}
before=$(profile_chown) || fail "profile did not answer: $(cat "$WORK/agent.err")"
[ "${before:-0}" -gt 0 ] || fail "the hostile pod has no CAP_CHOWN in the agent's profiles"
timeout 60 "$CAPTRAIL" profile --socket "$SOCK" --all -o json | jq -r '
	(if type == "array" then .[] else . end) | .workload | select(startswith("nnnnnnnn"))' |
	$PY -c '
import sys
names = sys.stdin.read().split("\n")[0]
assert len(names.encode()) <= 3 * 256 + 2 and names.count("\u2026") == 3, names[:80]
print("# workload name:", len(names.encode()), "bytes")' ||
	fail "the workload's name is not bounded"
_pod_runc exec "$id" /bin/chown 6 /tmp/f || fail "runc exec failed"
for ((i = 0; i < 100; i++)); do
	after=$(profile_chown)
	[ "${after:-0}" -gt "$before" ] && break
	sleep 0.2
done
[ "${after:-0}" -gt "$before" ] || fail "the store stopped growing: CHOWN $before, then $after"
check_lines "$WORK/export.jsonl" "export" || fail "the export is not bounded"
# What was cut is counted where the node's operators look.
port=$(sed -n 's/^captrail agent: metrics on port \([0-9]*\).*/\1/p' "$WORK/agent.err" | head -n 1)
cut_total=$(curl -sf "http://127.0.0.1:$port/metrics" |
	awk '$1 == "captrail_container_metadata_cut_total" { print $2 }')
[ "${cut_total:-0}" -ge 4 ] ||
	fail "captrail_container_metadata_cut_total is '${cut_total:-missing}', want >= 4"
kill -INT $AGENT
wait $AGENT || fail "agent exited $? on SIGINT: $(cat "$WORK/agent.err")"
