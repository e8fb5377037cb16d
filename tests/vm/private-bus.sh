# Sourced by the VM tests and benchmarks: a private session bus whose D-Bus activation runs
# the limad under test, and a LIMA_HOME of its own. Needs $build (the meson build folder),
# $src (the source tree) and $work (a scratch folder); exports the environment limactl uses.
. "$src/tests/vm/image.sh"
export LIMA_HOME=$work/home
LIMA_TEMPLATES_PATH=$(image_templates_path "$work/templates")
export LIMA_TEMPLATES_PATH
export LIMA_CACHE_HOME=$work/cache
mkdir -p "$LIMA_HOME" "$work/services"

# D-Bus activation through the shipped file (dbus/io.lima.lima1.service as the build made it),
# with one change: its Exec's installed limad becomes the build's, started with this test's
# environment and -v into limad.log. Its Name, arguments and other keys are the shipped ones.
shipped_service=$build/dbus/io.lima.lima1.service
shipped_exec=$(sed -n 's/^Exec=//p' "$shipped_service")
case $shipped_exec in
*/limad\ * | */limad) ;;
*) echo "Bail out! $shipped_service: Exec is not limad: $shipped_exec"; exit 1 ;;
esac
shipped_args=${shipped_exec#*/limad}
sed "s|^Exec=.*|Exec=/bin/sh -c 'exec env LIMA_HOME=$LIMA_HOME LIMA_TEMPLATES_PATH=$LIMA_TEMPLATES_PATH LIMA_CACHE_HOME=$LIMA_CACHE_HOME $build/daemon/limad$shipped_args -v >>$work/limad.log 2>\\&1'|" \
        "$shipped_service" >"$work/services/io.lima.lima1.service"
cat >"$work/session.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=$work/bus</listen>
  <servicedir>$work/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$work/session.conf" --nofork --nopidfile 2>"$work/bus.log" &
bus_pid=$!
export DBUS_SESSION_BUS_ADDRESS=unix:path=$work/bus
for _ in $(seq 50); do [ -S "$work/bus" ] && break; sleep 0.1; done

# Ends what this bus started, and nothing else: its limad, and the host agents (so their
# QEMU) of instances in this LIMA_HOME.
private_bus_stop() {
        local pid f
        pid=$(busctl --user status io.lima.lima1 2>/dev/null | sed -n 's/^PID=//p')
        [ -n "$pid" ] && kill "$pid" 2>/dev/null
        for f in "$LIMA_HOME"/*/ha.pid; do
                [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
        done
        kill "$bus_pid" 2>/dev/null
        wait "$bus_pid" 2>/dev/null
        return 0
}
