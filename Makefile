# mmrust: droppable memory, reference pages and batched process_madvise,
# developed on Linux 7.3 (upstream) and backported to 6.12 LTS.  README.md.
#
#   make run      build everything, boot the guest, show the feature tour
#   make check    build, boot and test every kernel of the gate: 7.3, its
#                 debug build, 7.3 without Rust, and 6.12; BASE=7.3 or
#                 BASE=6.12 runs only that base's normal and debug kernels,
#                 KERNELS="7.3-norust ..." those named, DEBUG=0 or DEBUG=1
#                 only the normal or debug ones
#   make shell    boot the guest to an interactive shell
#   make bench    run the benchmarks in the guest (multi-threaded TCG);
#                 BENCH=madv, BENCH=refpage or BENCH=scale runs only one
#   make bench-base  the madvise benchmark on the unpatched base kernel
#                 (BENCH=madv-t0 or BENCH=hfam another one; ALTERNATE=K
#                 boots the patched and the base kernel in turn, K times)
#   make tree     (re)generate build/$(BASE)/linux: base + one commit per patch
#   make export   write the commits made in build/$(BASE)/linux back to the repo
#   make series   the series as it would be mailed, checked (build/$(BASE)/series)
#   make inventory  rewrite guest/<base>/inventory from the last make check's logs
#   make mutants  break the code on purpose and check that a test notices
#                 (docs/testing.md; MUTANTS="name ..." runs only those)
#   make cross    build $(BASE)'s kernel for arm64 (CROSS_ARCH=arm64), not
#                 booted: the series compiles and links there
#
# BASE=7.3 (the default, upstream) or BASE=6.12 (the LTS backport) selects
# the base of every target but check.  DEBUG=1 adds config/debug.config
# (KASAN, lockdep, DEBUG_VM, kmemleak) and builds in build/$(BASE)/obj-debug.

SHELL := /bin/bash
# Only the system's tools (see scripts/lib.sh): never a rustup toolchain.
export PATH := /usr/sbin:/usr/bin:/sbin:/bin
TOP := $(CURDIR)
export BUILD ?= $(TOP)/build
BASE ?= 7.3
ifneq ($(filter-out 7.3 6.12,$(BASE)),)
$(error BASE=$(BASE): the bases are 7.3 and 6.12)
endif
FRAGMENTS := config/guest.config config/$(BASE).config
export DEBUG
ifeq ($(DEBUG),1)
FRAGMENTS += config/debug.config
export KOBJ_NAME := obj-debug
# acpi=noirq: see scripts/check.sh.
RUN_APPEND := acpi=noirq no5lvl
endif
GUEST_BIN := droppable_demo refpage_demo madv_demo madv_bench refpage_bench refpage_scale runone

.PHONY: all deps tree export config build kernel selftests guest-bin initramfs \
	run check shell bench bench-base series clean help inventory mutants cross

all: run

help:
	@sed -n '3,25p' Makefile

deps:
	@scripts/deps.sh

tree: deps
	@BASE=$(BASE) scripts/tree.sh

export:
	@BASE=$(BASE) scripts/export.sh

config: tree
	@BASE=$(BASE) scripts/config.sh $(FRAGMENTS)

kernel build: config
	@BASE=$(BASE) scripts/kmake.sh bzImage
	@echo "build: $(BUILD)/$(BASE)/$${KOBJ_NAME:-obj}/arch/x86/boot/bzImage"

selftests: tree
	@BASE=$(BASE) scripts/selftests.sh

guest-bin: deps $(addprefix $(BUILD)/guest-bin/,$(GUEST_BIN))

$(BUILD)/guest-bin/%: guest/demo/%.c guest/guest_util.h
	@mkdir -p $(@D)
	@gcc -static -O2 -Wall -pthread -o $@ $<

$(BUILD)/guest-bin/%: guest/bench/%.c guest/guest_util.h
	@mkdir -p $(@D)
	@gcc -static -O2 -Wall -pthread -o $@ $<

$(BUILD)/guest-bin/runone: guest/runone.c
	@mkdir -p $(@D)
	@gcc -static -O2 -Wall -Werror -o $@ $<

initramfs: selftests guest-bin
	@BASE=$(BASE) scripts/initramfs.sh

RUN_DIR := $(BUILD)/run/$(BASE)$(if $(filter 1,$(DEBUG)),-debug)

run: build initramfs
	@BASE=$(BASE) RUN_DIR=$(RUN_DIR) TIMEOUT=600 APPEND="$(strip $(APPEND) $(RUN_APPEND))" scripts/qemu.sh tour
	@sed -n '/=== mmrust tour/,/=== end of tour/p' $(RUN_DIR)/console.log | tr -d '\r'

bench: build initramfs
	@BASE=$(BASE) RUN_DIR=$(RUN_DIR) TIMEOUT=1800 TCG_THREAD=multi APPEND="$(strip $(RUN_APPEND) mmrust.bench=$(or $(BENCH),all))" scripts/qemu.sh bench
	@sed -n '/=== mmrust bench/,/=== end of bench/p' $(RUN_DIR)/console.log | tr -d '\r'

# The madvise benchmark on the unpatched base, for README.md's table.
bench-base: tree initramfs $(if $(ALTERNATE),build)
	@BASE=$(BASE) BENCH=$(BENCH) ALTERNATE=$(ALTERNATE) scripts/bench-base.sh

shell: build initramfs
	@BASE=$(BASE) APPEND="$(strip $(APPEND) $(RUN_APPEND))" scripts/qemu.sh shell

# check builds every kernel itself (scripts/check.sh); only an explicit
# BASE= on the command line or in the environment narrows it.
check: deps guest-bin
	@$(if $(filter command line environment,$(origin BASE)),BASE=$(BASE)) scripts/check.sh

inventory:
	@python3 scripts/report.py --write-inventory $(foreach k,7.3 7.3-debug 7.3-norust 6.12 6.12-debug,\
		$(if $(wildcard $(BUILD)/run/$(k)/tests.log),$(k)=$(BUILD)/run/$(k)))

mutants: deps guest-bin
	@scripts/mutants.sh $(MUTANTS)

cross: tree
	@BASE=$(BASE) CROSS_ARCH=$(or $(CROSS_ARCH),arm64) scripts/cross.sh

series: tree
	@BASE=$(BASE) scripts/series.sh

clean:
	rm -rf $(foreach b,7.3 6.12,$(BUILD)/$(b)/obj $(BUILD)/$(b)/obj-debug $(BUILD)/$(b)/obj-arm64 $(BUILD)/$(b)/selftests \
		$(BUILD)/$(b)/initramfs $(BUILD)/$(b)/initramfs.cpio.gz $(BUILD)/$(b)/series) \
		$(BUILD)/run $(BUILD)/guest-bin
