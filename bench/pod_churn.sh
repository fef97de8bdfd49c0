#!/bin/bash
# Pod churn at the issue's scale: tests/e2e/32_pod_churn.sh with N runc pods
# (300 by default), each living a fraction of a second, under the agent;
# prints how long they took and how many were attributed to their pod.
# The test itself runs 60 to stay within CI's time. Root, runc, jq, a
# static busybox.
#   BUILD=build bench/pod_churn.sh [N]
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${BUILD:-build}
export CAPTRAIL=${CAPTRAIL:-$PWD/$BUILD/captrail}
export CAPTRAIL_BUILD=$PWD/$BUILD
export CHURN_PODS=${1:-300}
start=$(date +%s)
bash tests/e2e/32_pod_churn.sh
rc=$?
echo "# pod churn: $CHURN_PODS pods, $(($(date +%s) - start)) s in all, exit $rc"
exit $rc
