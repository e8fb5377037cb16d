# Sourced by the system-mode tests: a private system bus that applies the project's policy
# (dbus/io.lima.lima1.conf, included as installed) and polkit's, polkitd on it with the test
# rules, and limad --system with a state folder of its own. Runs as root. Needs $build, $src
# and $work; exports DBUS_SYSTEM_BUS_ADDRESS. system_bus_stop ends what it started and
# removes the polkit files it installed.
#   LIMAD_TEST_NO_POLKIT=1: no polkitd (limad's fallback: owners and root only).
. "$src/tests/vm/image.sh"
LIMA_TEMPLATES_PATH=$(image_templates_path "$work/templates")
export LIMA_TEMPLATES_PATH
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/sysbus
state=$work/state
polkit_action=/usr/share/polkit-1/actions/io.lima.lima1.test-$$.policy
polkit_rules=/etc/polkit-1/rules.d/40-limad-test-$$.rules
system_bus_pids=()
chmod 0755 "$work"
# A run killed before its trap ran (SIGKILL) left its polkit files: remove those whose shell
# is gone, so stale rules never outlive their test.
for f in /usr/share/polkit-1/actions/io.lima.lima1.test-*.policy \
        /etc/polkit-1/rules.d/40-limad-test-*.rules; do
        [ -e "$f" ] || continue
        p=${f##*test-}
        p=${p%%.*}
        kill -0 "$p" 2>/dev/null || rm -f "$f"
done

# Test users: the owner, another user, and an admin the test rule lets do everything.
for u in limad-alice limad-bob limad-admin; do
        id -u "$u" >/dev/null 2>&1 || useradd --create-home --shell /bin/bash "$u"
done
alice_uid=$(id -u limad-alice)
bob_uid=$(id -u limad-bob)
admin_uid=$(id -u limad-admin)

cat >"$work/system.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$work/sysbus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus"
           send_interface="org.freedesktop.DBus.Properties"/>
  </policy>
  <include>$src/dbus/io.lima.lima1.conf</include>
  <include ignore_missing="yes">/usr/share/dbus-1/system.d/org.freedesktop.PolicyKit1.conf</include>
</busconfig>
CONF
dbus-daemon --config-file="$work/system.conf" --nofork --nopidfile 2>"$work/bus.log" &
system_bus_pids+=($!)
for _ in $(seq 50); do [ -S "$work/sysbus" ] && break; sleep 0.1; done

if [ -z "${LIMAD_TEST_NO_POLKIT:-}" ]; then
        # polkitd reads only its fixed folders: the actions and a rule, for this run only.
        install -m 0644 "$src/dbus/io.lima.lima1.policy" "$polkit_action"
        cat >"$polkit_rules" <<'RULES'
// limad's system test: limad-admin may do anything limad asks about; limad-alice may
// create instances. Everyone else gets the defaults of io.lima.lima1.policy.
polkit.addRule(function(action, subject) {
        if (action.id.indexOf("io.lima.lima1.") != 0)
                return polkit.Result.NOT_HANDLED;
        if (subject.user == "limad-admin")
                return polkit.Result.YES;
        if (action.id == "io.lima.lima1.create-instance" && subject.user == "limad-alice")
                return polkit.Result.YES;
        return polkit.Result.NOT_HANDLED;
});
RULES
        "$(dpkg -L polkitd | grep -m1 'polkitd$')" --no-debug >"$work/polkitd.log" 2>&1 &
        system_bus_pids+=($!)
        for _ in $(seq 100); do
                busctl --system status org.freedesktop.PolicyKit1 >/dev/null 2>&1 && break
                sleep 0.1
        done
fi

mkdir -p "$state" && chmod 0755 "$state"
"$build/daemon/limad" --system --state-dir "$state" -v >"$work/limad.log" 2>&1 &
limad_pid=$!
system_bus_pids+=($limad_pid)
for _ in $(seq 100); do
        busctl --system status io.lima.lima1 >/dev/null 2>&1 && break
        sleep 0.1
done

# as USER CMD…: CMD as USER (or root), on the private system bus.
as() {
        local user=$1
        shift
        if [ "$user" = root ]; then "$@"; else
                runuser -u "$user" -- env DBUS_SYSTEM_BUS_ADDRESS="$DBUS_SYSTEM_BUS_ADDRESS" \
                        LIMA_TEMPLATES_PATH="$LIMA_TEMPLATES_PATH" "$@"
        fi
}

system_bus_stop() {
        local f pid
        for f in "$state"/*/ha.pid; do
                [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
        done
        for ((i = ${#system_bus_pids[@]} - 1; i >= 0; i--)); do
                pid=${system_bus_pids[$i]}
                kill "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
        done
        rm -f "$polkit_action" "$polkit_rules"
        return 0
}
