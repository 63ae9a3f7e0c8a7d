#!/bin/bash
# make check: build and boot each kernel of the gate, run its kselftests,
# and judge every run together (scripts/report.py): one closing line
# "N passed, N failed, N skipped" for all of them, non-zero exit on any
# failure.  Every failure line starts with the kernel it came from.
#
# The kernels, each with its base's series and its own test list:
#   7.3         upstream + patches/             guest/7.3/tests.list
#   7.3-debug   + config/debug.config (KASAN,   guest/7.3/tests-debug.list
#               lockdep, DEBUG_VM, kmemleak)
#   7.3-norust  + config/norust.config: no Rust, guest/7.3-norust/tests.list
#               so none of what needs it; the
#               series must then behave as 7.3
#   6.12        6.12 LTS + backports/6.12/      guest/6.12/tests.list
#   6.12-debug  (only with BASE=6.12)           guest/6.12/tests-debug.list
# The gate is 7.3, 7.3-debug, 7.3-norust and 6.12: the debug and the
# Rust-less builds run on the base the series is developed on; BASE=6.12
# DEBUG=1 runs the backport's debug build.  BASE=7.3 or BASE=6.12 runs only
# that base's normal and debug kernels, KERNELS="7.3-norust ..." the kernels
# it names, and DEBUG=0 or DEBUG=1 only the normal (norust included) or the
# debug ones of those.  TESTS_LIST replaces the list of every kernel.
# Each kernel's label (7.3-norust, ...) names its guest/<label>/ tables.
CHECK_BASE=${BASE:-}
. "$(dirname "$0")/lib.sh"

# The report's own tests come first: it decides what "green" means.
out=$(python3 -B "$TOP/scripts/test_report.py" -q 2>&1) ||
	{ echo "$out"; die "scripts/report.py fails its own tests"; }
echo "check: scripts/report.py passes its $(sed -n 's/^Ran \([0-9]*\) tests.*/\1/p' <<<"$out") tests"

# BASE, as the caller gave it (make passes it only then), selects a base.
if [[ -n $CHECK_BASE ]]; then
	[[ $CHECK_BASE == 7.3 || $CHECK_BASE == 6.12 ]] || die "BASE=$CHECK_BASE: the bases are 7.3 and 6.12"
	kernels=("$CHECK_BASE" "$CHECK_BASE-debug")
elif [[ -n ${KERNELS:-} ]]; then
	read -ra kernels <<<"$KERNELS"
	for k in "${kernels[@]}"; do
		[[ $k =~ ^(7\.3|7\.3-debug|7\.3-norust|6\.12|6\.12-debug)$ ]] ||
			die "KERNELS: $k: the kernels are 7.3, 7.3-debug, 7.3-norust, 6.12, 6.12-debug"
	done
else
	kernels=(7.3 7.3-debug 7.3-norust 6.12)
fi
sel=()
for k in "${kernels[@]}"; do
	case ${DEBUG:-both} in
	0) [[ $k == *-debug ]] || sel+=("$k") ;;
	1) [[ $k == *-debug ]] && sel+=("$k") ;;
	both) sel+=("$k") ;;
	*) die "DEBUG=$DEBUG: use 0 (normal kernels only), 1 (debug kernels only) or leave it unset" ;;
	esac
