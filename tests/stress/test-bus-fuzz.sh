#!/bin/bash
# D-Bus fuzzing of the real limad --user on a private session bus (no guest): several
# clients send random and malformed calls to every Manager and Instance method and property
# while instances are created and deleted under them (tests/stress/limad-bus-fuzz.c). limad
# must stay up (the same process), answer every call with a named error, and leave the
# fixtures as they were: the instance list, each lima.yaml and GetManagedObjects compared
# before and after.
#
#   tests/stress/test-bus-fuzz.sh BUILD_DIR [SECONDS]   (prints TAP)
# SECONDS (default 45, or $LIMAD_FUZZ_SECONDS) bounds the run; --full uses 1200 or more.
# $LIMAD_FUZZ_SEED replays a run; $LIMAD_FUZZ_LIMAD runs another limad binary (e.g. the
# ASan/UBSan build's).
set -u
build=$(cd "$1" && pwd)
seconds=${2:-${LIMAD_FUZZ_SECONDS:-45}}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/limad-fuzz-XXXXXX)
if [ -n "${LIMAD_FUZZ_LIMAD:-}" ]; then
        # private-bus.sh runs $build/daemon/limad: point a folder of our own at the other one.
        mkdir -p "$work/alt/daemon"
        ln -s "$LIMAD_FUZZ_LIMAD" "$work/alt/daemon/limad"
        fuzzer=$build/tests/stress/limad-bus-fuzz
        build=$work/alt
else
        fuzzer=$build/tests/stress/limad-bus-fuzz
fi
. "$src/tests/vm/private-bus.sh"
trap 'private_bus_stop; rm -rf "$work"' EXIT

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - ${1//$'\n'/ | }"; }
M=(io.lima.lima1 /io/lima/lima1 io.lima.lima1.Manager)

# Fixtures: fz-ok (valid, stopped) and fz-bad (a lima.yaml that no longer validates).
busctl --user call "${M[@]}" CreateInstance 'ssa{sv}' fz-ok \
        'images: [{location: /nonexistent/limad-fuzz.qcow2, arch: x86_64}]' 0 >/dev/null &&
        busctl --user call "${M[@]}" CreateInstance 'ssa{sv}' fz-bad \
                'images: [{location: /nonexistent/limad-fuzz.qcow2, arch: x86_64}]' 0 >/dev/null ||
        { echo "Bail out! cannot create the fixtures: $(tail -5 "$work/limad.log")"; exit 1; }
pid=$(busctl --user status io.lima.lima1 | sed -n 's/^PID=//p')
# Broken behind limad's back, then seen by a restart of limad: it loads it as invalid.
printf 'cpus: [not a number\n' >"$LIMA_HOME/fz-bad/lima.yaml"
kill "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done

snapshot() {
        (cd "$LIMA_HOME" && ls -1 && sha256sum -- */lima.yaml)
        # GetManagedObjects, in an order of our own (limad's follows its hash table).
        busctl --user --json=short call "${M[0]}" "${M[1]}" org.freedesktop.DBus.ObjectManager \
                GetManagedObjects | python3 -c 'import json, sys
print(json.dumps(json.load(sys.stdin)["data"], sort_keys=True, indent=0))'
}
before=$(snapshot)
pid=$(busctl --user status io.lima.lima1 | sed -n 's/^PID=//p')
[[ "$before" == *fz-bad* && "$before" == *fz-ok* && -n "$pid" ]] ||
        { echo "Bail out! fixtures not loaded: $before"; exit 1; }
rss0=$(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status)

"$fuzzer" --seconds "$seconds" --clients "${LIMAD_FUZZ_CLIENTS:-4}" \
        ${LIMAD_FUZZ_SEED:+--seed "$LIMAD_FUZZ_SEED"} fz-ok fz-bad >"$work/fuzz.out" 2>&1
rc=$?
sed -n '/^#/p' "$work/fuzz.out"
if [ $rc -eq 0 ]; then
        ok "every fuzzed call got a named error or a harmless success"
else
        not_ok "the fuzzer found problems: $(grep -v '^#' "$work/fuzz.out" | head -20)"
fi

# The fuzzer's find, checked every time: a base that is no file is refused, not read forever.
mkfifo "$work/fifo"
for base in /dev/zero "$work/fifo"; do
        out=$(timeout 20 gdbus call --session --timeout 15 --dest io.lima.lima1 \
                --object-path /io/lima/lima1 --method io.lima.lima1.Manager.ValidateConfig \
                "base: $base" 2>&1)
        [[ "$out" == *"GDBus.Error:io.lima.lima1.Error."*"is not a regular file"* ]] &&
                ok "ValidateConfig refuses base: $base at once" ||
                not_ok "ValidateConfig with base: $base: $out"
done

pid2=$(busctl --user status io.lima.lima1 2>/dev/null | sed -n 's/^PID=//p')
if [ -n "$pid2" ] && [ "$pid2" = "$pid" ]; then
        ok "limad stayed up: the same process ($pid) before and after"
else
        not_ok "limad was replaced or died (pid $pid, now ${pid2:-none}): $(grep -iE \
                'ERROR|CRITICAL|Sanitizer|runtime error' "$work/limad.log" | head -5)"
fi
echo "# limad RSS: ${rss0} kB before, $(awk '/^VmRSS/ {print $2}' /proc/"$pid"/status 2>/dev/null) kB after"
after=$(snapshot)
if [ "$after" = "$before" ]; then
        ok "state unchanged: instance list, every lima.yaml and GetManagedObjects"
else
        not_ok "state changed: $(diff <(echo "$before") <(echo "$after") | head -20)"
fi
if grep -qE 'AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:|CRITICAL' "$work/limad.log"; then
        not_ok "limad's log has sanitizer/critical reports: $(grep -E \
                'Sanitizer|runtime error:|CRITICAL' "$work/limad.log" | head -5)"
else
        ok "limad's log has no sanitizer or critical reports"
fi
echo "1..$n"
[ $fail -eq 0 ]
