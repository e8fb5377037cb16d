#!/bin/bash
# limad's calls to a host agent wait as long as the work takes, and no longer: a stand-in
# agent (tests/stress/fake-lima-hostagent.c) that takes 30 s to "power off" — longer than
# sd-bus's 25 s default — is still waited for, and Stop then succeeds with nothing logged;
# one that never answers gets io.lima.lima1.Error.Timeout, saying what to do, once the stop
# timeout (here shortened through $LIMAD_AGENT_STOP_TIMEOUT_SEC) has passed. No guest.
#
#   tests/stress/test-agent-timeouts.sh BUILD_DIR   (prints TAP; ~45 s)
set -u
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/limad-timeouts-XXXXXX)
. "$src/tests/vm/private-bus.sh"
fake=
trap '[ -n "$fake" ] && kill "$fake" 2>/dev/null; private_bus_stop; rm -rf "$work"' EXIT

n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - ${1//$'\n'/ | }"; }
M=(io.lima.lima1 /io/lima/lima1 io.lima.lima1.Manager)
busctl --user call "${M[@]}" CreateInstance 'ssa{sv}' slow \
        'images: [{location: /nonexistent/limad-test.qcow2, arch: x86_64}]' 0 >/dev/null ||
        { echo "Bail out! cannot create the instance: $(tail -3 "$work/limad.log")"; exit 1; }
path=$(busctl --user call "${M[@]}" GetInstance s slow | sed 's/^o "\(.*\)"$/\1/')

start_fake() { # DELAY
        # A stand-in killed mid-call by design: its sd-bus objects are not freed, which is no
        # finding of limad's (the sanitizer build would report them as leaks).
        ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
                "$build/tests/stress/fake-lima-hostagent" "$LIMA_HOME/slow" "$1" 2>>"$work/fake.log" &
        fake=$!
        for _ in $(seq 50); do [ -S "$LIMA_HOME/slow/ha.sock" ] && break; sleep 0.1; done
}
stop_call() { # FORCE → prints the gdbus outcome, sets $secs
        local t=$SECONDS
        out=$(gdbus call --session --timeout 300 --dest io.lima.lima1 --object-path "$path" \
                --method io.lima.lima1.Instance.Stop "$1" 2>&1)
        rc=$?
        secs=$((SECONDS - t))
}

# 1. A power-off that takes 30 s: waited for, success, no warning in the log.
start_fake 30
stop_call false
if [ $rc -eq 0 ] && [ $secs -ge 28 ]; then
        ok "Stop waits for an agent that takes 30 s (> sd-bus's 25 s default): ${secs} s"
else
        not_ok "Stop with a 30 s agent: rc $rc after ${secs} s: $out"
fi
if grep -q "agent Stop" "$work/limad.log"; then
        not_ok "limad logged a failed agent Stop: $(grep "agent Stop" "$work/limad.log")"
else
        ok "no 'agent Stop' error in limad's log"
fi
status=$(busctl --user get-property io.lima.lima1 "$path" io.lima.lima1.Instance Status)
[ "$status" = 's "Stopped"' ] && ok "the instance is Stopped" || not_ok "Status after stop: $status"
wait "$fake" 2>/dev/null
fake=

# 2. An agent that never answers: the named error, with what to do, after the timeout.
busctl --user call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        UpdateActivationEnvironment 'a{ss}' 1 LIMAD_AGENT_STOP_TIMEOUT_SEC 5
kill "$(busctl --user status io.lima.lima1 | sed -n 's/^PID=//p')"
sleep 0.5
start_fake -1
stop_call false
if [ $rc -ne 0 ] && [[ "$out" == *"io.lima.lima1.Error.Timeout:"* ]] && [ $secs -le 20 ]; then
        ok "Stop of an agent that never answers: io.lima.lima1.Error.Timeout after ${secs} s"
else
        not_ok "Stop of a silent agent: rc $rc after ${secs} s: $out"
fi
[[ "$out" == *"limactl stop --force slow"* ]] && ok "the error says what to do" ||
        not_ok "the error does not name the way out: $out"
status=$(busctl --user get-property io.lima.lima1 "$path" io.lima.lima1.Instance Status)
[ "$status" = 's "Running"' ] && ok "Status is the agent's again (Running), not stuck at Stopping" ||
        not_ok "Status after the timeout: $status"
busctl --user get-property "${M[@]}" Version >/dev/null && ok "limad still answers" ||
        not_ok "limad died"
echo "1..$n"
[ $fail -eq 0 ]