done
kernels=("${sel[@]}")
((${#kernels[@]})) || die "no kernel selected"
echo "check: kernels: ${kernels[*]}"

declare -A prepared
runs=()
for k in "${kernels[@]}"; do
	base=${k%%-*}
	if [[ -z ${prepared[$base]:-} ]]; then
		echo "check: $base: tree, selftests and initramfs"
		BASE=$base "$TOP/scripts/tree.sh" || die "$base: make tree failed"
		BASE=$base "$TOP/scripts/selftests.sh" || die "$base: the selftests did not build"
		BASE=$base "$TOP/scripts/initramfs.sh" || die "$base: the initramfs was not built"
		prepared[$base]=1
	fi
	frags=(config/guest.config "config/$base.config")
	case $k in
	*-debug)
		obj=obj-debug frags+=(config/debug.config)
		list=${TESTS_LIST:-$TOP/guest/$base/tests-debug.list}
		# Under TCG the debug kernel runs ACPI's AML so slowly that the
		# PCI IRQ routing methods hit their loop timeout and the virtio
		# disks get no IRQ.  acpi=noirq routes them by the firmware's PIRQ
		# table instead and keeps ACPI's CPU enumeration: acpi=off, used
		# before, left the guest with a single CPU.  no5lvl: 7.x always
		# builds 5-level paging, which -cpu max offers; with it, the 7.3.4
		# debug kernel took an edge IRQ during early boot
		# (arch_cpu_finalize_init) whose irq_desc lock KASAN reported as
		# a wild access at ff11000004caa0a8, the 5-level direct map,
		# before KASAN covered it.  4-level paging is what 6.12 uses.
		append="acpi=noirq no5lvl" boot=${BOOT_DEADLINE:-900} ;;
	*-norust)
		obj=obj-norust frags+=(config/norust.config)
		list=${TESTS_LIST:-$TOP/guest/$k/tests.list}
		append= boot=${BOOT_DEADLINE:-300} ;;
	*)
		obj=obj
		list=${TESTS_LIST:-$TOP/guest/$base/tests.list}
		append= boot=${BOOT_DEADLINE:-300} ;;
	esac
	echo "check: $k: building the kernel (build/$base/$obj)"
	(cd "$TOP" && BASE=$base KOBJ_NAME=$obj scripts/config.sh "${frags[@]}" &&
		BASE=$base KOBJ_NAME=$obj scripts/kmake.sh -s bzImage) || die "$k: the kernel did not build"
	run=$BUILD/run/$k
	mkdir -p "$run"
	rm -rf "$run"/*.log "$run/qemu.rc" "$run/list" "$run/initrd"
	grep -vE '^\s*(#|$)' "$list" >"$run/list" || die "$k: $list names no test"
	# The guest runs exactly this list: it goes into a small cpio appended
	# to the initramfs (the kernel unpacks both), as /tests/run.list.
	mkdir -p "$run/initrd/tests"
	cp "$run/list" "$run/initrd/tests/run.list"
	(cd "$run/initrd" && echo tests/run.list | cpio -o -H newc --quiet) | gzip -1 |
		cat "$BUILD/$base/initramfs.cpio.gz" - >"$run/initrd.cpio.gz"
	# The guest's time limit is the sum of its programs' budgets, plus the
	# boot deadline and a margin for the end-of-run scans.
	budget=$(awk '{t += $2} END {print t}' "$run/list")
	timeout=${TIMEOUT:-$((boot + budget + 120))}
	echo "check: $k: $(wc -l <"$run/list") programs, guest timeout ${timeout}s"
	start=$SECONDS
	BASE=$base KOBJ_NAME=$obj RUN_DIR=$run TIMEOUT=$timeout BOOT_DEADLINE=$boot \
		INITRD=$run/initrd.cpio.gz APPEND="${APPEND:-} $append" \
		"$TOP/scripts/qemu.sh" check || true
	grep -E '^### (END|TIMEOUT|SETUP FAIL)' "$run/tests.log" | tr -d '\r' | sed "s/^/check: $k: /" || true
	echo "check: $k: guest ran $((SECONDS - start)) s"
	runs+=("$k=$run")
done
echo "check: logs in $BUILD/run/<kernel>/{console,tests}.log"
# A TESTS_LIST run checks only the inventory of the programs it selected.
[[ -n ${TESTS_LIST:-} ]] && echo "check: a subset run: only the programs in $TESTS_LIST"
[[ ${#kernels[@]} -lt 4 || ${DEBUG:-both} != both ]] &&
	echo "check: not the whole gate (kernels: ${kernels[*]})"
python3 -B "$TOP/scripts/report.py" ${TESTS_LIST:+--subset} "${runs[@]}"
