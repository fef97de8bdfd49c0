#!/bin/bash
# chronyd -x (never touches the clock) with a local-only config of its own:
# no sources, no NTP server socket, the command port on 127.0.0.1 (a high
# one: chronyc's way in, not what is tested), its pid file and command
# socket under $WORK. It drops to _chrony as Debian's service does and keeps
# CAP_NET_BIND_SERVICE across that with cap_set_proc(), because its NTP port
# (123, the default) is privileged: kept, never checked, and without it in
# the grant chronyd stops with "cap_set_proc() failed".
# shellcheck source=lib.sh disable=SC2034 # ACC_* are read by acc_main
. "$(dirname "$0")/lib.sh"
acc_need /usr/sbin/chronyd /usr/bin/chronyc
id _chrony >/dev/null 2>&1 || skip "no _chrony user (the chrony package creates it)"
cmd=""
acc_pick_port cmd udp 10323 10423 10523 10623
dir=$WORK/chrony
mkdir -p "$dir"
# In case this chronyd still reaches for Debian's own paths.
acc_restore /run/chrony /run/chronyd.pid /var/lib/chrony/chrony.drift
cat >"$dir/chrony.conf" <<CONF
user _chrony
port 123
cmdport $cmd
bindcmdaddress 127.0.0.1
bindcmdaddress $dir/run/chronyd.sock
pidfile $dir/run/chronyd.pid
CONF

ACC_NAME=chrony
ACC_KIND=daemon
ACC_CMD=(/usr/sbin/chronyd -x -d -f "$dir/chrony.conf")
ACC_EXPECT="NET_BIND_SERVICE SETUID SETGID"
# The run directory starts missing, as /run/chrony does at every boot:
# chronyd creates it and chowns it to _chrony.
acc_reset() { rm -rf "$dir/run"; }
# The command port answers "tracking"; then the run directory goes, so the
# next run (of --minimize too) starts as after a boot again.
acc_probe_file <<PROBE
/usr/bin/chronyc -n -h 127.0.0.1 -p $cmd tracking | grep -q '^Reference ID' || exit 1
rm -rf $dir/run
PROBE
acc_main
