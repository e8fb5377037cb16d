#!/bin/bash
# The GNOME Shell extension in a real gnome-shell 43 (headless, a virtual monitor) against the
# real limad --user on a private session bus, with a private system bus beside it as the Shell
# needs one, and limad --system on that private system bus (as root). Instances in several
# states (stopped with a mount, broken with a dead agent, one stuck starting on an image that
# never downloads, one on the system bus), no guest boots. The extension's test hook
# (exported only when LIMAD_EXTENSION_TEST is set) describes the menu, activates its items and
# saves a screenshot. Prints TAP.
#
#   tests/desktop/test-extension.sh BUILD_DIR [LANGUAGE]
#     LANGUAGE (e.g. de) runs the shell in that language and checks the menu is translated.
set -u
build=$(cd "$1" && pwd)
lang=${2:-}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/limad-desktop-XXXXXX)
limactl=$build/client/limactl
uuid=limad@lima.io
shot=$build/tests/desktop/extension${lang:+-$lang}.png
shell_pid=
sys_pid=
sys_limad_pid=
hang_pid=

if ! command -v gnome-shell >/dev/null; then
        echo "1..0 # SKIP gnome-shell is not installed (tools/install-deps installs it)"
        exit 0
fi

cleanup() {
        # A SIGTERM'd gnome-shell 43 segfaults; KILL it, it holds no state here.
        [ -n "$shell_pid" ] && kill -KILL "$shell_pid" 2>/dev/null && wait "$shell_pid" 2>/dev/null
        [ -n "$hang_pid" ] && kill "$hang_pid" 2>/dev/null
        [ -n "$sys_limad_pid" ] && kill "$sys_limad_pid" 2>/dev/null && wait "$sys_limad_pid" 2>/dev/null
        private_bus_stop
        [ -n "$sys_pid" ] && kill "$sys_pid" 2>/dev/null && wait "$sys_pid" 2>/dev/null
        rm -rf "$work"
}

export HOME=$work/user XDG_RUNTIME_DIR=$work/run XDG_CONFIG_HOME=$work/user/.config
export XDG_DATA_HOME=$work/user/.local/share XDG_CACHE_HOME=$work/user/.cache
mkdir -p "$HOME" "$XDG_DATA_HOME/gnome-shell/extensions" "$(dirname "$shot")"
mkdir -m 700 "$XDG_RUNTIME_DIR"
. "$src/tests/vm/private-bus.sh"
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }

# The Shell's login manager code needs a system bus; a private one, open to all.
cat >"$work/system.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$work/sysbus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow receive_type="method_call"/><allow receive_type="method_return"/>
    <allow receive_type="error"/><allow receive_type="signal"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
dbus-daemon --config-file="$work/system.conf" --nofork --nopidfile 2>"$work/sysbus.log" &
sys_pid=$!
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$work/sysbus
for _ in $(seq 50); do [ -S "$work/sysbus" ] && break; sleep 0.1; done

# A system limad on that bus too (no polkit there: root, which this test runs as, may act),
# with one instance, sysdev: the menu shows both buses.
if [ "$(id -u)" -eq 0 ]; then
        mkdir -m 755 "$work/state"
        env LIMAD_SYSTEMD=0 "$build/daemon/limad" --system --state-dir "$work/state" -v \
                >"$work/limad-system.log" 2>&1 &
        sys_limad_pid=$!
        for _ in $(seq 50); do
                busctl --system status io.lima.lima1 >/dev/null 2>&1 && break
                sleep 0.1
        done
        echo 'images: [{location: /nonexistent/limad-desktop.qcow2, arch: x86_64}]' >"$work/sys.yaml"
        out=$("$limactl" --system create --name sysdev "$work/sys.yaml" 2>&1) ||
                not_ok "create sysdev on the system bus: $out"
fi

