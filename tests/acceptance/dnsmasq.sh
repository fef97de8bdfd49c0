#!/bin/bash
# dnsmasq (the binary of dnsmasq-base, no service) answering a DNS query on
# 127.0.0.1 port 53 (or another free port below 1024) from a config of its
# own: no upstream, no hosts file, one name, its pid file under $WORK; it
# drops to the dnsmasq user as Debian's service does.
# shellcheck source=lib.sh disable=SC2034 # ACC_* are read by acc_main
. "$(dirname "$0")/lib.sh"
acc_need /usr/sbin/dnsmasq /usr/bin/python3
id dnsmasq >/dev/null 2>&1 || skip "no dnsmasq user (dnsmasq-base creates it)"
port=""
acc_pick_port port udp 53 153 253 353 553
acc_port_free tcp "$port" || fail "tcp port $port is taken"
dir=$WORK/dnsmasq
mkdir -p "$dir"
cat >"$dir/dnsmasq.conf" <<CONF
port=$port
listen-address=127.0.0.1
bind-interfaces
no-resolv
no-hosts
address=/acceptance.captrail.test/192.0.2.53
pid-file=$dir/dnsmasq.pid
user=dnsmasq
log-facility=-
CONF

ACC_NAME=dnsmasq
ACC_KIND=daemon
ACC_CMD=(/usr/sbin/dnsmasq --keep-in-foreground --conf-file="$dir/dnsmasq.conf")
ACC_EXPECT="NET_BIND_SERVICE SETUID SETGID"
acc_reset() { rm -f "$dir/dnsmasq.pid"; }
# An A query answered with the configured address.
acc_probe_file <<PROBE
exec /usr/bin/python3 - <<'PY'
import socket, struct, sys
name = b"".join(bytes([len(l)]) + l for l in b"acceptance.captrail.test".split(b"."))
query = struct.pack(">6H", 0x4361, 0x0100, 1, 0, 0, 0) + name + b"\0" + struct.pack(">2H", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.sendto(query, ("127.0.0.1", $port))
reply = s.recv(512)
ok = (reply[:2] == query[:2] and reply[3] & 0xF == 0 and
      struct.unpack(">H", reply[6:8])[0] > 0 and socket.inet_aton("192.0.2.53") in reply[len(query):])
sys.exit(0 if ok else 1)
PY
PROBE
acc_main
