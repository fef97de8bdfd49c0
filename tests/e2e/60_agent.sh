#!/bin/bash
# The node agent: two runc pods run known workloads; the event stream of one
# pod shows only that pod; each pod's profile has what it needs; the store
# survives SIGKILL and counts continue; a real Prometheus scrapes the
# metrics; bad clients get errors without disturbing the others.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pod.sh"
need_root
pod_available || skip "$POD_SKIP_REASON"
command -v prometheus >/dev/null || fail "prometheus is not installed (scripts/install-deps.sh)"
PY=/usr/bin/python3

DB=$WORK/captrail.db SOCK=$WORK/run/captrail.sock AGENT=
start_agent() {
	: >"$WORK/agent.err"
	"$CAPTRAIL" agent --db "$DB" --socket "$SOCK" --flush-interval 1 \
		--metrics 127.0.0.1:0 --state-root "$POD_RUNC_ROOT" 2>"$WORK/agent.err" &
	AGENT=$!
	cleanup_hooks+=("kill -KILL $AGENT 2>/dev/null")
	wait_for "$WORK/agent.err" '^captrail agent: metrics on port' || fail "agent not ready: $(cat "$WORK/agent.err")"
	METRICS_PORT=$(sed -n 's/^captrail agent: metrics on port //p' "$WORK/agent.err")
}
start_agent

# A stream filtered to one pod, started before the pods.
"$CAPTRAIL" events --socket "$SOCK" --namespaces default --pods xwing -o json \
	>"$WORK/xwing.events" 2>"$WORK/events.err" &
EVENTS=$!
cleanup_hooks+=("kill -KILL $EVENTS 2>/dev/null")
wait_for "$WORK/events.err" 'ready, streaming' || fail "events client not ready: $(cat "$WORK/events.err")"

# xwing chowns a file and is denied dmesg; tiefighter binds port 80.
xwing=$(pod_new_id) tie=$(pod_new_id)
POD_CAPS="CAP_CHOWN CAP_AUDIT_WRITE CAP_KILL" pod_bundle "$WORK/xwing" default xwing spaceship \
	busybox:1.35 "$(pod_new_uid)" "$xwing" /bin/sh -c \
	'touch /tmp/f; chown 5 /tmp/f; dmesg >/dev/null 2>&1; echo done; exec sleep 600'
POD_CAPS="CAP_NET_BIND_SERVICE" pod_bundle "$WORK/tie" default tiefighter cockpit \
	busybox:1.35 "$(pod_new_uid)" "$tie" /bin/sh -c \
	'httpd -p 80 -h /tmp; echo done; exec sleep 600'
pod_start "$xwing" "$WORK/xwing" || fail "xwing did not start"
pod_start "$tie" "$WORK/tie" || fail "tiefighter did not start"
wait_for "$WORK/xwing.events" '"value":34' || fail "no CAP_SYSLOG event in the xwing stream"

others=$(jq -c 'select(.process_kprobe.process.pod.name != "xwing")' "$WORK/xwing.events" | wc -l)
[ "$others" -eq 0 ] || fail "the xwing stream carried $others events of other workloads"
jq -e 'select(.process_kprobe.process.pod.container.name == "spaceship")' "$WORK/xwing.events" \
	>/dev/null || fail "no spaceship events in the xwing stream"

profile() { "$CAPTRAIL" profile --socket "$SOCK" "$@"; }
wait_profile() { # POD CAP: until the pod's profile lists CAP
	local i
	for ((i = 0; i < 100; i++)); do
		profile --pod "default/$1" -o json 2>/dev/null | jq -e --arg c "CAP_$2" \
			'(if type == "array" then .[] else . end) | .grant | index($c)' >/dev/null && return 0
		sleep 0.2
	done
	return 1
}
wait_profile xwing CHOWN || fail "xwing's profile never listed CHOWN: $(profile --pod default/xwing -o text 2>&1)"
wait_profile tiefighter NET_BIND_SERVICE || fail "tiefighter's profile never listed NET_BIND_SERVICE"

