#!/bin/bash
# make check: build and boot each kernel of the gate, run its kselftests,
# and judge every run together (scripts/report.py): one closing line
# "N passed, N failed, N skipped" for all of them, non-zero exit on any
# failure.
#
# The kernels, each with its own test list (name, budget in seconds):
#   6.12        config/guest.config               guest/tests.list
#   6.12-debug  + config/debug.config (KASAN,     guest/tests-debug.list
#               lockdep, DEBUG_VM, kmemleak, ...) (budgets for the debug kernel)
# DEBUG=0 runs only the first, DEBUG=1 only the debug kernel.  TESTS_LIST
# replaces the list of whichever kernels run.
. "$(dirname "$0")/lib.sh"

# The report's own tests come first: it decides what "green" means.
out=$(python3 -B "$TOP/scripts/test_report.py" -q 2>&1) ||
	{ echo "$out"; die "scripts/report.py fails its own tests"; }
echo "check: scripts/report.py passes its $(sed -n 's/^Ran \([0-9]*\) tests.*/\1/p' <<<"$out") tests"

kernels=()
case ${DEBUG:-both} in
0) kernels=(6.12) ;;
1) kernels=(6.12-debug) ;;
both) kernels=(6.12 6.12-debug) ;;
*) die "DEBUG=$DEBUG: use 0 (normal kernel only), 1 (debug kernel only) or leave it unset" ;;
esac

runs=()
for k in "${kernels[@]}"; do
	case $k in
	*-debug)
		obj=obj-debug frags=(config/guest.config config/debug.config)
		list=${TESTS_LIST:-$TOP/guest/tests-debug.list}
		# Under TCG the debug kernel runs ACPI's AML so slowly that the
		# PCI IRQ routing methods hit their loop timeout and the virtio
		# disks get no IRQ.  acpi=noirq routes them by the firmware's PIRQ
		# table instead and keeps ACPI's CPU enumeration: acpi=off, used
		# before, left the guest with a single CPU.
		append="acpi=noirq" boot=${BOOT_DEADLINE:-900} ;;
	*)
		obj=obj frags=(config/guest.config)
		list=${TESTS_LIST:-$TOP/guest/tests.list}
		append= boot=${BOOT_DEADLINE:-300} ;;
	esac
	echo "check: $k: building the kernel (build/$obj)"
	(cd "$TOP" && KOBJ_NAME=$obj scripts/config.sh "${frags[@]}" &&
		KOBJ_NAME=$obj scripts/kmake.sh -s bzImage) || die "$k: the kernel did not build"
	run=$BUILD/run/$k
	mkdir -p "$run"
	rm -rf "$run"/*.log "$run/qemu.rc" "$run/list" "$run/initrd"
	grep -vE '^\s*(#|$)' "$list" >"$run/list" || die "$k: $list names no test"
	# The guest runs exactly this list: it goes into a small cpio appended
	# to the initramfs (the kernel unpacks both), as /tests/run.list.
	mkdir -p "$run/initrd/tests"
	cp "$run/list" "$run/initrd/tests/run.list"
	(cd "$run/initrd" && echo tests/run.list | cpio -o -H newc --quiet) | gzip -1 |
		cat "$BUILD/initramfs.cpio.gz" - >"$run/initrd.cpio.gz"
	# The guest's time limit is the sum of its programs' budgets, plus the
	# boot deadline and a margin for the end-of-run scans.
	budget=$(awk '{t += $2} END {print t}' "$run/list")
	timeout=${TIMEOUT:-$((boot + budget + 120))}
	echo "check: $k: $(wc -l <"$run/list") programs, guest timeout ${timeout}s"
	KOBJ_NAME=$obj RUN_DIR=$run TIMEOUT=$timeout BOOT_DEADLINE=$boot INITRD=$run/initrd.cpio.gz \
		APPEND="${APPEND:-} $append" "$TOP/scripts/qemu.sh" check || true
	grep -E '^### (END|TIMEOUT|SETUP FAIL)' "$run/tests.log" | tr -d '\r' | sed "s/^/check: $k: /" || true
	runs+=("$k=$run")
done
echo "check: logs in $BUILD/run/<kernel>/{console,tests}.log"
# A TESTS_LIST run checks only the inventory of the programs it selected.
[[ -n ${TESTS_LIST:-} ]] && echo "check: a subset run: only the programs in $TESTS_LIST"
[[ ${DEBUG:-both} != both ]] && echo "check: one kernel only (DEBUG=$DEBUG): not the whole gate"
python3 -B "$TOP/scripts/report.py" ${TESTS_LIST:+--subset} "${runs[@]}"
