#!/bin/sh
# Installs the Debian packages captrail needs to build, test and benchmark.
# Idempotent and quiet when everything is present, so every entry point
# (quick start, CI, make bench) can call it unconditionally.
set -eu

build="make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
       libcap-dev libjson-c-dev uthash-dev libsqlite3-dev libmicrohttpd-dev
       libseccomp-dev libpcre2-dev libcurl4-openssl-dev"
test="libcmocka-dev runc busybox-static jq python3 python3-yaml util-linux
      procps iproute2 sqlite3 libcap2-bin systemd curl prometheus man-db
      libclang-rt-dev nginx dnsmasq-base chrony tcpdump iputils-ping
      containerd docker.io podman crun catatonit buildah python3-grpcio
      python3-protobuf protobuf-compiler libc6-dev dpkg-dev"
bench="bpftrace"
# The acceptance suite's daemons (tests/acceptance) run under the tests only.
daemons="nginx dnsmasq chronyd"

daemon_pids() {
	for name in $daemons; do pgrep -x "$name" || true; done
}

case "${1:-all}" in
build) want="$build" ;;
test) want="$build $test" ;;
bench | all) want="$build $test $bench" ;;
*) echo "usage: $0 [build|test|bench|all]" >&2; exit 2 ;;
esac

missing=""
for pkg in $want; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing="$missing $pkg"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root to install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# No service may start from a postinst: a policy-rc.d refusing every start
# while installing (one already there is left as it is), and whatever
# started anyway is stopped.
running=" $(daemon_pids | tr '\n' ' ') "
policy=/usr/sbin/policy-rc.d
if [ ! -e $policy ]; then
	printf '#!/bin/sh\nexit 101\n' >$policy
	chmod 755 $policy
	trap 'rm -f $policy' EXIT
fi
apt-get update -qq
# shellcheck disable=SC2086 # word splitting of the package list is intended
apt-get install -y -qq --no-install-recommends $missing >/dev/null
for pid in $(daemon_pids); do
	case $running in *" $pid "*) ;; *) kill "$pid" 2>/dev/null || true ;; esac
done
