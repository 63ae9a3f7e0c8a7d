#!/bin/bash
# make check: boot the guest, run every kselftest, count every KUnit and
# kselftest case, and fail on any failure or kernel splat.
. "$(dirname "$0")/lib.sh"
run=$BUILD/run
set +e
TIMEOUT=${TIMEOUT:-3000} "$TOP/scripts/qemu.sh" check
qrc=$?
set -e
echo "check: console log $run/console.log, test log $run/tests.log"
# Show the per-program summary lines of the kselftests.
grep -E '^(### END|# (Totals|PASSED|FAILED))' "$run/tests.log" | tr -d '\r' || true
set +e
python3 "$TOP/scripts/report.py" --kselftests --qemu-rc=$qrc "$run/console.log" "$run/tests.log"
rc=$?
set -e
exit $rc
