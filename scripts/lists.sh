#!/bin/bash
# The kselftest lists of make check for $BASE, in guest/<base>/tests.list
# format:
#   lists.sh normal|debug   the lines of that kernel's list
#   lists.sh programs       the names of every program either list runs
# TESTS_LIST=file replaces both lists.
# shellcheck source=scripts/lib.sh
. "$(dirname "$0")/lib.sh"
lines() { grep -vE '^\s*(#|$)' "$1"; }
case $1 in
normal) lines "${TESTS_LIST:-$TOP/guest/$BASE/tests.list}" ;;
debug) lines "${TESTS_LIST:-$TOP/guest/$BASE/tests-debug.list}" ;;
programs) { "$0" normal; "$0" debug; } | awk '!seen[$1]++ {print $1}' ;;
*) die "usage: lists.sh normal|debug|programs" ;;
esac
