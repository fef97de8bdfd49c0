#!/bin/bash
# nginx as Debian runs it (master as root, workers as www-data) serving a page
# on 127.0.0.1 port 80 (or another free port below 1024: binding it is the
# CAP_NET_BIND_SERVICE check). Config, pid file, logs and temp directories
# are under $WORK; the temp directories start missing every run, as on a
# fresh host, where nginx creates them and chowns them to www-data.
# shellcheck source=lib.sh disable=SC2034 # ACC_* are read by acc_main
. "$(dirname "$0")/lib.sh"
acc_need /usr/sbin/nginx /usr/bin/curl
id www-data >/dev/null 2>&1 || skip "no www-data user"
port=""
acc_pick_port port tcp 80 81 82 591
dir=$WORK/nginx
mkdir -p "$dir/html"
echo captrail-acceptance >"$dir/html/index.html"
cat >"$dir/nginx.conf" <<CONF
user www-data;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 64; }
http {
	access_log $dir/access.log;
	client_body_temp_path $dir/tmp/body;
	proxy_temp_path $dir/tmp/proxy;
	fastcgi_temp_path $dir/tmp/fastcgi;
	uwsgi_temp_path $dir/tmp/uwsgi;
	scgi_temp_path $dir/tmp/scgi;
	server {
		listen 127.0.0.1:$port;
		root $dir/html;
	}
}
CONF

ACC_NAME=nginx
ACC_KIND=daemon
ACC_CMD=(/usr/sbin/nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" -g 'daemon off;')
ACC_EXPECT="NET_BIND_SERVICE SETUID SETGID"
acc_reset() { rm -rf "$dir/tmp"; mkdir "$dir/tmp"; }
# A page served; then the temp directories go, so the next run (of
# --minimize too) starts from a fresh host's state again.
acc_probe_file <<PROBE
curl -sf -m 3 http://127.0.0.1:$port/ | grep -q captrail-acceptance || exit 1
rm -rf $dir/tmp/*
PROBE
acc_main
