#!/bin/bash
# limad --user on a socket it is handed (systemd socket activation here; launchd's Sockets on
# macOS), serving peer-to-peer D-Bus, and limactl finding it when no bus has limad. Also
# lints the launchd plists and verifies the user socket unit. No guest boots. Prints TAP.
#
#   tests/launchd/test-socket-activation.sh BUILD_DIR
set -u
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/limad-socket-XXXXXX)
limactl=$build/client/limactl
limad=$build/daemon/limad
act_pid=
bus_pid=

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }

stop_activator() {
        # systemd-socket-activate execs limad in its own process: this pid is limad's once
        # a client has connected.
        [ -n "$act_pid" ] && kill "$act_pid" 2>/dev/null && wait "$act_pid" 2>/dev/null
        act_pid=
        local f
        for f in "$LIMA_HOME"/*/ha.pid; do
                [ -f "$f" ] && kill -KILL "$(cat "$f")" 2>/dev/null
        done
        return 0
}
cleanup() {
        stop_activator
        [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null && wait "$bus_pid" 2>/dev/null
        rm -rf "$work"
}
trap cleanup EXIT

# --- the launchd plists ------------------------------------------------------------------
for plist in "$build"/launchd/*.plist; do
        name=$(basename "$plist")
        if out=$(python3 - "$plist" <<'PY' 2>&1
import plistlib, sys
p = plistlib.load(open(sys.argv[1], "rb"))
args = p["ProgramArguments"]
assert p["Label"].startswith("io.lima.limad"), p["Label"]
assert args[0].endswith("/limad") and args[0].startswith("/"), args
if "--user" in args:
    listener = p["Sockets"]["Listeners"]
    assert listener["SockFamily"] == "Unix" and listener["SockType"] == "stream", listener
    assert listener["SecureSocketWithKey"] == "LIMA_DAEMON_SOCKET", listener
    assert listener["SockPathMode"] == 0o600, listener
else:
    assert args[1:] == ["--system"], args
    assert p["EnvironmentVariables"]["DBUS_SYSTEM_BUS_ADDRESS"].startswith("unix:path=/")
    assert p["UserName"] == "root"
for v in [*args, *p.get("EnvironmentVariables", {}).values()]:
    assert "@" not in v, "unconfigured " + v
PY
); then
                ok "$name parses (plistlib) with the keys launchd needs"
        else
                not_ok "$name: $out"
        fi
        if command -v plistutil >/dev/null; then
                rm -f "$work/p.bin"
                plistutil -i "$plist" -f bin -o "$work/p.bin" >/dev/null 2>&1
                [ "$(head -c 8 "$work/p.bin" 2>/dev/null)" = bplist00 ] &&
                        ok "$name converts to a binary plist (plistutil)" ||
                        not_ok "$name: plistutil could not convert it"
        fi
done

# --- the user socket unit ----------------------------------------------------------------
mkdir -p "$work/units" "$work/bin" "$work/run"
chmod 700 "$work/run"
cp "$limad" "$work/bin/limad"
cp "$build/units/user/limad.socket" "$work/units/"
sed "s|^ExecStart=[^ ]*limad|ExecStart=$work/bin/limad|" "$build/units/user/limad-socket.service" \
        >"$work/units/limad-socket.service"
if out=$(XDG_RUNTIME_DIR=$work/run systemd-analyze --user verify \
        "$work/units/limad.socket" "$work/units/limad-socket.service" 2>&1) && [ -z "$out" ]; then
        ok "systemd-analyze --user verify limad.socket limad-socket.service: clean"
else
        not_ok "systemd-analyze: $out"
fi
grep -q '^ListenStream=%t/lima/limad.sock$' "$work/units/limad.socket" &&
        grep -q '^SocketMode=0600$' "$work/units/limad.socket" &&
        grep -q '^Type=notify$' "$work/units/limad-socket.service" &&
        ok "the socket is \$XDG_RUNTIME_DIR/lima/limad.sock, 0600, for a Type=notify limad" ||
        not_ok "socket unit settings"

# --- a user with no session bus ----------------------------------------------------------
export LIMA_HOME=$work/home LIMA_TEMPLATES_PATH=$src/templates LIMA_CACHE_HOME=$work/cache
export XDG_RUNTIME_DIR=$work/run
unset DBUS_SESSION_BUS_ADDRESS LIMA_DAEMON_ADDRESS LIMA_DAEMON_SOCKET
mkdir -p "$LIMA_HOME" "$XDG_RUNTIME_DIR/lima"
sock=$XDG_RUNTIME_DIR/lima/limad.sock
start_activator() {
        rm -f "$sock"
        systemd-socket-activate -E LIMA_HOME -E LIMA_TEMPLATES_PATH -E LIMA_CACHE_HOME \
                -E DBUS_SESSION_BUS_ADDRESS -l "$sock" "$limad" --user -v >>"$work/limad.log" 2>&1 &
        act_pid=$!
        for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
}
start_activator
echo 'images: [{location: /nonexistent/limad-socket.qcow2, arch: x86_64}]' >"$work/dev.yaml"
t0=$(date +%s%N)
out=$("$limactl" create --name dev "$work/dev.yaml" 2>&1)
rc=$?
t1=$(date +%s%N)
if [ $rc -eq 0 ] && [ -f "$LIMA_HOME/dev/lima.yaml" ] && grep -q "serving peers on the handed socket only" "$work/limad.log"; then
        ok "no session bus: limactl create reaches limad through the socket, which started it ($(( (t1 - t0) / 1000000 )) ms)"
else
        not_ok "create: $out | $(cat "$work/limad.log")"
fi
out=$("$limactl" list 2>&1)
[[ "$out" == *dev*Stopped* ]] && ok "limactl list over the socket" || not_ok "list: $out"
out=$(timeout 60 "$limactl" start dev 2>&1)
rc=$?
if [ $rc -eq 1 ] && [[ "$out" == *"limad-socket.qcow2"* ]] && [[ "$out" == *Broken* ]]; then
        ok "limactl start follows Status over the socket (PropertiesChanged reach the peer): Broken, with the reason"
else
        not_ok "start (rc $rc): $out"
fi
out=$("$limactl" stop dev 2>&1)
[ $? -eq 0 ] && ok "limactl stop over the socket" || not_ok "stop: $out"
n=$(grep -c "a peer connected" "$work/limad.log")
m=$(grep -c "a peer disconnected" "$work/limad.log")
[ "$n" -ge 4 ] && [ "$n" = "$m" ] && ok "one limad served $n connections, each closed when its client left" ||
        not_ok "connections: $n opened, $m closed"

# Two peers at once: a watcher sees the changes another client makes.
python3 -c '
import socket, sys, time
# Hold a connection open as a second client while limactl makes its own.
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(3)' "$sock" &
holder=$!
sleep 0.5
out=$("$limactl" list -q 2>&1)
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
[ "$out" = dev ] && ok "a second client is served while another holds a connection" ||
        not_ok "second client: $out"

# LIMA_DAEMON_ADDRESS names the socket explicitly.
out=$(env XDG_RUNTIME_DIR=/nonexistent LIMA_DAEMON_ADDRESS=unix:path=$sock "$limactl" list -q 2>&1)
[ "$out" = dev ] && ok "LIMA_DAEMON_ADDRESS names limad's socket" || not_ok "LIMA_DAEMON_ADDRESS: $out"
out=$(env LIMA_DAEMON_ADDRESS=unix:path=$work/nosuch.sock "$limactl" list 2>&1)
[ $? -ne 0 ] && [[ "$out" == *"cannot connect to limad at unix:path=$work/nosuch.sock"*"limad.socket"* ]] &&
        ok "a dead address is a clear error that says how to start limad" || not_ok "dead address: $out"

# Another uid may not talk to it (sd-bus EXTERNAL admits only the same uid and root).
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
        chmod 755 "$work" "$XDG_RUNTIME_DIR" "$XDG_RUNTIME_DIR/lima"
        chmod 666 "$sock"
        out=$(runuser -u nobody -- env XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR LIMA_HOME=/nonexistent \
                "$limactl" list 2>&1)
        [ $? -ne 0 ] && grep -q "refusing a peer of uid $(id -u nobody)" "$work/limad.log" &&
                ok "another user is refused even when the socket is open to all: ${out%%$'\n'*}" ||
                not_ok "nobody listed: $out"
        chmod 600 "$sock"
        chmod 700 "$work" "$XDG_RUNTIME_DIR"
fi
stop_activator

# --- a session bus without limad: the socket still serves -------------------------------
dbus-daemon --session --address="unix:path=$work/bus" --nofork --nopidfile 2>/dev/null &
bus_pid=$!
for _ in $(seq 50); do [ -S "$work/bus" ] && break; sleep 0.1; done
export DBUS_SESSION_BUS_ADDRESS=unix:path=$work/bus
: >"$work/limad.log"
start_activator
out=$("$limactl" list -q 2>&1)
if [ "$out" = dev ] && grep -q "serving io.lima.lima1 on the session bus" "$work/limad.log"; then
        ok "with a session bus, the socket-activated limad also serves that bus"
else
        not_ok "with a bus: $out | $(cat "$work/limad.log")"
fi
out=$(busctl --user get-property io.lima.lima1 /io/lima/lima1/instance/dev io.lima.lima1.Instance Status 2>&1)
[ "$out" = 's "Stopped"' ] && ok "and owns io.lima.lima1 there (busctl sees dev Stopped)" ||
        not_ok "busctl: $out"
out=$(timeout 20 systemd-socket-activate -l "$work/second.sock" -E LIMA_HOME \
        -E DBUS_SESSION_BUS_ADDRESS "$limad" --user 2>&1 &
        sleep 0.5
        python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' \
                "$work/second.sock"
        wait)
[[ "$out" == *"another limad already serves it"* ]] &&
        ok "a second socket-activated limad for the same bus refuses to run beside the first" ||
        not_ok "second limad: $out"
stop_activator

# --- misuse ------------------------------------------------------------------------------
out=$(timeout 20 systemd-socket-activate -l "$work/sys.sock" "$limad" --system 2>&1 &
        sleep 0.5
        python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])' \
                "$work/sys.sock"
        wait)
[[ "$out" == *"--system serves the system bus only"* ]] &&
        ok "limad --system refuses a handed socket (bus policy and polkit apply on the bus only)" ||
        not_ok "--system with a socket: $out"

echo "1..$((pass + fail))"
[ $fail -eq 0 ]
