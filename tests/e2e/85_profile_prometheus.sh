#!/bin/bash
# profile --prometheus: a real Prometheus (the Debian package) scrapes three
# "nodes" and captrail asks it for one Deployment's profile. The nodes'
# /metrics are served by tests/e2e/fake_agents.py in the agent's format
# (the two families of the README's "Metrics"), so the test decides what
# each scrape sees: replica checkout-...-aaaaa on node-a restarts its agent
# (CAP_CHOWN drops from 5 to 2, then grows to 4: 9 checks, not 4 nor 11)
# and gains CAP_NET_BIND_SERVICE mid-window (its first value counts);
# replica -bbbbb on node-b has CAP_CHOWN 3 and a denial that appears
# mid-window; replica -ccccc on node-c made no check; cart (another
# Deployment) and checkout of another namespace have capabilities of their
# own, which must stay out. Then the errors: no such workload, Prometheus
# stopped, an HTTP error, a refused query, bad options.
#
# To run real agents instead, start_nodes and set_node are the two places:
# an agent per node (its own NODE_NAME, store, socket and --metrics port)
# and the workloads' processes instead of written files.
. "$(dirname "$0")/lib.sh"
[ -x "$CAPTRAIL" ] || fail "no captrail binary at $CAPTRAIL"
PROMETHEUS=${PROMETHEUS:-/usr/bin/prometheus}
[ -x "$PROMETHEUS" ] || skip "no $PROMETHEUS (Debian package prometheus)"
command -v python3 >/dev/null || skip "no python3"
command -v curl >/dev/null || skip "no curl"

NODES="node-a node-b node-c"
FAKE_PID= PROM_PID=
cleanup_hooks+=('[ -n "$FAKE_PID" ] && kill "$FAKE_PID" 2>/dev/null; [ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID"')

# --- the nodes ---
checks() { # NODE NS WORKLOAD POD CAP CLASS OUTCOME VALUE
	local outcome=
	[ -n "$7" ] && outcome=",outcome=\"$7\""
	echo "captrail_workload_capability_checks_total{node=\"$1\",namespace=\"$2\",workload_kind=\"Deployment\",workload=\"$3\",container=\"app\",pod=\"$4\",capability=\"$5\",class=\"$6\"$outcome} $8"
}
instance() { # NODE NS WORKLOAD POD
	echo "captrail_workload_instances{node=\"$1\",namespace=\"$2\",workload_kind=\"Deployment\",workload=\"$3\",container=\"app\",pod=\"$4\"} 1"
}

# set_node NODE GEN: what NODE's next scrapes see, from stdin: "checks" and
# "instance" lines, and the generation the test waits for.
set_node() {
	{
		echo "# TYPE captrail_workload_capability_checks_total counter"
		grep '^captrail_workload_capability_checks_total' "$WORK/$1.in"
		echo "# TYPE captrail_workload_instances gauge"
		grep '^captrail_workload_instances' "$WORK/$1.in"
		echo "# TYPE captrail_test_generation gauge"
		echo "captrail_test_generation{node=\"$1\"} $2"
	} >"$WORK/nodes/$1.prom.tmp"
	mv "$WORK/nodes/$1.prom.tmp" "$WORK/nodes/$1.prom"
}

start_nodes() {
	mkdir -p "$WORK/nodes"
	for node in $NODES; do : >"$WORK/$node.in"; set_node "$node" 0; done
	python3 "$(dirname "$0")/fake_agents.py" "$WORK/nodes" "$WORK/ports" $NODES &
	FAKE_PID=$!
	wait_for "$WORK/ports" "node-c" || fail "the fake agents did not start"
	TARGETS=$(awk '{printf "%s\"127.0.0.1:%s\"", (NR > 1 ? ", " : ""), $2}' "$WORK/ports")
	FAKE_PORT=$(awk 'NR == 1 {print $2}' "$WORK/ports")
}

