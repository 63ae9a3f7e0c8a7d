#!/bin/bash
# Build the guest initramfs: static busybox, the init script, the test
# runner, the default test list and the statically linked selftests that
# both lists of $BASE name (scripts/lists.sh).  make check appends each
# run's own list (scripts/check.sh).
. "$(dirname "$0")/lib.sh"
root=$BASE_BUILD/initramfs
out=$BASE_BUILD/initramfs.cpio.gz
rm -rf "$root"
mkdir -p "$root"/{bin,sbin,proc,sys,dev,tmp,tests,etc,root}
cp /bin/busybox "$root/bin/busybox"
file -b "$root/bin/busybox" 2>/dev/null | grep -q static ||
	ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' ||
	die "/bin/busybox is not static: install busybox-static"
cp "$TOP/guest/init" "$root/init"
cp "$TOP/guest/run-tests.sh" "$TOP/guest/tour.sh" "$TOP/guest/bench.sh" \
	"$TOP/guest/cmdline-arg" "$root/tests/"
"$TOP/scripts/lists.sh" normal >"$root/tests/list"
grep -vE '^\s*(#|$)' "$TOP/guest/$BASE/features" >"$root/tests/features"
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
echo 'nogroup:x:65534:' >>"$root/etc/group"
while read -r name; do
	bin=$BASE_BUILD/selftests/$name
	[[ -x $bin ]] || die "selftest $name was not built ($bin)"
	cp "$bin" "$root/tests/"
done < <("$TOP/scripts/lists.sh" programs)
for extra in "$BUILD"/guest-bin/*; do
	[[ -x $extra ]] && cp "$extra" "$root/tests/"
done
(cd "$root" && find . -print0 | cpio --null -o -H newc --quiet) | gzip -1 >"$out"
echo "initramfs: $out ($(du -h "$out" | cut -f1))"
