#!/bin/bash
# The cluster, for real: three `captrail agent`s stand for three nodes (each
# its own --node-name, store, socket and --metrics port, each watching only
# its "node's" pods by --cgroup-scope: every pod's cgroup is under its
# node's parent, /captrail-test-<id>/node-X/kubepods/...), scraped by a real
# Prometheus. Two replicas of the Deployment shop/checkout run on node-a
# (chowns: 3, then 2 more) and node-b (binds port 80 once); shop/cart runs
# on node-c (reads a file of mode 0 twice: CAP_DAC_OVERRIDE). `profile --prometheus
# --workload shop/Deployment/checkout` is the union with its coverage, and
# nothing of cart. node-a's agent is SIGKILLed and restarted on the same
# store and port: the profile is the same, and once the replica chowns
# twice more, its count is 5 (not 2 after the counter reset, nor doubled).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_pod.sh"
need_root
pod_available || skip "$POD_SKIP_REASON"
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
[ -x "$PROMETHEUS" ] || skip "no $PROMETHEUS (Debian package prometheus)"
command -v curl >/dev/null || skip "no curl"
command -v python3 >/dev/null || skip "no python3"
pod_v2_root >/dev/null || skip "no cgroup v2 hierarchy"

WL=shop/Deployment/checkout
CG=/captrail-test-$$-$RANDOM
A=checkout-7d4b9c6f5-x2x9q B=checkout-7d4b9c6f5-b8k2p C=cart-6c5d7b8f9-kq7wz
PROM_PID=
declare -A AGENT PORT
cleanup_hooks+=('for n in "${!AGENT[@]}"; do kill -KILL "${AGENT[$n]}" 2>/dev/null; done;
	[ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID"')

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_agent() { # NODE: its store, socket and metrics port stay the same across restarts
	local node=$1
	: >"$WORK/$node.err"
	"$CAPTRAIL" agent --node-name "$node" --db "$WORK/$node.db" --socket "$WORK/$node.sock" \
		--flush-interval 1 --metrics "127.0.0.1:${PORT[$node]}" --state-root "$POD_RUNC_ROOT" \
		--cgroup-scope "$CG/$node/" 2>>"$WORK/$node.err" &
	AGENT[$node]=$!
	TRACE_PID=${AGENT[$node]} wait_for "$WORK/$node.err" '^captrail agent: metrics on port' && return 0
	grep -q "cannot load the BPF programs" "$WORK/$node.err" &&
		skip "BPF programs cannot load here: $(head -n 1 "$WORK/$node.err")"
	fail "agent $node not ready: $(cat "$WORK/$node.err")"
}

# NODE POD CAPS CMD: a pod under NODE's cgroup parent; its /ctl is $WORK/POD.ctl
pod() {
	local node=$1 pod=$2 caps=$3 cmd=$4 ns=shop id
	id=$(pod_new_id)
	mkdir -p "$WORK/$pod.ctl"
	POD_CGROUP_PARENT=$CG/$node POD_CAPS=$caps pod_bundle "$WORK/$pod" $ns "$pod" app \
		busybox:1.36 "$(pod_new_uid)" "$id" /bin/sh -c "$cmd; exec sleep 600" ||
		fail "cannot write the bundle of $pod"
	jq --arg src "$WORK/$pod.ctl" '.mounts += [{ destination: "/ctl", type: "bind",
		source: $src, options: ["rbind", "rw"] }]' "$WORK/$pod/config.json" >"$WORK/$pod/c.json" &&
		mv "$WORK/$pod/c.json" "$WORK/$pod/config.json" && mkdir -p "$WORK/$pod/rootfs/ctl" ||
		fail "cannot add /ctl to $pod"
	pod_start "$id" "$WORK/$pod" || fail "$pod did not start"
}

# The agent's series, one line: NODE FAMILY LABELS (a grep -F substring)
agent_series() { curl -s "http://127.0.0.1:${PORT[$1]}/metrics" | grep "^captrail_workload_$2{" | grep -F "$3"; }
# NODE POD CAP VALUE: until NODE's agent counts VALUE checks of CAP by POD
wait_agent_count() {
	local i
	for ((i = 0; i < 300; i++)); do
		agent_series "$1" capability_checks_total "pod=\"$2\",capability=\"$3\"" |
			grep -q " $4\$" && return 0
		sleep 0.2
	done
	fail "$1 never counted $4 $3 of $2: $(agent_series "$1" capability_checks_total "")"
}