# --- Prometheus ---
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_prometheus() {
	PROM_PORT=$(free_port)
	PROM=http://127.0.0.1:$PROM_PORT
	cat >"$WORK/prometheus.yml" <<-EOF
	global:
	  scrape_interval: 1s
	  scrape_timeout: 1s
	scrape_configs:
	  - job_name: captrail
	    static_configs:
	      - targets: [$TARGETS]
	EOF
	"$PROMETHEUS" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
		--web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn \
		>"$WORK/prometheus.log" 2>&1 &
	PROM_PID=$!
	local i
	for ((i = 0; i < 600; i++)); do
		curl -sf "$PROM/-/ready" >/dev/null && return 0
		kill -0 "$PROM_PID" 2>/dev/null || break
		sleep 0.1
	done
	fail "Prometheus did not become ready: $(tail -n 5 "$WORK/prometheus.log")"
}

promql() { curl -sfG "$PROM/api/v1/query" --data-urlencode "query=$1"; }

# wait_scraped GEN: until Prometheus holds a scrape of generation GEN from
# every node (each scrape is one exposition: its other series are in too).
wait_scraped() {
	local i n
	for ((i = 0; i < 600; i++)); do
		n=$(promql "count(captrail_test_generation == $1)" | jq -r '.data.result[0].value[1] // 0')
		[ "$n" = 3 ] && return 0
		sleep 0.1
	done
	fail "Prometheus did not scrape generation $1 of every node"
}

start_nodes
start_prometheus
note "Prometheus $PROM scraping $TARGETS"

A=checkout-7d4b9c6f5-aaaaa B=checkout-7d4b9c6f5-bbbbb C=checkout-7d4b9c6f5-ccccc
# generation 1: before node-a's agent restarts
cat >"$WORK/node-a.in" <<EOF
$(instance node-a shop checkout $A)
$(checks node-a shop checkout $A CAP_CHOWN required "" 5)
$(checks node-a shop checkout $A CAP_SETUID runtime "" 7)
EOF
cat >"$WORK/node-b.in" <<EOF
$(instance node-b shop checkout $B)
$(checks node-b shop checkout $B CAP_CHOWN required "" 3)
$(instance node-b other checkout checkout-5f6b7c8d9-zzzzz)
$(checks node-b other checkout checkout-5f6b7c8d9-zzzzz CAP_KILL required "" 6)
EOF
cat >"$WORK/node-c.in" <<EOF
$(instance node-c shop checkout $C)
$(instance node-c shop cart cart-6c5d7b8f9-xxxxx)
$(checks node-c shop cart cart-6c5d7b8f9-xxxxx CAP_SYS_ADMIN required "" 4)
EOF
for node in $NODES; do set_node $node 1; done
wait_scraped 1

# generation 2: node-a's agent restarted (its counters start again) and
# its replica binds a port; node-b's replica is denied once.
cat >"$WORK/node-a.in" <<EOF
$(instance node-a shop checkout $A)
$(checks node-a shop checkout $A CAP_CHOWN required "" 2)
$(checks node-a shop checkout $A CAP_NET_BIND_SERVICE required "" 2)
EOF
cat >>"$WORK/node-b.in" <<EOF
$(checks node-b shop checkout $B CAP_SYS_PTRACE denied mattered 1)
EOF
for node in $NODES; do set_node $node 2; done
wait_scraped 2

# generation 3: node-a's replica chowns twice more.
sed -i 's/\(CAP_CHOWN",class="required"} \)2$/\14/' "$WORK/node-a.in"
for node in $NODES; do set_node $node 3; done
wait_scraped 3
# What increase() would have said, for the record: fractions, and nothing
# for a counter born inside the window.
increase() {
	promql "sum(increase(captrail_workload_capability_checks_total{namespace=\"shop\",
		workload=\"checkout\",capability=\"$1\"}[1h]))" | jq -r '.data.result[0].value[1] // 0'
}
note "increase() says CAP_CHOWN $(increase CAP_CHOWN), CAP_NET_BIND_SERVICE" \
	"$(increase CAP_NET_BIND_SERVICE); the samples say 12 and 2"

