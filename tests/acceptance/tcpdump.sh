#!/bin/bash
# tcpdump capturing ICMP on lo into a pcap file under $WORK, dropping to the
# tcpdump user as Debian builds it to; the probe pings 127.0.0.1 and reads the
# echo request back from the file.
# shellcheck source=lib.sh disable=SC2034 # ACC_* are read by acc_main
. "$(dirname "$0")/lib.sh"
acc_need /usr/bin/tcpdump /usr/bin/ping
dir=$WORK/tcpdump
mkdir -p "$dir"
ACC_NAME=tcpdump
ACC_KIND=daemon
ACC_CMD=(/usr/bin/tcpdump -i lo -n -U -w "$dir/lo.pcap" icmp)
ACC_EXPECT="NET_RAW"
acc_reset() { rm -f "$dir/lo.pcap"; }
# The file goes once the packets were found in it: a later run (of
# --minimize too) must capture its own.
acc_probe_file <<PROBE
/usr/bin/ping -c 1 -W 2 127.0.0.1 >/dev/null || exit 1
/usr/bin/tcpdump -n -r $dir/lo.pcap 2>/dev/null | grep -q 'ICMP echo request' || exit 1
rm -f $dir/lo.pcap
PROBE
acc_main
