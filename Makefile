# mmrust: droppable memory, reference pages and batched process_madvise
# for Linux 6.12, with Rust.  See README.md.
#
#   make run      build everything, boot the guest, show the feature tour
#   make check    build both kernels (6.12 and its debug build), boot each,
#                 run every test; DEBUG=0 or DEBUG=1 runs only one of them
#   make shell    boot the guest to an interactive shell
#   make bench    run the benchmarks in the guest (multi-threaded TCG);
#                 BENCH=madv or BENCH=refpage runs only one
#   make tree     (re)generate build/linux: base + one commit per patch
#   make export   write the commits made in build/linux back to the repo
#   make series   git format-patch series with cover letter in build/series
#   make inventory  rewrite guest/inventory from the last make check's logs
#   make mutants  break the code on purpose and check that a test notices
#                 (docs/testing.md; MUTANTS="name ..." runs only those)
#
# DEBUG=1 adds config/debug.config (KASAN, lockdep, DEBUG_VM, kmemleak) and
# builds in build/obj-debug: make run, shell and bench then use that kernel.

SHELL := /bin/bash
# Only the system's tools (see scripts/lib.sh): never a rustup toolchain.
export PATH := /usr/sbin:/usr/bin:/sbin:/bin
TOP := $(CURDIR)
export BUILD ?= $(TOP)/build
FRAGMENTS := config/guest.config
export DEBUG
ifeq ($(DEBUG),1)
FRAGMENTS += config/debug.config
export KOBJ_NAME := obj-debug
# acpi=noirq: see scripts/check.sh.
RUN_APPEND := acpi=noirq
endif
GUEST_BIN := droppable_demo refpage_demo madv_bench refpage_bench runone

.PHONY: all deps tree export config build kernel selftests guest-bin initramfs \
	run check shell bench series clean help inventory mutants

all: run

help:
	@sed -n '3,18p' Makefile

deps:
	@scripts/deps.sh

tree: deps
	@scripts/tree.sh

export:
	@scripts/export.sh

config: tree
	@scripts/config.sh $(FRAGMENTS)

kernel build: config
	@scripts/kmake.sh bzImage
	@echo "build: $(BUILD)/$${KOBJ_NAME:-obj}/arch/x86/boot/bzImage"

selftests: tree
	@scripts/selftests.sh

guest-bin: deps $(addprefix $(BUILD)/guest-bin/,$(GUEST_BIN))

$(BUILD)/guest-bin/%: guest/demo/%.c
	@mkdir -p $(@D)
	@gcc -static -O2 -Wall -pthread -o $@ $<

$(BUILD)/guest-bin/%: guest/bench/%.c
	@mkdir -p $(@D)
	@gcc -static -O2 -Wall -pthread -o $@ $<

$(BUILD)/guest-bin/runone: guest/runone.c
	@mkdir -p $(@D)
	@gcc -static -O2 -Wall -Werror -o $@ $<

initramfs: selftests guest-bin
	@scripts/initramfs.sh

run: build initramfs
	@TIMEOUT=600 APPEND="$(strip $(APPEND) $(RUN_APPEND))" scripts/qemu.sh tour
	@sed -n '/=== mmrust tour/,/=== end of tour/p' $(BUILD)/run/console.log | tr -d '\r'

bench: build initramfs
	@TIMEOUT=1800 TCG_THREAD=multi APPEND="$(strip $(RUN_APPEND) mmrust.bench=$(or $(BENCH),all))" scripts/qemu.sh bench
	@sed -n '/=== mmrust bench/,/=== end of bench/p' $(BUILD)/run/console.log | tr -d '\r'

shell: build initramfs
	@APPEND="$(strip $(APPEND) $(RUN_APPEND))" scripts/qemu.sh shell

# check builds the debug kernel itself (scripts/check.sh).
check: build initramfs
	@scripts/check.sh

inventory:
	@python3 scripts/report.py --write-inventory $(foreach k,6.12 6.12-debug,\
		$(if $(wildcard $(BUILD)/run/$(k)/tests.log),$(k)=$(BUILD)/run/$(k)))

mutants: initramfs
	@scripts/mutants.sh $(MUTANTS)

series: tree
	@scripts/series.sh

clean:
	rm -rf $(BUILD)/obj $(BUILD)/obj-debug $(BUILD)/selftests $(BUILD)/run $(BUILD)/guest-bin \
		$(BUILD)/initramfs $(BUILD)/initramfs.cpio.gz $(BUILD)/series