profile --pod default/xwing -o k8s >"$WORK/xwing.yaml" || fail "profile -o k8s failed"
[ "$(/usr/bin/python3 -c 'import sys,yaml; d=yaml.safe_load(open(sys.argv[1]))
print(" ".join(d["securityContext"]["capabilities"]["add"]))' "$WORK/xwing.yaml")" = CHOWN ] ||
	fail "xwing k8s add list: $(cat "$WORK/xwing.yaml")"
profile --pod default/tiefighter -o k8s >"$WORK/tie.yaml"
[ "$(/usr/bin/python3 -c 'import sys,yaml; d=yaml.safe_load(open(sys.argv[1]))
print(" ".join(d["securityContext"]["capabilities"]["add"]))' "$WORK/tie.yaml")" = NET_BIND_SERVICE ] ||
	fail "tiefighter k8s add list: $(cat "$WORK/tie.yaml")"
# What a reader of this test's output (run directly) sees of the two pods.
for pod in xwing tiefighter; do
	note "captrail profile --pod default/$pod -o text:"
	profile --pod "default/$pod" -o text | sed 's/^/#   /'
done
note "captrail profile --pod default/xwing -o k8s:"
sed 's/^/#   /' "$WORK/xwing.yaml"
profile --pod default/xwing -o json | jq -e '(if type == "array" then .[] else . end)
	| .classes.denied | index("CAP_SYSLOG")' >/dev/null || fail "xwing's SYSLOG denial is not reported"

# Misbehaving clients get an error reply; the stream keeps flowing.
$PY - "$SOCK" <<'PYEOF' || fail "bad clients were not answered with errors"
import json, socket, sys
def ask(payload):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(payload)
    s.shutdown(socket.SHUT_WR); data = s.recv(65536); s.close(); return data
for bad in (b"garbage\n", b'{"version":99,"op":"events"}\n', b'{"version":1,"op":"nope"}\n',
            b'{"version":1,"op":"events","filter":' + b'[' * 200000 + b'\n'):
    reply = json.loads(ask(bad).splitlines()[0])
    assert "error" in reply, (bad[:40], reply)
PYEOF
kill -0 $EVENTS || fail "the events client died"
# A non-root user cannot reach the socket.
if setpriv --reuid=65534 --regid=65534 --clear-groups "$CAPTRAIL" profile --socket "$SOCK" --all \
	>/dev/null 2>"$WORK/nobody.err"; then
	fail "uid 65534 could query the agent"
fi
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode is $(stat -c %a "$SOCK")"

# A real Prometheus scrapes the metrics and answers a query on them.
PROM_PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$WORK/prometheus.yml" <<YAML
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: captrail
    static_configs: [ { targets: ["127.0.0.1:$METRICS_PORT"] } ]
YAML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
	--web.listen-address="127.0.0.1:$PROM_PORT" >"$WORK/prom.log" 2>&1 &
cleanup_hooks+=("kill -KILL $! 2>/dev/null")
query='captrail_checks_total{capability="CAP_SYSLOG",verdict="denied"}'
for ((i = 0; i < 300; i++)); do
	result=$(curl -sG "http://127.0.0.1:$PROM_PORT/api/v1/query" --data-urlencode "query=$query" 2>/dev/null)
	[ "$(jq -r '.data.result | length' <<<"$result" 2>/dev/null)" -gt 0 ] 2>/dev/null && break
	sleep 0.2
done
jq -e '.data.result[] | select(.metric.workload == "default/xwing/spaceship")' <<<"$result" >/dev/null ||
	fail "prometheus has no CAP_SYSLOG series for xwing: $result"
note "prometheus query $query: $(jq -c '[.data.result[] | {workload: .metric.workload, value: .value[1]}]' <<<"$result")"

# SIGKILL the agent, restart it, run the workload again: counts continue.
before=$(profile --pod default/xwing -o json | jq '[(if type == "array" then .[] else . end)
	| .capabilities[] | select(.name == "CAP_CHOWN") | .granted] | add')
kill -KILL $AGENT; wait $AGENT 2>/dev/null
start_agent
runc --root "$POD_RUNC_ROOT" exec "$xwing" /bin/sh -c 'chown 6 /tmp/f' || fail "runc exec failed"
for ((i = 0; i < 100; i++)); do
	after=$(profile --pod default/xwing -o json 2>/dev/null | jq '[(if type == "array" then .[] else . end)
		| .capabilities[] | select(.name == "CAP_CHOWN") | .granted] | add')
	[ "${after:-0}" -gt "$before" ] && break
	sleep 0.2
done
[ "${after:-0}" -gt "$before" ] || fail "CHOWN count did not continue after restart: before $before, after $after"
kill -INT $AGENT; wait $AGENT || fail "agent exited $? on SIGINT"
