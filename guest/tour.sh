#!/bin/sh
# The feature tour that "make run" shows: what this base's series has
# (/tests/features, from guest/<base>/features).
has() { grep -qx "$1" /tests/features; }
echo
echo "=== mmrust tour: $(uname -r) ==="
cat /proc/swaps | sed 's/^/  /'
echo
if has droppable; then
	/tests/droppable_demo
	echo
fi
if has madvise; then
	/tests/madv_demo
	echo
fi
if has refpage; then
	/tests/refpage_demo
else
	echo "reference pages: not in this base's series yet"
fi
echo
echo "=== end of tour ==="
