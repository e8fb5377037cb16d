#!/bin/bash
# tools/run-tests itself, in seconds and without a guest: a stage that hangs fails the run by
# its deadline, named, and what it started is ended; a skip is counted apart and, with
# CI=true, fails the run unless tests/skips-allowed.txt lists it; CI=true with no guest image
# fails a VM stage instead of skipping it. The closing line stays "N passed, N failed, …".
#
#   tests/ci/test-run-tests.sh BUILD_DIR     (prints TAP)
set -u
shopt -s extglob
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/limad-runtests-XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }
# Runs run-tests with a log folder of its own; sets out, rc, secs.
rt() {
        local t0
        t0=$(date +%s)
        out=$(env LIMAD_TEST_LOGS="$work/logs-$((pass + fail))" LIMAD_VM_LOCK=none LIMAD_NO_CLEANUP=1 \
                LIMAD_SYSTEM_LOCK=none "$@" 2>&1)
        rc=$?
        secs=$(($(date +%s) - t0))
}

# A hung stage (a stand-in for a guest that never answers, with a child of its own) under a
# 5 s run deadline.
rt "$src/tools/run-tests" --only selftest-hang --deadline 5
child=$(cat "$work"/logs-0/selftest-hang.child 2>/dev/null)
[ "$rc" -ne 0 ] && [ "$secs" -le 40 ] && ok "a hung stage fails the run by its deadline ($secs s, exit $rc)" ||
        not_ok "hung stage: exit $rc after $secs s: $out"
[[ $out == *"not ok - selftest-hang: passed its deadline of "* ]] &&
        ok "the failure names the stage and its deadline" || not_ok "no stage named: $out"
[ "$(tail -1 <<<"$out")" = "0 passed, 1 failed, 0 skipped" ] &&
        ok "the last line is the count CI reads" || not_ok "last line: $(tail -1 <<<"$out")"
# Gone, or a zombie about to be reaped (its parent was ended too).
gone() { for _ in $(seq 20); do [[ $(ps -o stat= -p "$1") == @(|Z*) ]] && return 0; sleep 0.25; done; return 1; }
[ -n "$child" ] && gone "$child" && ok "what the hung stage started was ended" ||
        not_ok "the hung stage's child ${child:-?} is still running"

# A skip: counted apart, shown; a failure under CI=true unless allowed.
rt env CI= "$src/tools/run-tests" --only selftest-skip
[ "$rc" -eq 0 ] && [ "$(tail -1 <<<"$out")" = "0 passed, 0 failed, 1 skipped" ] &&
        ok "a skip is counted as skipped, not passed" || not_ok "skip counted: exit $rc: $out"
rt env CI=true "$src/tools/run-tests" --only selftest-skip
[ "$rc" -ne 0 ] && [[ $out == *"not in tests/skips-allowed.txt"* ]] &&
        ok "with CI=true an unlisted skip fails the run" || not_ok "CI=true skip: exit $rc: $out"

# No guest image under CI=true: the VM stage fails at once, saying so (no guest boots).
rt env CI=true LIMA_CACHE_DIR="$work/no-cache" "$src/tools/run-tests" --only vm-mounts-9p
[ "$rc" -ne 0 ] && [[ $out == *"no guest image in $work/no-cache"* ]] &&
        [[ $(tail -1 <<<"$out") == "0 passed, 1 failed"* ]] &&
        ok "CI=true with the image missing fails instead of skipping ($secs s)" ||
        not_ok "CI=true without an image: exit $rc: $out"
rt env CI= LIMA_CACHE_DIR="$work/no-cache" "$src/tools/run-tests" --only vm-mounts-9p
[ "$rc" -eq 0 ] && [[ $(tail -1 <<<"$out") == "0 passed, 0 failed, 1 skipped" ]] &&
        ok "without CI=true the missing image is a counted skip" ||
        not_ok "no image, no CI: exit $rc: $out"

echo "1..$((pass + fail))"
[ "$fail" -eq 0 ]
