#!/bin/bash
# Build the guest initramfs: static busybox, the init script, the test
# runner and the statically linked selftests named in guest/tests.list.
. "$(dirname "$0")/lib.sh"
root=$BUILD/initramfs
out=$BUILD/initramfs.cpio.gz
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,tests,etc,root}
cp /bin/busybox "$root/bin/busybox"
file -b "$root/bin/busybox" 2>/dev/null | grep -q static ||
	ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
	die "/bin/busybox is not static: install busybox-static"
cp "$TOP/guest/init" "$root/init"
cp "$TOP/guest/run-tests.sh" "$TOP/guest/tour.sh" "$TOP/guest/bench.sh" "$root/tests/"
grep -vE '^\s*(#|$)' "${TESTS_LIST:-$TOP/guest/tests.list}" >"$root/tests/list"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
echo 'nogroup:x:65534:' >>"$root/etc/group"
while read -r name _; do
	[[ -z $name || $name == \#* ]] && continue
	bin=$BUILD/selftests/$name
	[[ -x $bin ]] || die "selftest $name was not built ($bin)"
	cp "$bin" "$root/tests/"
done <"${TESTS_LIST:-$TOP/guest/tests.list}"
for extra in "$BUILD"/guest-bin/*; do
	[[ -x $extra ]] && cp "$extra" "$root/tests/"
done
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out"
echo "initramfs: $out ($(du -h "$out" | cut -f1))"
