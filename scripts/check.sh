#!/bin/bash
# Installs what the tests need, builds, and runs every test: once on the
# normal build, then the acceptance suite on real Debian programs (a few
# minutes), on the kernels of the matrix, and once on the ASan+UBSan build
# (here only: the guests have no sanitizer runtime); then each libFuzzer
# harness for 30 s, two at a time (about four minutes).
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh test
make -j2 -s all
make -s check
make -s acceptance
make -s kernel-matrix
make -j2 -s SAN=1 all
make -s SAN=1 check
make -s fuzz FUZZ_SECONDS=30 FUZZ_JOBS=2
