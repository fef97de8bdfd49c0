#!/bin/bash
# Workloads above the pod: two replica pods of the Deployment "checkout"
# (<deploy>-<hash>-<suffix>), one as CRI-O records a pod (its labels, with
# pod-template-hash, in the bundle's annotations), one as containerd does
# (no labels: the name says it), run under an agent scoped to their
# namespace, with a pod of another namespace beside them. Replica 1 chowns,
# replica 2 binds port 80. `profile --workload shop/Deployment/checkout` is
# the union, each capability with its coverage in replicas; /metrics has
# the replica series of the contract and nothing of the other namespace.
# A second agent ("node-b", its own store) sees a third replica chown:
# `profile --db A --db B --workload` merges both stores, 3 replicas.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pod.sh"
need_root
pod_available || skip "$POD_SKIP_REASON"
command -v curl >/dev/null || skip "curl is not installed"
PY=/usr/bin/python3
WL=shop/Deployment/checkout

AGENT=
start_agent() { # NODE: an agent for namespace shop, its store $WORK/NODE.db
	local node=$1
	: >"$WORK/agent.err"
	NODE_NAME=$node "$CAPTRAIL" agent --db "$WORK/$node.db" --socket "$WORK/$node.sock" \
		--flush-interval 1 --metrics 127.0.0.1:0 --state-root "$POD_RUNC_ROOT" \
		--namespaces shop 2>"$WORK/agent.err" &
	AGENT=$!
	cleanup_hooks+=("kill -KILL $AGENT 2>/dev/null")
	wait_agent '^captrail agent: metrics on port'
	METRICS_PORT=$(sed -n 's/^captrail agent: metrics on port //p' "$WORK/agent.err")
	SOCK=$WORK/$node.sock
}
stop_agent() {
	kill -INT "$AGENT"
	wait "$AGENT" || fail "agent exited $?: $(cat "$WORK/agent.err")"
}

# POD CAPS CMD: a replica of checkout, containerd's annotations (no labels)
replica() {
	local pod=$1 caps=$2 cmd=$3 id
	id=$(pod_new_id)
	POD_CAPS=$caps pod_bundle "$WORK/$pod" shop "$pod" app busybox:1.36 "$(pod_new_uid)" \
		"$id" /bin/sh -c "$cmd; echo done; exec sleep 600"
	echo "$id"
}
# The same bundle as CRI-O writes it: its keys, and the pod's labels.
as_crio() {
	local dir=$1 labels=$2
	jq --arg labels "$labels" '.annotations |= {
		"io.kubernetes.pod.namespace": .["io.kubernetes.cri.sandbox-namespace"],
		"io.kubernetes.pod.name": .["io.kubernetes.cri.sandbox-name"],
		"io.kubernetes.pod.uid": .["io.kubernetes.cri.sandbox-uid"],
		"io.kubernetes.container.name": .["io.kubernetes.cri.container-name"],
		"io.kubernetes.cri-o.ImageName": .["io.kubernetes.cri.image-name"],
		"io.kubernetes.cri-o.ContainerType": "container",
		"io.kubernetes.cri-o.Labels": $labels }' "$dir/config.json" >"$dir/config.crio" &&
		mv "$dir/config.crio" "$dir/config.json"
}

# WORKLOAD CAP [ARGS]: until the workload's profile grants CAP
wait_grant() {
	local i
	for ((i = 0; i < 150; i++)); do
		"$CAPTRAIL" profile "${@:3}" --workload "$1" -o json 2>/dev/null |
			jq -e --arg c "CAP_$2" '.grant | index($c)' >/dev/null && return 0
		sleep 0.2
	done
	return 1
}
coverage() { # FILE CAP: "instances/coverage" of CAP in a profile JSON
	jq -r --arg c "CAP_$2" '"\(.capabilities[] | select(.name == $c) | .instances)/\(.coverage)"' "$1"
}

start_agent node-a
r1=$(replica checkout-7d4b9c6f5-x2x9q "CAP_CHOWN" 'touch /tmp/f; chown 5 /tmp/f')
as_crio "$WORK/checkout-7d4b9c6f5-x2x9q" \
	'{"app":"checkout","pod-template-hash":"7d4b9c6f5"}' || fail "cannot write the CRI-O bundle"
r2=$(replica checkout-7d4b9c6f5-b8k2p "CAP_NET_BIND_SERVICE" 'httpd -p 80 -h /tmp')
other=$(pod_new_id)
POD_CAPS="CAP_CHOWN" pod_bundle "$WORK/other" other checkout-7d4b9c6f5-zzzzz app busybox:1.36 \
	"$(pod_new_uid)" "$other" /bin/sh -c 'touch /tmp/f; chown 7 /tmp/f; echo done; exec sleep 600'
