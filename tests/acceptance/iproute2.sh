#!/bin/bash
# ip link add of a dummy link (a bridge on a kernel without dummy links); the
# probe finds the link and deletes it, so every run starts without it.
# shellcheck source=lib.sh disable=SC2034 # ACC_* are read by acc_main
. "$(dirname "$0")/lib.sh"
acc_need /usr/bin/ip
link=ctacc$$
type=dummy
if ! ip link add "$link" type dummy 2>/dev/null; then
	type=bridge
	ip link add "$link" type bridge || skip "this kernel has neither dummy nor bridge links"
fi
ip link del "$link"
cleanup_hooks+=("ip link del '$link' 2>/dev/null")
note "link type $type"
ACC_NAME=iproute2
ACC_KIND=oneshot
ACC_CMD=(/usr/bin/ip link add "$link" type "$type")
ACC_EXPECT="NET_ADMIN"
acc_reset() { ip link del "$link" 2>/dev/null; return 0; }
acc_probe_file <<PROBE
/usr/bin/ip link show $link >/dev/null && /usr/bin/ip link del $link
PROBE
acc_main
