#!/bin/bash
# Boot the built kernel under QEMU.
#   qemu.sh check|tour|shell
# check and tour write build/run/console.log (ttyS0, the kernel console)
# and build/run/tests.log (ttyS1, the test programs' TAP) and are killed
# after $TIMEOUT seconds.
#
# TCG is the default: nested KVM on these machines is unusable (it dies on
# "lock cmpxchg16b" or stalls in decompression).  ACCEL=kvm uses KVM only
# after a probe boot shows that it works.  Single-threaded TCG is the
# default because multi-threaded TCG hit a rare emulator crash during boot
# code patching; TCG_THREAD=multi selects it for benchmarks.
. "$(dirname "$0")/lib.sh"
mode=${1:-check}
run=$BUILD/run
mkdir -p "$run"
kernel=$KOBJ/arch/x86/boot/bzImage
[[ -f $kernel ]] || die "no kernel at $kernel: run 'make build'"
SMP=${SMP:-4}
MEM=${MEM:-2G}
TIMEOUT=${TIMEOUT:-2400}
swap=$run/swap.img
rm -f "$swap"
truncate -s "${SWAP_SIZE:-1G}" "$swap"
# A raw scratch disk (/dev/vdb) for tests that need a real block device,
# such as O_DIRECT through GUP.
scratch=$run/scratch.img
rm -f "$scratch"
truncate -s 16M "$scratch"

accel="tcg,thread=${TCG_THREAD:-single}"
cpu=max
if [[ ${ACCEL:-tcg} == kvm ]]; then
	if timeout 60 qemu-system-x86_64 -accel kvm -cpu host -m 256M -nographic \
		-no-reboot -kernel "$kernel" -initrd "$BUILD/initramfs.cpio.gz" \
		-append "console=ttyS0 mmrust.mode=probe kunit.enable=0 panic=-1" \
		-serial stdio -monitor none 2>/dev/null | grep -q 'mmrust probe ok'; then
		accel=kvm cpu=host
	else
		echo "qemu: KVM probe failed, using TCG" >&2
	fi
fi

args=(-accel "$accel" -cpu "$cpu" -smp "$SMP" -m "$MEM" -no-reboot
      -kernel "$kernel" -initrd "$BUILD/initramfs.cpio.gz"
      -drive "file=$swap,if=virtio,format=raw"
      -drive "file=$scratch,if=virtio,format=raw"
      -display none -monitor none)
cmdline="console=ttyS0 panic=-1 hugepages=64 mmrust.mode=$mode ${APPEND:-}"

case $mode in
shell)
	exec qemu-system-x86_64 "${args[@]}" -serial mon:stdio -append "$cmdline"
	;;
*)
	rm -f "$run/console.log" "$run/tests.log"
	echo "qemu: booting ($mode, $accel, -smp $SMP, timeout ${TIMEOUT}s)" >&2
	set +e
	timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${args[@]}" \
		-serial "file:$run/console.log" -serial "file:$run/tests.log" \
		-append "$cmdline" </dev/null
	rc=$?
	set -e
	[[ $rc -eq 124 || $rc -eq 137 ]] && echo "qemu: TIMEOUT after ${TIMEOUT}s" >&2
	exit $rc
	;;
esac
