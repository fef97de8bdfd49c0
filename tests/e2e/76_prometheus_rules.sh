#!/bin/bash
# deploy/prometheus-rules.yaml: valid for promtool, and its rules do what
# they say on series shaped as the agent exports them: replicas counted
# over nodes, coverage per capability across a counter reset (an agent
# restarted), an alert for a capability the profile does not grant (and
# none for a granted one, nor for a workload without a profile), one for a
# denial that mattered, none for a series overflow that did not happen.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || skip "promtool is not installed (the prometheus package)"
RULES=$(realpath "$(dirname "$0")/../../deploy/prometheus-rules.yaml")
[ -f "$RULES" ] || fail "no $RULES"

promtool check rules "$RULES" >"$WORK/check.out" 2>&1 || fail "promtool check rules: $(cat "$WORK/check.out")"

S='node="%s",namespace="shop",workload_kind="Deployment",workload="%s",container="app",pod="%s"'
series() { # NAME NODE WORKLOAD POD [MORE LABELS]
	printf "%s{$S%s}" "$1" "$2" "$3" "$4" "${5:+,$5}"
}
cat >"$WORK/test.yaml" <<YAML
rule_files: ["$RULES"]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      # node a's agent restarted after 5 minutes: its counter starts again
      - series: '$(series captrail_workload_capability_checks_total a checkout checkout-1-aaaaa 'capability="CAP_CHOWN",class="required"')'
        values: '0+1x5 0+1x14'
      - series: '$(series captrail_workload_capability_checks_total b checkout checkout-1-bbbbb 'capability="CAP_CHOWN",class="required"')'
        values: '0+2x20'
      - series: '$(series captrail_workload_capability_checks_total b checkout checkout-1-bbbbb 'capability="CAP_SYS_PTRACE",class="required"')'
        values: '0+1x20'
      - series: '$(series captrail_workload_capability_checks_total b checkout checkout-1-bbbbb 'capability="CAP_SYS_ADMIN",class="denied",outcome="mattered"')'
        values: '0+1x20'
      - series: '$(series captrail_workload_capability_checks_total a cart cart-1-ccccc 'capability="CAP_NET_RAW",class="required"')'
        values: '0+1x20'
      - series: '$(series captrail_workload_instances a checkout checkout-1-aaaaa)'
        values: '1x20'
      - series: '$(series captrail_workload_instances b checkout checkout-1-bbbbb)'
        values: '1x20'
      - series: 'captrail_workload_series_overflow_total{instance="a"}'
        values: '0x20'
    promql_expr_test:
      - expr: captrail:workload_replicas:count{workload="checkout"}
        eval_time: 15m
        exp_samples:
          - labels: 'captrail:workload_replicas:count{namespace="shop",workload_kind="Deployment",workload="checkout",container="app"}'
            value: 2
      - expr: captrail:workload_capability_replicas:count1h{workload="checkout"}
        eval_time: 15m
        exp_samples:
          - labels: 'captrail:workload_capability_replicas:count1h{namespace="shop",workload_kind="Deployment",workload="checkout",container="app",capability="CAP_CHOWN"}'
            value: 2
          - labels: 'captrail:workload_capability_replicas:count1h{namespace="shop",workload_kind="Deployment",workload="checkout",container="app",capability="CAP_SYS_PTRACE"}'
            value: 1
    alert_rule_test:
      - eval_time: 15m
        alertname: CaptrailCapabilityNotInProfile
        exp_alerts:
          - exp_labels: { severity: warning, namespace: shop, workload_kind: Deployment, workload: checkout, container: app, capability: CAP_SYS_PTRACE }
            exp_annotations:
              summary: "shop/Deployment/checkout container app used CAP_SYS_PTRACE, which its profile does not grant"
      - eval_time: 15m
        alertname: CaptrailCapabilityDeniedMattered
        exp_alerts:
          - exp_labels: { severity: info, namespace: shop, workload_kind: Deployment, workload: checkout, container: app, capability: CAP_SYS_ADMIN }
            exp_annotations:
              summary: "shop/Deployment/checkout container app was denied CAP_SYS_ADMIN and its syscall failed"
      - eval_time: 15m
        alertname: CaptrailSeriesOverflow
        exp_alerts: []
YAML
promtool test rules "$WORK/test.yaml" >"$WORK/test.out" 2>&1 || fail "promtool test rules: $(cat "$WORK/test.out")"
note "$(grep -m1 'rules found' "$WORK/check.out" | sed 's/^ *//'); promtool test rules: $(grep -o SUCCESS "$WORK/test.out")"
exit 0
