# captrail — GNU Make build.
#   make            build/captrail
#   make SAN=1      build/san/captrail with ASan+UBSan
#   make check      unit + end-to-end tests (root needed for e2e)
#   make bench      overhead benchmark against the floor and bpftrace (root)
#   make image      OCI image localhost/captrail:VERSION, from scratch (buildah)
#   make deb        $(BUILD)/captrail_VERSION_ARCH.deb (dpkg-deb)
#   make fuzz       libFuzzer harnesses (clang, ASan+UBSan) in build/fuzz, each run
#                   FUZZ_SECONDS (60); FUZZ=NAME runs one, FUZZ_JOBS=N N at a time

BUILD ?= build
ifeq ($(SAN),1)
BUILD := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer \
	    -fno-sanitize-recover=all
endif

CC ?= cc
CLANG ?= clang
LLVM_STRIP ?= llvm-strip
BPFTOOL ?= $(firstword $(wildcard /usr/sbin/bpftool /usr/bin/bpftool) bpftool)
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
PKGS := libbpf libcap json-c sqlite3 libmicrohttpd libseccomp libpcre2-8 libcurl
# The one version: --version, the man page, the image's tag and the package's
# version all read this file, so a tarball without .git builds the same.
VERSION := $(shell cat VERSION)
# It becomes a Debian version and an image tag too: digits first, then
# letters, digits and dots fit both.
ifeq ($(shell echo '$(VERSION)' | grep -Ex '[0-9][0-9A-Za-z.]*'),)
$(error VERSION: '$(VERSION)' is not a version: digits first, then [0-9A-Za-z.])
endif
IMAGE ?= localhost/captrail:$(VERSION)

prefix ?= /usr/local
sbindir ?= $(prefix)/sbin
mandir ?= $(prefix)/share/man
datadir ?= $(prefix)/share
unitdir ?= $(prefix)/lib/systemd/system

CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -MMD -MP \
	  -Isrc -I$(BUILD) $(SANFLAGS) $(shell pkg-config --cflags $(PKGS))
LDFLAGS += $(SANFLAGS)
LDLIBS += $(shell pkg-config --libs $(PKGS)) -lelf -lz -lpthread

BPF_SRCS := $(wildcard src/bpf/*.bpf.c)
SKELS := $(BPF_SRCS:src/bpf/%.bpf.c=$(BUILD)/%.skel.h)
# One folder per layer, lowest first; scripts/layers.sh says which may include
# which, and the build stops when a lower layer reaches up.
LAYERS := lib kernel privilege identity event profile record agent cmd
LIB_SRCS := $(foreach l,$(LAYERS),$(wildcard src/$(l)/*.c))
LIB_OBJS := $(LIB_SRCS:src/%.c=$(BUILD)/obj/%.o)
LIB := $(BUILD)/libcaptrail.a
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TEST_HELPER_SRCS := $(wildcard tests/helpers/*.c)
TEST_HELPERS := $(TEST_HELPER_SRCS:tests/helpers/%.c=$(BUILD)/tests/helpers/%)
# Each harness twice: a libFuzzer binary (make fuzz), and a unit test that
# replays its corpus once (every build, any compiler).
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/%)
FUZZ_REPLAYS := $(FUZZ_SRCS:tests/fuzz/fuzz_%.c=$(BUILD)/tests/test_fuzz_%)
FUZZ_BUILD := build/fuzz
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 1
FUZZ_SANFLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
		 -fno-sanitize-recover=all

.PHONY: all check unit e2e acceptance kernel-matrix bench soak fuzz fuzz-build deps demo install \
	image deb clean
.SECONDARY:
all: $(BUILD)/layers.ok $(BUILD)/captrail $(BUILD)/captrail.8 $(UNIT_BINS) $(FUZZ_REPLAYS) \
	$(TEST_HELPERS)

$(BUILD)/obj/main.o: VERSION
$(BUILD)/obj/main.o: CFLAGS += -DCAPTRAIL_VERSION='"$(VERSION)"'

# The man page as installed: its header names the version.
$(BUILD)/captrail.8: docs/captrail.8 VERSION
	@mkdir -p $(@D)
	sed '1s/^\(\.TH CAPTRAIL 8 [^ ]*\) captrail /\1 "captrail $(VERSION)" /' $< > $@.tmp
	grep -q '^\.TH CAPTRAIL 8 .* "captrail $(VERSION)" ' $@.tmp && mv $@.tmp $@

# Generated from the running kernel's BTF rather than checked in: CO-RE only
# needs the type layouts, and a checked-in copy would be 3 MB of generated text.
$(BUILD)/vmlinux.h:
	@mkdir -p $(@D)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(BUILD)/%.bpf.o: src/bpf/%.bpf.c $(wildcard src/bpf/*.h) $(BUILD)/vmlinux.h
	$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I$(BUILD) -Isrc/bpf \
		-Wall -Werror -c $< -o $@
	$(LLVM_STRIP) -g $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(BUILD)/obj/%.o: src/%.c | $(SKELS)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(BUILD)/layers.ok: scripts/layers.sh $(wildcard src/*.c src/*/*.[ch])
	@mkdir -p $(@D)
	scripts/layers.sh src
	@touch $@