# --- the profile ---
profile() { "$CAPTRAIL" profile --prometheus "$PROM" --since 1h "$@"; }

note "text"
profile --workload shop/Deployment/checkout >"$WORK/text" 2>"$WORK/text.err" ||
	fail "profile exited $?: $(cat "$WORK/text.err")"
[ -s "$WORK/text.err" ] && fail "profile warned: $(cat "$WORK/text.err")"
sed 's/^/    /' "$WORK/text"
for line in "CAP_CHOWN: 2 of 3 replicas, on 2 of 3 nodes" \
	"CAP_NET_BIND_SERVICE: 1 of 3 replicas, on 1 of 3 nodes" \
	"CAP_SYS_PTRACE: 1 of 3 replicas, on 1 of 3 nodes" \
	"workload   shop/Deployment/checkout" "replicas   3" "nodes      3" \
	"recommended: CAP_CHOWN CAP_NET_BIND_SERVICE"; do
	grep -qxF "  $line" "$WORK/text" || grep -qxF "$line" "$WORK/text" ||
		fail "the text lacks '$line'"
done
grep -q "^CAP_SYS_PTRACE: denied only.*mattered" "$WORK/text" ||
	fail "CAP_SYS_PTRACE is not a denial that mattered"
grep -qE "SYS_ADMIN|CAP_KILL|CAP_SETUID" "$WORK/text" &&
	fail "another workload's (or the runtime's) capability is in the profile"

note "json"
profile --workload shop/Deployment/checkout -o json >"$WORK/p.json" 2>"$WORK/json.err" ||
	fail "profile -o json exited $?: $(cat "$WORK/json.err")"
count() { jq "[.capabilities[] | select(.name == \"$1\") | .$2] | add // 0" "$WORK/p.json"; }
[ "$(count CAP_CHOWN granted)" = 12 ] ||
	fail "CAP_CHOWN counted $(count CAP_CHOWN granted) times, want 12 (5 + 4 after the reset, 3)"
[ "$(count CAP_NET_BIND_SERVICE granted)" = 2 ] ||
	fail "CAP_NET_BIND_SERVICE counted $(count CAP_NET_BIND_SERVICE granted), want its first 2"
[ "$(count CAP_SYS_PTRACE denied)" = 1 ] ||
	fail "CAP_SYS_PTRACE denied $(count CAP_SYS_PTRACE denied) times, want 1"
[ "$(profile_grant "$WORK/p.json")" = "CHOWN NET_BIND_SERVICE" ] ||
	fail "grant: $(profile_grant "$WORK/p.json")"
[ "$(jq -c '[.coverage, .nodes, .instances]' "$WORK/p.json")" = "[3,3,[\"$A\",\"$B\",\"$C\"]]" ] ||
	fail "coverage: $(jq -c '[.coverage, .nodes, .instances]' "$WORK/p.json")"
[ "$(jq -c '[.capabilities[] | [.name, .instances, .nodes]]' "$WORK/p.json")" = \
	'[["CAP_CHOWN",2,2],["CAP_NET_BIND_SERVICE",1,1],["CAP_SYS_PTRACE",1,1]]' ] ||
	fail "per capability: $(jq -c '[.capabilities[] | [.name, .instances, .nodes]]' "$WORK/p.json")"
jq -e '.capabilities[] | select(.name == "CAP_SYS_PTRACE") | .checks[0].outcome == "mattered"' \
	"$WORK/p.json" >/dev/null || fail "CAP_SYS_PTRACE's outcome is not 'mattered'"
# What the JSON says reads back.
"$CAPTRAIL" profile --merge "$WORK/p.json" -o json >/dev/null 2>"$WORK/back.err" ||
	fail "the JSON does not read back: $(cat "$WORK/back.err")"

