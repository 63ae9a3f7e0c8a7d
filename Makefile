# mmrust: droppable memory, reference pages and batched process_madvise
# for Linux 6.12, with Rust.  See README.md.
#
#   make run      build everything, boot the guest, show the feature tour
#   make check    build everything, boot the guest, run every test
#   make shell    boot the guest to an interactive shell
#   make bench    run the benchmarks in the guest (multi-threaded TCG);
#                 BENCH=madv or BENCH=refpage runs only one
#   make tree     (re)generate build/linux: base + one commit per patch
#   make export   write the commits made in build/linux back to the repo
#   make series   git format-patch series with cover letter in build/series
#
# DEBUG=1 adds config/debug.config (KASAN, lockdep, DEBUG_VM, kmemleak) and
# builds in build/obj-debug.

SHELL := /bin/bash
TOP := $(CURDIR)
export BUILD ?= $(TOP)/build
FRAGMENTS := config/guest.config
ifeq ($(DEBUG),1)
FRAGMENTS += config/debug.config
export KOBJ_NAME := obj-debug
# Under TCG the debug kernel runs ACPI's AML so slowly that the PCI IRQ
# routing methods hit their loop timeout and the virtio disks get no IRQ.
# The MP and PIRQ tables of QEMU's firmware route them without ACPI.
# Its tests get four times their usual time budget.
export APPEND := $(strip $(APPEND) acpi=off mmrust.timeout_scale=4)
TIMEOUT ?= 9000
export TIMEOUT
endif

.PHONY: all deps tree export config build kernel selftests guest-bin initramfs \
	run check shell bench series clean help

all: run

help:
	@sed -n '3,16p' Makefile

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

guest-bin: deps
	@mkdir -p $(BUILD)/guest-bin
	@gcc -static -O2 -Wall -o $(BUILD)/guest-bin/droppable_demo guest/demo/droppable_demo.c
	@gcc -static -O2 -Wall -o $(BUILD)/guest-bin/refpage_demo guest/demo/refpage_demo.c
	@gcc -static -O2 -Wall -pthread -o $(BUILD)/guest-bin/madv_bench guest/bench/madv_bench.c
	@gcc -static -O2 -Wall -o $(BUILD)/guest-bin/refpage_bench guest/bench/refpage_bench.c

initramfs: selftests guest-bin
	@scripts/initramfs.sh

run: build initramfs
	@TIMEOUT=600 scripts/qemu.sh tour
	@sed -n '/=== mmrust tour/,/=== end of tour/p' $(BUILD)/run/console.log | tr -d '\r'

bench: build initramfs
	@TIMEOUT=1800 TCG_THREAD=multi APPEND="mmrust.bench=$(or $(BENCH),all)" scripts/qemu.sh bench
	@sed -n '/=== mmrust bench/,/=== end of bench/p' $(BUILD)/run/console.log | tr -d '\r'

shell: build initramfs
	@scripts/qemu.sh shell

check: build initramfs
	@scripts/check.sh

series: tree
	@scripts/series.sh

clean:
	rm -rf $(BUILD)/obj $(BUILD)/obj-debug $(BUILD)/selftests $(BUILD)/run \
		$(BUILD)/initramfs $(BUILD)/initramfs.cpio.gz $(BUILD)/series