$(BUILD)/captrail: $(BUILD)/obj/main.o $(LIB)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/%: tests/unit/%.c $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< $(LIB) $(LDFLAGS) $(LDLIBS) -lcmocka -o $@

$(BUILD)/tests/test_fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c tests/fuzz/fuzz.h $(LIB)
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -DFUZZ_NAME='"$*"' tests/fuzz/replay.c $< $(LIB) $(LDFLAGS) $(LDLIBS) \
		-lcmocka -o $@

$(BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIB)
	$(CC) $(CFLAGS) -fsanitize=fuzzer $< $(LIB) $(LDFLAGS) $(LDLIBS) -o $@

$(BUILD)/tests/helpers/%: tests/helpers/%.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $< $(LDFLAGS) $(LDLIBS) -o $@

# The library and the harnesses built by clang with the fuzzer's coverage
# instrumentation, in a build directory of their own.
fuzz:
	CFLAGS='-O1 -g' $(MAKE) BUILD=$(FUZZ_BUILD) CC=$(CLANG) SANFLAGS='$(FUZZ_SANFLAGS)' \
		fuzz-build
	tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ)

fuzz-build: $(FUZZ_BINS)

deps:
	./scripts/install-deps.sh test

check: all
	BUILD=$(BUILD) tests/run.sh

unit: all
	BUILD=$(BUILD) tests/run.sh unit

e2e: all
	BUILD=$(BUILD) tests/run.sh e2e

# Real Debian programs recorded, minimized and confined (tests/acceptance).
acceptance: all
	BUILD=$(BUILD) tests/run.sh acceptance

# The end-to-end cases on Debian's 5.10, 6.1 and 6.12 kernels under qemu.
kernel-matrix: all
	tests/matrix/run.sh --captrail $(BUILD)/captrail

demo: all
	./scripts/demo.sh $(BUILD)/captrail

bench: all
	./scripts/install-deps.sh bench
	$(MAKE) -C bench BUILD=$(abspath $(BUILD))
	BUILD=$(abspath $(BUILD)) bench/run.sh

# An hour of container and process churn under the ASan+UBSan agent
# (SOAK_SECONDS to change it); bench/soak.sh says what it bounds.
soak:
	$(MAKE) SAN=1 all
	bench/soak.sh $(abspath build/san/captrail)

install: $(BUILD)/captrail $(BUILD)/captrail.8
	install -D -m 0755 $(BUILD)/captrail $(DESTDIR)$(sbindir)/captrail
	install -D -m 0644 $(BUILD)/captrail.8 $(DESTDIR)$(mandir)/man8/captrail.8
	install -D -m 0644 contrib/bash-completion/captrail \
		$(DESTDIR)$(datadir)/bash-completion/completions/captrail
	install -d $(DESTDIR)$(unitdir)
	sed 's|/usr/local/sbin/captrail|$(sbindir)/captrail|' deploy/captrail.service \
		> $(DESTDIR)$(unitdir)/captrail.service

# deploy/daemonset.yaml names $(IMAGE); README.md, "Deploy", says how to
# load it into a cluster.
image: $(BUILD)/captrail
	scripts/image.sh $(BUILD)/captrail $(IMAGE)

deb: $(BUILD)/captrail $(BUILD)/captrail.8
	scripts/deb.sh $(BUILD) $(BUILD)

clean:
	rm -rf build bench/results.json

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/*/*.d $(BUILD)/tests/*.d $(BUILD)/*.d)