pod_start "$r1" "$WORK/checkout-7d4b9c6f5-x2x9q" || fail "replica 1 did not start"
pod_start "$r2" "$WORK/checkout-7d4b9c6f5-b8k2p" || fail "replica 2 did not start"
pod_start "$other" "$WORK/other" || fail "the other namespace's pod did not start"

wait_grant $WL CHOWN --socket "$SOCK" || fail "no CHOWN: $("$CAPTRAIL" profile --socket "$SOCK" --workload $WL 2>&1)"
wait_grant $WL NET_BIND_SERVICE --socket "$SOCK" ||
	fail "no NET_BIND_SERVICE: $("$CAPTRAIL" profile --socket "$SOCK" --workload $WL 2>&1)"
"$CAPTRAIL" profile --socket "$SOCK" --workload $WL -o json >"$WORK/a.json" || fail "profile -o json"
[ "$(jq -r .workload "$WORK/a.json")" = $WL/app ] || fail "profile named $(jq -r .workload "$WORK/a.json")"
[ "$(jq -r .coverage_of "$WORK/a.json")" = replicas ] || fail "coverage of $(jq -r .coverage_of "$WORK/a.json")"
[ "$(jq -c '.instances' "$WORK/a.json")" = '["checkout-7d4b9c6f5-b8k2p","checkout-7d4b9c6f5-x2x9q"]' ] ||
	fail "replicas: $(jq -c .instances "$WORK/a.json")"
[ "$(coverage "$WORK/a.json" CHOWN)" = 1/2 ] || fail "CHOWN coverage $(coverage "$WORK/a.json" CHOWN)"
[ "$(coverage "$WORK/a.json" NET_BIND_SERVICE)" = 1/2 ] ||
	fail "NET_BIND_SERVICE coverage $(coverage "$WORK/a.json" NET_BIND_SERVICE)"
"$CAPTRAIL" profile --socket "$SOCK" --workload shop/deployment/checkout >"$WORK/a.txt" || fail "text"
grep -qx 'CAP_CHOWN: required; 1 of 2 replicas' "$WORK/a.txt" || fail "text: $(cat "$WORK/a.txt")"
grep -qx 'CAP_NET_BIND_SERVICE: required; 1 of 2 replicas' "$WORK/a.txt" || fail "text: $(cat "$WORK/a.txt")"
note "captrail profile --workload $WL (node-a):"
sed 's/^/#   /' "$WORK/a.txt"
# The other namespace is out of this agent's scope.
"$CAPTRAIL" profile --socket "$SOCK" --pod other/checkout-7d4b9c6f5-zzzzz >/dev/null 2>&1 &&
	fail "the agent stored a pod outside --namespaces"

# How each owner was derived, as the API's rows carry it.
$PY - "$SOCK" >"$WORK/how" <<'PYEOF' || fail "API rows: $(cat "$WORK/how")"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'{"version":1,"op":"profile","select":{"workload":"shop/Deployment/checkout"}}\n')
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk: break
    data += chunk
reply = json.loads(data.splitlines()[0])
for pod, how in sorted({(r["pod_name"], r["owner_how"]) for r in reply["profile"]}):
    print(pod, how)
PYEOF
grep -qx 'checkout-7d4b9c6f5-x2x9q label:pod-template-hash' "$WORK/how" || fail "owners: $(cat "$WORK/how")"
grep -qx 'checkout-7d4b9c6f5-b8k2p name-pattern' "$WORK/how" || fail "owners: $(cat "$WORK/how")"

# The contract's series, for both replicas, and none of the other namespace.
curl -s "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/metrics" || fail "no /metrics"
series() { grep -c "^captrail_workload_$1{node=\"node-a\",namespace=\"shop\",workload_kind=\"Deployment\",workload=\"checkout\",container=\"app\",$2" "$WORK/metrics"; }
[ "$(series capability_checks_total 'pod="checkout-7d4b9c6f5-x2x9q",capability="CAP_CHOWN",class="required"}')" = 1 ] ||
	fail "no CHOWN series of replica 1: $(grep workload_ "$WORK/metrics")"
[ "$(series capability_checks_total 'pod="checkout-7d4b9c6f5-b8k2p",capability="CAP_NET_BIND_SERVICE",class="required"}')" = 1 ] ||
	fail "no NET_BIND_SERVICE series of replica 2: $(grep workload_ "$WORK/metrics")"
