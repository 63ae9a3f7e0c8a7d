#!/bin/bash
# Boot the built kernel under QEMU.
#   qemu.sh check|tour|shell
# check and tour write $RUN_DIR/console.log (ttyS0, the kernel console),
# $RUN_DIR/tests.log (ttyS1, the test programs' output) and $RUN_DIR/qemu.rc
# (RUN_DIR defaults to build/run/$BASE).  QEMU is killed after $TIMEOUT seconds,
# or, in check mode, after $BOOT_DEADLINE seconds if the guest has not
# started its first test by then (exit status 125, console tail printed).
#
# TCG is the default: nested KVM on these machines is unusable (it dies on
# "lock cmpxchg16b" or stalls in decompression).  ACCEL=kvm uses KVM only
# after a probe boot shows that it works.  Single-threaded TCG is the
# default because multi-threaded TCG hit a rare emulator crash during boot
# code patching; TCG_THREAD=multi selects it for benchmarks.
. "$(dirname "$0")/lib.sh"
mode=${1:-check}
run=${RUN_DIR:-$BUILD/run/$BASE}
mkdir -p "$run"
kernel=$KOBJ/arch/x86/boot/bzImage
[[ -f $kernel ]] || die "no kernel at $kernel: run 'make build'"
SMP=${SMP:-4}
MEM=${MEM:-2G}
TIMEOUT=${TIMEOUT:-2400}
swap=$run/swap.img
rm -f "$swap"
truncate -s "${SWAP_SIZE:-1G}" "$swap"

accel="tcg,thread=${TCG_THREAD:-single}"
cpu=max
if [[ ${ACCEL:-tcg} == kvm ]]; then
	if timeout 60 qemu-system-x86_64 -accel kvm -cpu host -m 256M -nographic \
		-no-reboot -kernel "$kernel" -initrd "$BASE_BUILD/initramfs.cpio.gz" \
		-append "console=ttyS0 mmrust.mode=probe kunit.enable=0 panic=-1" \
		-serial stdio -monitor none 2>/dev/null | grep -q 'mmrust probe ok'; then
		accel=kvm cpu=host
	else
		echo "qemu: KVM probe failed, using TCG" >&2
	fi
fi

args=(-accel "$accel" -cpu "$cpu" -smp "$SMP" -m "$MEM" -no-reboot
      -kernel "$kernel" -initrd "${INITRD:-$BASE_BUILD/initramfs.cpio.gz}"
      -drive "file=$swap,if=virtio,format=raw"
      -nodefaults -display none -monitor none)
# ignore_loglevel: no test can hide a splat by lowering the console level.
cmdline="console=ttyS0 ignore_loglevel panic=-1 hugepages=64 mmrust.mode=$mode ${APPEND:-}"

case $mode in
shell)
	exec qemu-system-x86_64 "${args[@]}" -serial mon:stdio -append "$cmdline"
	;;
*)
	rm -f "$run/console.log" "$run/tests.log" "$run/qemu.rc"
	deadline=${BOOT_DEADLINE:-0}
	echo "qemu: booting ($mode, $accel, -smp $SMP, timeout ${TIMEOUT}s, boot deadline ${deadline}s)" >&2
	touch "$run/console.log" "$run/tests.log"
	timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${args[@]}" \
		-serial "file:$run/console.log" -serial "file:$run/tests.log" \
		-append "$cmdline" </dev/null &
	qpid=$!
	rc=
	if ((deadline > 0)); then
		# Boot watchdog: the guest must start its tests in time.
		for ((t = 0; t < deadline; t += 2)); do
			kill -0 "$qpid" 2>/dev/null || break
			grep -q '^### MMRUST TESTS BEGIN' "$run/tests.log" && break
			sleep 2
		done
		if kill -0 "$qpid" 2>/dev/null &&
			! grep -q '^### MMRUST TESTS BEGIN' "$run/tests.log"; then
			echo "qemu: the guest did not start its tests within ${deadline}s; console tail:" >&2
			tail -n 30 "$run/console.log" | tr -d '\r' | sed 's/^/  /' >&2
			pkill -KILL -P "$qpid" 2>/dev/null || true
			kill -KILL "$qpid" 2>/dev/null || true
			wait "$qpid" 2>/dev/null || true
			rc=125
		fi
	fi
	if [[ -z $rc ]]; then
		rc=0
		wait "$qpid" || rc=$?
	fi
	echo "$rc" >"$run/qemu.rc"
	[[ $rc -eq 124 || $rc -eq 137 ]] && echo "qemu: TIMEOUT after ${TIMEOUT}s" >&2
	exit $rc
	;;
esac