note "k8s"
profile --workload shop/Deployment/checkout -o k8s >"$WORK/k8s" 2>"$WORK/k8s.err" ||
	fail "profile -o k8s exited $?: $(cat "$WORK/k8s.err")"
grep -qxF "    add: [CHOWN, NET_BIND_SERVICE]" "$WORK/k8s" || fail "k8s: $(cat "$WORK/k8s")"
grep -qxF "#   CAP_CHOWN: 2 of 3 replicas, on 2 of 3 nodes" "$WORK/k8s" ||
	fail "k8s lacks the coverage comment: $(cat "$WORK/k8s")"
python3 -c 'import sys, yaml; yaml.safe_load(open(sys.argv[1]))' "$WORK/k8s" ||
	fail "k8s is not YAML"

note "the other workloads"
profile --workload other/Deployment/checkout -o json >"$WORK/other.json" 2>&1 ||
	fail "other/checkout: $(cat "$WORK/other.json")"
[ "$(profile_grant "$WORK/other.json")" = KILL ] || fail "other/checkout: $(profile_grant "$WORK/other.json")"
profile --workload shop/Deployment/cart -o docker >"$WORK/cart" 2>&1 || fail "cart: $(cat "$WORK/cart")"
[ "$(cat "$WORK/cart")" = "--cap-drop=ALL --cap-add=SYS_ADMIN" ] || fail "cart: $(cat "$WORK/cart")"

# --- errors: one line each ---
one_line() { # WANT_RC PATTERN ARGS...
	local want=$1 pattern=$2 rc
	shift 2
	"$CAPTRAIL" profile "$@" >"$WORK/err.out" 2>"$WORK/err.err"
	rc=$?
	[ "$rc" = "$want" ] || fail "profile $* exited $rc, want $want: $(cat "$WORK/err.err")"
	[ "$(wc -l <"$WORK/err.err")" = 1 ] || fail "profile $*: not one line: $(cat "$WORK/err.err")"
	grep -qE "^captrail profile: $pattern" "$WORK/err.err" ||
		fail "profile $*: '$(cat "$WORK/err.err")' does not match '$pattern'"
	[ -s "$WORK/err.out" ] && fail "profile $* wrote a profile"
	note "$(cat "$WORK/err.err")"
}
one_line 1 "no series of workload shop/Deployment/nothing in Prometheus" \
	--prometheus "$PROM" --workload shop/Deployment/nothing
one_line 1 "Prometheus at .* refused the query: bad_data: parse error" \
	--prometheus "http://127.0.0.1:$FAKE_PORT/refuse" --workload shop/Deployment/checkout
one_line 1 "Prometheus at .* refused the query: HTTP status 404" \
	--prometheus "http://127.0.0.1:$FAKE_PORT" --workload shop/Deployment/checkout
one_line 2 "--prometheus 'ftp://x': not an http:// or https:// URL" \
	--prometheus ftp://x --workload shop/Deployment/checkout
one_line 2 "invalid --since '3 days'" --prometheus "$PROM" --since "3 days" \
	--workload shop/Deployment/checkout
one_line 2 "invalid workload 'shop/Deploy/checkout'" --prometheus "$PROM" \
	--workload shop/Deploy/checkout
one_line 2 "--prometheus needs --workload" --prometheus "$PROM"
one_line 2 "--since is the window of --prometheus" --since 2d --workload shop/Deployment/checkout
one_line 2 "--prometheus asks for one --workload" --prometheus "$PROM" \
	--workload shop/Deployment/checkout --db "$WORK/none.db"

kill "$PROM_PID" && wait "$PROM_PID"
PROM_PID=
one_line 1 "cannot reach Prometheus at $PROM: " --prometheus "$PROM" \
	--workload shop/Deployment/checkout
note "ok"
