#!/bin/bash
# Installs what the tests need, builds, and runs every test: once on the
# normal build and once on the ASan+UBSan build.
set -eu
cd "$(dirname "$0")/.."
./scripts/install-deps.sh test
make -j2 -s all
make -s check
make -j2 -s SAN=1 all
make -s SAN=1 check