# Instances: dev (stopped, one mount), web (its agent died: Broken), slow (its image is
# served by a listener that never answers, so a start stays Starting until stopped).
mkdir -p "$work/share" "$work/more"
python3 -c 'import socket,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(16)
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$work/hang.port" &
hang_pid=$!
for _ in $(seq 50); do [ -s "$work/hang.port" ] && break; sleep 0.1; done
echo 'images: [{location: /nonexistent/limad-desktop.qcow2, arch: x86_64}]' >"$work/missing.yaml"
echo "images: [{location: \"http://127.0.0.1:$(cat "$work/hang.port")/never.qcow2\", arch: x86_64}]" \
        >"$work/slow.yaml"
for args in "dev --mount $work/share:w $work/missing.yaml" "web $work/missing.yaml" \
        "slow $work/slow.yaml"; do
        set -- $args
        name=$1
        shift
        out=$("$limactl" create --name "$name" "$@" 2>&1) || not_ok "create $name: $out"
done

# The extension as the build made it (GNOME 43 form), with the catalogue when one was built.
ext=$XDG_DATA_HOME/gnome-shell/extensions/$uuid
mkdir -p "$ext"
cp "$build/desktop/gnome-shell/gnome-43/"{metadata.json,extension.js,indicator.js,model.js} "$ext/"
for mo in "$build"/po/*/LC_MESSAGES/limad.mo; do
        [ -f "$mo" ] || continue
        l=$(basename "$(dirname "$(dirname "$mo")")")
        mkdir -p "$ext/locale/$l/LC_MESSAGES"
        cp "$mo" "$ext/locale/$l/LC_MESSAGES/"
done

rm -f "$XDG_RUNTIME_DIR/gnome-shell-disable-extensions"
start=$(date +%s.%N)
env GSETTINGS_BACKEND=memory LIMAD_EXTENSION_TEST=1 ${lang:+LANGUAGE=$lang LANG=C.UTF-8} \
        gnome-shell --headless --wayland --no-x11 --virtual-monitor 1280x720 \
        >"$work/shell.log" 2>&1 &
shell_pid=$!

gs() { gdbus call --session --dest org.gnome.Shell "$@" 2>&1; }
hook() { # METHOD ARGS…
        local m=$1
        shift
        gs --object-path /io/lima/lima1/ExtensionTest --method "io.lima.lima1.ExtensionTest.$m" "$@"
}
# The menu as JSON: {panel, icon, open, items: [{id, text, icon, sensitive}]}.
describe() { hook Describe | python3 -c 'import ast, sys; print(ast.literal_eval(sys.stdin.read())[0])'; }
# q PYTHON-EXPRESSION: true when it holds of the menu d (items by id in i).
q() {
        describe >"$work/menu.json" 2>&1 || return 1
        python3 -c "import json, sys
d = json.load(open('$work/menu.json')); i = {x['id']: x for x in d['items']}
sys.exit(0 if ($1) else 1)" 2>/dev/null
}
wait_for() { # SECONDS PYTHON-EXPRESSION
        local end=$((SECONDS + $1))
        while [ $SECONDS -lt $end ]; do
                q "$2" && return 0
                sleep 0.3
        done
        return 1
}
item_text() { python3 -c "import json; d = json.load(open('$work/menu.json'))
print(next((x['text'] for x in d['items'] if x['id'] == '$1'), ''))"; }
notifications() { hook Notifications; }

for _ in $(seq 300); do
        gs --object-path /org/gnome/Shell --method org.freedesktop.DBus.Properties.Get \
                org.gnome.Shell ShellVersion >"$work/version" 2>&1 && break
        kill -0 "$shell_pid" 2>/dev/null || break
        sleep 0.2
done
if grep -q "'43" "$work/version"; then
        ok "gnome-shell $(grep -o "43[.0-9]*" "$work/version") runs headless ($(printf '%.1f' \
                "$(echo "$(date +%s.%N) - $start" | bc)") s)"
else
        not_ok "gnome-shell did not come up: $(cat "$work/version"; tail -5 "$work/shell.log")"
        exit 1
fi
out=$(gs --object-path /org/gnome/Shell --method org.gnome.Shell.Extensions.EnableExtension "$uuid")
for _ in $(seq 50); do hook Describe >/dev/null 2>&1 && break; sleep 0.2; done
state=$(gs --object-path /org/gnome/Shell --method org.gnome.Shell.Extensions.GetExtensionInfo \
        "$uuid" | grep -o "'state': <[0-9.]*>")
if [ "$state" = "'state': <1.0>" ] && hook Describe >/dev/null 2>&1; then
        ok "the extension is enabled (ENABLED) and its test hook answers"
else
        not_ok "extension not enabled ($out, $state): $(grep -i -A3 'limad\|JS ERROR' \
                "$work/shell.log" | head -20)"
        exit 1
fi

sess=session
if wait_for 15 "'instance:$sess/dev' in i and 'instance:$sess/web' in i and 'instance:$sess/slow' in i"; then
        ok "the menu lists every instance on the session bus"
else
        not_ok "instances missing: $(cat "$work/menu.json")"
fi
if [ -n "$sys_limad_pid" ]; then
        sysword=$( [ -n "$lang" ] && echo "Systembus" || echo "system")
        q "'instance:system/sysdev' in i and i['instance:system/sysdev']['text'].endswith('($sysword)')" &&
                ok "the system limad's instance is listed too: $(item_text instance:system/sysdev)" ||
                not_ok "system bus instance: $(cat "$work/menu.json")"
fi
stopped=$( [ -n "$lang" ] && echo "Gestoppt" || echo "Stopped")
q "i['instance:$sess/dev']['text'].startswith('dev — $stopped') and i['instance:$sess/dev']['icon'] == 'media-playback-stop-symbolic'" &&
        ok "dev reads $stopped with the stop icon" || not_ok "dev: $(item_text "instance:$sess/dev")"
q "'start:$sess/dev' in i and 'stop:$sess/dev' not in i and 'shell:$sess/dev' not in i" &&
        ok "a stopped instance offers Start, not Stop or a shell" || not_ok "actions: $(cat "$work/menu.json")"
mp="mount:$sess/dev:$work/share"
pending=$( [ -n "$lang" ] && echo "ausstehend" || echo "pending")
q "'$mp' in i and '$work/share' in i['$mp']['text'] and '$pending' in i['$mp']['text']" &&
        ok "dev's mount is listed with its state: $(item_text "$mp")" ||
        not_ok "mount row: $(cat "$work/menu.json")"

if [ -n "$lang" ]; then
        # The translated run: the menu, its actions and a screenshot are what it is for.
        q "i['start:$sess/dev']['text'] == 'Starten'" && ok "the menu is in German: $(item_text "start:$sess/dev")" ||
                not_ok "not German: $(item_text "start:$sess/dev")"
        hook OpenMenu >/dev/null
        sleep 1
        out=$(hook Screenshot "$shot")
        [ "$out" = "(true,)" ] && [ -s "$shot" ] && ok "screenshot saved: $shot" || not_ok "screenshot: $out"
        echo "1..$((pass + fail))"
        [ $fail -eq 0 ]
        exit
fi

# limad goes away and comes back: the menu follows the name's owner, no polling.
# Meanwhile web's agent "dies": a pid file naming a dead process and a log tail.
pid=$(busctl --user status io.lima.lima1 2>/dev/null | sed -n 's/^PID=//p')
kill "$pid"
if wait_for 10 "'start-limad' in i and not any(k.startswith('instance:session/') for k in i)"; then
        ok "limad --user stopping takes its instances off the menu and offers to start it"
else
        not_ok "after limad stopped: $(cat "$work/menu.json")"
fi
sh -c 'exit 0' &
dead=$!
wait $dead
echo "$dead" >"$LIMA_HOME/web/ha.pid"
echo "qemu-system-x86_64: the agent was killed by the test" >"$LIMA_HOME/web/ha.stderr.log"
hook Activate start-limad >/dev/null
if wait_for 20 "'instance:$sess/web' in i and 'Broken' in i['instance:$sess/web']['text']"; then
        ok "'Start limad' brings limad back and the menu follows it: web reads Broken"
else
        not_ok "after restart: $(cat "$work/menu.json")"
fi
q "i['instance:$sess/web']['icon'] == 'dialog-error-symbolic' and any(k.startswith('error:$sess/web') for k in i)" &&
        ok "a broken instance has the error icon and shows limad's errors" ||
        not_ok "web: $(cat "$work/menu.json")"

# Add a mount through the dialog, then remove it through the menu.
hook Activate "add-mount:$sess/dev" >/dev/null
sleep 0.5
hook Activate "dialog:$work/more:/mnt/more:w" >/dev/null
if wait_for 10 "'mount:$sess/dev:/mnt/more' in i and 'writable' in i['mount:$sess/dev:/mnt/more']['text']"; then
        ok "Add a mount… adds it through limad (AddMount) and the menu shows it"
else
        not_ok "add mount: $(cat "$work/menu.json"; notifications)"
fi
grep -q "/mnt/more" "$LIMA_HOME/dev/lima.yaml" && ok "the mount is saved in lima.yaml" ||
        not_ok "lima.yaml: $(cat "$LIMA_HOME/dev/lima.yaml")"
hook Activate "add-mount:$sess/dev" >/dev/null
sleep 0.5
hook Activate "dialog:/nonexistent/limad-nope:/mnt/nope" >/dev/null
sleep 1
out=$(notifications)
[[ "$out" == *"/nonexistent/limad-nope"*"not an existing directory"* ]] &&
        ok "a refused mount is a notification with limad's message" || not_ok "notifications: $out"
hook Activate "remove-mount:$sess/dev:/mnt/more" >/dev/null
wait_for 10 "'mount:$sess/dev:/mnt/more' not in i and '$mp' in i" &&
        ok "Remove mount takes it away" || not_ok "remove: $(cat "$work/menu.json")"

# A start that fails: Starting, then Broken, limad's reason as a notification.
hook Activate "start:$sess/dev" >/dev/null
if wait_for 20 "'Broken' in i['instance:$sess/dev']['text']"; then
        ok "Start of dev (missing image) ends Broken in the menu"
else
        not_ok "start dev: $(cat "$work/menu.json")"
fi
sleep 0.5
out=$(notifications)
[[ "$out" == *"dev did not start"*"limad-desktop.qcow2"* ]] &&
        ok "the failed start is a notification naming the missing image" || not_ok "notifications: $out"

# A start that runs: progress while Starting, Stop offered, Stop ends it.
hook Activate "start:$sess/slow" >/dev/null
if wait_for 20 "'Starting' in i['instance:$sess/slow']['text'] and 'stop:$sess/slow' in i and 'progress:$sess/slow' in i"; then
        ok "slow reads Starting with its progress ($(item_text "progress:$sess/slow")) and offers Stop"
else
        not_ok "start slow: $(cat "$work/menu.json")"
fi
q "d['panel'].startswith('slow ')" && ok "the panel shows the start's progress: $(python3 -c \
        "import json; print(json.load(open('$work/menu.json'))['panel'])")" ||
        not_ok "panel: $(cat "$work/menu.json")"
hook OpenMenu >/dev/null
sleep 1
out=$(hook Screenshot "$shot")
if [ "$out" = "(true,)" ] && [ -s "$shot" ] && [ "$(head -c 4 "$shot" | tail -c 3)" = "PNG" ]; then
        ok "screenshot of the open menu saved: $shot"
else
        not_ok "screenshot: $out"
fi
hook CloseMenu >/dev/null
hook Activate "stop:$sess/slow" >/dev/null
if wait_for 30 "'Stopped' in i['instance:$sess/slow']['text'] and 'progress:$sess/slow' not in i"; then
        ok "Stop ends the start: slow reads Stopped, the progress is gone"
else
        not_ok "stop slow: $(cat "$work/menu.json"; notifications)"
fi
kill -0 "$shell_pid" 2>/dev/null && ok "gnome-shell is still running" || not_ok "gnome-shell died"
if grep -q "JS ERROR\|JS WARNING" "$work/shell.log" &&
        grep -A3 "JS ERROR\|JS WARNING" "$work/shell.log" | grep -q "$uuid"; then
        not_ok "the Shell logged errors from the extension: $(grep -A3 "JS ERROR" "$work/shell.log" | head)"
else
        ok "no JS error from the extension in the Shell's log"
fi
echo "# $((SECONDS)) s"
echo "1..$((pass + fail))"
[ $fail -eq 0 ]