promql() { curl -sfG "$PROM/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'; }
# QUERY VALUE: until Prometheus answers VALUE
wait_prom() {
	local i
	for ((i = 0; i < 300; i++)); do
		[ "$(promql "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	fail "Prometheus: $1 is '$(promql "$1")', not $2"
}

# Refused before anything starts; were one taken, the agent stops within 10 s.
for bad in kubepods /a//b /a/../b /a/..; do
	timeout 10 "$CAPTRAIL" agent --db "$WORK/bad.db" --socket "$WORK/bad.sock" \
		--cgroup-scope "$bad" 2>"$WORK/bad.err"
	[ $? = 2 ] && grep -qxF "captrail agent: invalid cgroup path '$bad' (absolute, as in /proc/PID/cgroup)" \
		"$WORK/bad.err" || fail "--cgroup-scope $bad: $(cat "$WORK/bad.err")"
done

for node in node-a node-b node-c; do
	PORT[$node]=$(free_port)
	start_agent $node
done

PROM_PORT=$(free_port)
PROM=http://127.0.0.1:$PROM_PORT
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: captrail
    static_configs:
      - targets: ["127.0.0.1:${PORT[node-a]}", "127.0.0.1:${PORT[node-b]}", "127.0.0.1:${PORT[node-c]}"]
EOF
"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
	--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
for ((i = 0; i < 600; i++)); do
	curl -sf "$PROM/-/ready" >/dev/null && break
	kill -0 "$PROM_PID" 2>/dev/null || fail "Prometheus exited: $(tail -n 5 "$WORK/prometheus.log")"
	sleep 0.1
done
wait_prom 'count(up == 1)' 3

# FROM TO: one check of CAP_CHOWN each, a file of root's given away (busybox
# passes the file's group: root's, which needs no capability then).
chown_n() {
	local i cmd=
	for ((i = $1; i <= $2; i++)); do cmd+="touch /tmp/f$i; chown 11 /tmp/f$i; "; done
	echo "$cmd"
}
pod node-a $A CAP_CHOWN "$(chown_n 1 3) touch /ctl/one;
	while [ ! -e /ctl/go ]; do sleep 0.1; done; $(chown_n 4 5) touch /ctl/two"
pod node-b $B CAP_NET_BIND_SERVICE 'httpd -p 80 -h /tmp; touch /ctl/one'
pod node-c $C CAP_DAC_OVERRIDE 'touch /tmp/g; chmod 0 /tmp/g; cat /tmp/g; cat /tmp/g; touch /ctl/one'

wait_agent_count node-a $A CAP_CHOWN 3
wait_agent_count node-b $B CAP_NET_BIND_SERVICE 1
wait_agent_count node-c $C CAP_DAC_OVERRIDE 2
# Node scope: each agent has its own node's pod and no other.
for node in node-a node-b node-c; do
	[ "$(agent_series $node instances 'namespace="shop"' | wc -l)" = 1 ] ||
		fail "$node's instances: $(agent_series $node instances '')"
	out=$(curl -s "http://127.0.0.1:${PORT[$node]}/metrics" | sed -n 's/^captrail_out_of_scope_checks_total //p')
	[ "${out:-0}" -gt 0 ] || fail "$node counted no check of another node's pods out of scope"
done
"$CAPTRAIL" profile --socket "$WORK/node-a.sock" --pod shop/$B >/dev/null 2>&1 &&
	fail "node-a stored node-b's pod"
sel='namespace="shop",workload="checkout",container="app"'
wait_prom "sum(captrail_workload_capability_checks_total{$sel,capability=\"CAP_CHOWN\",class=\"required\"})" 3
wait_prom "sum(captrail_workload_capability_checks_total{$sel,capability=\"CAP_NET_BIND_SERVICE\",class=\"required\"})" 1
wait_prom 'sum(captrail_workload_capability_checks_total{workload="cart",class="required"})' 2

profile() { # NAME: the profile of $WL in $WORK/NAME.txt and NAME.json
	"$CAPTRAIL" profile --prometheus "$PROM" --since 1h --workload $WL >"$WORK/$1.txt" \
		2>"$WORK/$1.err" || fail "profile exited $?: $(cat "$WORK/$1.err")"
	[ -s "$WORK/$1.err" ] && fail "profile warned: $(cat "$WORK/$1.err")"
	"$CAPTRAIL" profile --prometheus "$PROM" --since 1h --workload $WL -o json >"$WORK/$1.json" ||
		fail "profile -o json exited $?"
}
count() { jq "[.capabilities[] | select(.name == \"$2\") | .granted] | add // 0" "$WORK/$1.json"; }
check_profile() { # NAME CHOWNS
	local line
	for line in "CAP_CHOWN: 1 of 2 replicas, on 1 of 2 nodes" \
		"CAP_NET_BIND_SERVICE: 1 of 2 replicas, on 1 of 2 nodes" \
		"workload   $WL" "replicas   2" "nodes      2" \
		"recommended: CAP_CHOWN CAP_NET_BIND_SERVICE"; do
		grep -qxF "  $line" "$WORK/$1.txt" || grep -qxF "$line" "$WORK/$1.txt" ||
			fail "$1: the text lacks '$line': $(cat "$WORK/$1.txt")"
	done
	grep -q "DAC_OVERRIDE" "$WORK/$1.txt" && fail "$1: cart's CAP_DAC_OVERRIDE is in checkout's profile"
	[ "$(profile_grant "$WORK/$1.json")" = "CHOWN NET_BIND_SERVICE" ] ||
		fail "$1: grant $(profile_grant "$WORK/$1.json")"
	[ "$(jq -c '[.coverage, .nodes, .instances]' "$WORK/$1.json")" = "[2,2,[\"$B\",\"$A\"]]" ] ||
		fail "$1: coverage $(jq -c '[.coverage, .nodes, .instances]' "$WORK/$1.json")"
	[ "$(count "$1" CAP_CHOWN)" = "$2" ] || fail "$1: CAP_CHOWN counted $(count "$1" CAP_CHOWN), want $2"
	[ "$(count "$1" CAP_NET_BIND_SERVICE)" = 1 ] ||
		fail "$1: CAP_NET_BIND_SERVICE counted $(count "$1" CAP_NET_BIND_SERVICE), want 1"
}
profile before
check_profile before 3
"$CAPTRAIL" profile --prometheus "$PROM" --since 1h --workload shop/Deployment/cart -o docker \
	>"$WORK/cart" 2>&1 || fail "cart: $(cat "$WORK/cart")"
[ "$(cat "$WORK/cart")" = "--cap-drop=ALL --cap-add=DAC_OVERRIDE" ] || fail "cart: $(cat "$WORK/cart")"

note "SIGKILL node-a's agent, restart it on its store and port"
kill -KILL "${AGENT[node-a]}"
wait "${AGENT[node-a]}" 2>/dev/null
start_agent node-a
restarted=$(date +%s)
# A scrape of the restarted agent, which has no series of the replica yet.
wait_prom "count(up{instance=\"127.0.0.1:${PORT[node-a]}\"} == 1 and
	timestamp(up{instance=\"127.0.0.1:${PORT[node-a]}\"}) > $restarted)" 1
profile restarted
check_profile restarted 3
# The same, but for the noaudit probes of the replica's waiting loop, which go on.
same() { grep -v noaudit "$WORK/$1.txt"; }
diff <(same before) <(same restarted) >&2 || fail "the profile changed with the restart"

touch "$WORK/$A.ctl/go"
for ((i = 0; i < 300; i++)); do
	[ -e "$WORK/$A.ctl/two" ] && break
	sleep 0.1
done
[ -e "$WORK/$A.ctl/two" ] || fail "replica $A did not chown again"
wait_agent_count node-a $A CAP_CHOWN 2
wait_prom "captrail_workload_capability_checks_total{node=\"node-a\",pod=\"$A\",capability=\"CAP_CHOWN\",class=\"required\"}" 2
profile after
check_profile after 5

note "captrail profile --prometheus $PROM --workload $WL (after the restart):"
sed 's/^/#   /' "$WORK/after.txt"
for node in node-a node-b node-c; do
	curl -s "http://127.0.0.1:${PORT[$node]}/metrics" >"$WORK/metrics-$node"
	for w in checkout cart; do
		note "$node's /metrics: $(grep -c "^captrail_workload_[a-z_]*{.*workload=\"$w\"" \
			"$WORK/metrics-$node") series of workload $w"
	done
	grep '^captrail_workload_[a-z_]*{' "$WORK/metrics-$node" | sed 's/^/#   /'
done
note "Prometheus: $(promql "count(captrail_workload_capability_checks_total{$sel})") check series and" \
	"$(promql "count(captrail_workload_instances{$sel})") instance series of checkout," \
	"$(promql 'count({__name__=~"captrail_workload_.*",workload="cart"})') of cart"
exit 0