[ "$(series instances 'pod="checkout-7d4b9c6f5-')" = 2 ] || fail "instances: $(grep workload_instances "$WORK/metrics")"
! grep -q 'namespace="other"' "$WORK/metrics" || fail "series of the other namespace: $(grep other "$WORK/metrics")"
grep -q '^captrail_workload_series_overflow_total 0$' "$WORK/metrics" || fail "series overflowed"
out=$(sed -n 's/^captrail_out_of_scope_checks_total //p' "$WORK/metrics")
[ "${out:-0}" -gt 0 ] || fail "the other namespace's checks were not counted as out of scope"
note "node-a: $(grep -c '^captrail_workload_[a-z_]*{.*workload="checkout"' "$WORK/metrics") series of workload checkout"
grep '^captrail_workload_[a-z_]*{.*workload="checkout"' "$WORK/metrics" | sed 's/^/#   /'
stop_agent

# A second node's store: a third replica chowns there.
start_agent node-b
r3=$(replica checkout-7d4b9c6f5-q8d2n "CAP_CHOWN" 'touch /tmp/f; chown 6 /tmp/f')
pod_start "$r3" "$WORK/checkout-7d4b9c6f5-q8d2n" || fail "replica 3 did not start"
wait_grant $WL CHOWN --socket "$SOCK" || fail "node-b: no CHOWN"
curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep -q '^captrail_workload_instances{node="node-b",namespace="shop",workload_kind="Deployment",workload="checkout",container="app",pod="checkout-7d4b9c6f5-q8d2n"} 1$' ||
	fail "node-b has no instance series of replica 3"
stop_agent

"$CAPTRAIL" profile --db "$WORK/node-a.db" --db "$WORK/node-b.db" --workload $WL -o json \
	>"$WORK/ab.json" 2>"$WORK/ab.err" || fail "profile of two stores exited $?: $(cat "$WORK/ab.err")"
[ "$(jq .coverage "$WORK/ab.json")" = 3 ] || fail "replicas of both stores: $(jq -c .instances "$WORK/ab.json")"
[ "$(coverage "$WORK/ab.json" CHOWN)" = 2/3 ] || fail "merged CHOWN coverage $(coverage "$WORK/ab.json" CHOWN)"
[ "$(coverage "$WORK/ab.json" NET_BIND_SERVICE)" = 1/3 ] ||
	fail "merged NET_BIND_SERVICE coverage $(coverage "$WORK/ab.json" NET_BIND_SERVICE)"
[ ! -s "$WORK/ab.err" ] || fail "warnings: $(cat "$WORK/ab.err")"
"$CAPTRAIL" profile --db "$WORK/node-a.db" --db "$WORK/node-b.db" --workload $WL >"$WORK/ab.txt"
note "captrail profile --db node-a.db --db node-b.db --workload $WL:"
sed 's/^/#   /' "$WORK/ab.txt"
# Every selection reads across the stores: --all has both nodes' pods.
"$CAPTRAIL" profile --db "$WORK/node-a.db" --db "$WORK/node-b.db" --all -o json |
	jq -r '.[].workload' | grep -c '^shop/checkout-7d4b9c6f5-' | grep -qx 3 || fail "--all of two stores"
# A store given twice is read once: the counts stay those of one reading.
"$CAPTRAIL" profile --db "$WORK/node-a.db" --db "$WORK/node-a.db" --workload $WL -o json \
	>"$WORK/aa.json" 2>"$WORK/aa.err" || fail "the same store twice exited $?"
grep -q "store $WORK/node-a.db was given already: read once" "$WORK/aa.err" || fail "no warning: $(cat "$WORK/aa.err")"
"$CAPTRAIL" profile --db "$WORK/node-a.db" --workload $WL -o json >"$WORK/a1.json" || fail "node-a alone"
[ "$(jq -S .capabilities "$WORK/aa.json")" = "$(jq -S .capabilities "$WORK/a1.json")" ] &&
	[ "$(jq .coverage "$WORK/aa.json")" = 2 ] || fail "the same store twice: $(jq -c . "$WORK/aa.json")"
# Bad selections are usage errors.
"$CAPTRAIL" profile --db "$WORK/node-a.db" --workload shop/ReplicaSet/checkout >/dev/null 2>"$WORK/bad.err"
[ $? -eq 2 ] && grep -q "invalid workload 'shop/ReplicaSet/checkout'" "$WORK/bad.err" ||
	fail "bad kind: $(cat "$WORK/bad.err")"
"$CAPTRAIL" profile --db "$WORK/node-a.db" --workload shop/Deployment/nothere >/dev/null 2>"$WORK/bad.err"
[ $? -eq 1 ] && grep -q "no capability checks recorded for workload shop/Deployment/nothere" "$WORK/bad.err" ||
	fail "unknown workload: $(cat "$WORK/bad.err")"
exit 0
