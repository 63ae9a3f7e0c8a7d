#!/bin/sh
# The feature tour that "make run" shows.
echo
echo "=== mmrust tour: $(uname -r) ==="
cat /proc/swaps | sed 's/^/  /'
echo
/tests/droppable_demo
echo
/tests/refpage_demo
echo
echo "=== end of tour ==="
