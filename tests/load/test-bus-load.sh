#!/bin/bash
# Load on the real limad --user on a private session bus (no guest): 50 instances defined,
# 10 clients calling GetManagedObjects, GetInstance and Properties.Get in a loop, config
# changes whose PropertiesChanged every client must receive; limad's RSS must stay within 5 %
# after the warm-up; p50/p99 latency printed (tests/load/limad-bus-load.c).
#
#   tests/load/test-bus-load.sh BUILD_DIR [SECONDS]   (prints TAP)
# SECONDS: default 60 (or $LIMAD_LOAD_SECONDS); --full uses 600, with the RSS baseline taken
# after the first minute.
set -u
build=$(cd "$1" && pwd)
seconds=${2:-${LIMAD_LOAD_SECONDS:-60}}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/limad-load-XXXXXX)
. "$src/tests/vm/private-bus.sh"
trap 'private_bus_stop; rm -rf "$work"' EXIT

busctl --user get-property io.lima.lima1 /io/lima/lima1 io.lima.lima1.Manager Version \
        >/dev/null || { echo "Bail out! limad does not start: $(tail -5 "$work/limad.log")"; exit 1; }
pid=$(busctl --user status io.lima.lima1 | sed -n 's/^PID=//p')
"$build/tests/load/limad-bus-load" --pid "$pid" --seconds "$seconds" \
        --clients "${LIMAD_LOAD_CLIENTS:-10}" --instances 50 >"$work/load.out" 2>&1
rc=$?
sed -n '/^#/p' "$work/load.out"
if [ $rc -eq 0 ]; then
        echo "ok 1 - 10 clients on 50 instances: every call answered, every PropertiesChanged delivered, RSS stable"
else
        echo "not ok 1 - load: $(grep -v '^#' "$work/load.out" | head -10 | tr '\n' '|')"
fi
pid2=$(busctl --user status io.lima.lima1 2>/dev/null | sed -n 's/^PID=//p')
if [ "$pid2" = "$pid" ]; then
        echo "ok 2 - limad stayed up (pid $pid)"
else
        echo "not ok 2 - limad was replaced or died (pid $pid, now ${pid2:-none})"
        rc=1
fi
echo "1..2"
exit $rc
