#!/bin/bash
# ping 127.0.0.1 as nobody, given CAP_NET_RAW (ping's file capability, which
# captrail's bounding set does not let through): its exit status says it
# works.
# shellcheck source=lib.sh disable=SC2034 # ACC_* are read by acc_main
. "$(dirname "$0")/lib.sh"
acc_need /usr/bin/ping
ACC_NAME=ping
ACC_KIND=oneshot
ACC_CMD=(/usr/bin/ping -c 2 -i 0.2 -W 5 127.0.0.1)
ACC_RECORD=(--user nobody --grant net_raw)
ACC_EXPECT="NET_RAW"
acc_main
