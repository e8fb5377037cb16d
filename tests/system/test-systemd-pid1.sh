#!/bin/bash
# limad under a real systemd as PID 1: a Debian 12 container (tools/build-systemd-rootfs,
# booted with systemd-nspawn) with this tree installed into an overlay on top of it. Inside:
# the first call on the system bus activates limad.service, limad-alice creates instance dev
# (template:debian-12-local, a 9p mount), `systemctl start lima@dev` brings it to Running
# (seen over D-Bus) with QEMU in the unit's cgroup and the mount readable in the guest,
# `systemctl stop lima@dev` powers the guest off cleanly (QEMU exits by itself) and limad
# says Stopped; `limactl --system start dev` then goes through lima@dev.service too, and
# `limactl --system stop [-f]` through the unit as well.
# Boots one guest (~2-4 min under TCG): run it under `flock /tmp/limad-vm.lock`.
#
#   tests/system/test-systemd-pid1.sh [BUILD_DIR]    (as root; prints TAP)
#
# BUILD_DIR (default: build-systemd-pid1 in the source tree) is configured here with
# --prefix=/usr, so the units, activation files and policy land where the container's systemd,
# dbus-daemon and polkitd look; it is (re)built incrementally on each run.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
bdir=${1:-$src/build-systemd-pid1}
image_dir=${LIMA_CACHE_DIR:-/var/cache/limad}/images/debian-12-local
rootfs_dir=${LIMA_CACHE_DIR:-/var/cache/limad}/rootfs-debian-12-systemd

script_t0=$(date +%s)
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }
note() { echo "# $*"; }

if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP needs root: overlay mount and systemd-nspawn"
        exit 0
fi
if ! command -v systemd-nspawn >/dev/null; then
        echo "1..0 # SKIP no systemd-nspawn (apt-get install systemd-container)"
        exit 0
fi
if [ ! -f "$image_dir/disk.qcow2" ]; then
        [ "${CI:-}" = true ] && { echo "Bail out! no guest image in $image_dir (CI=true)"; exit 1; }
        echo "1..0 # SKIP no guest image in $image_dir: run tools/build-guest-image"
        exit 0
fi

# --- the container root: cached tree + an overlay with this build installed -----------------
t0=$(date +%s)
if ! out=$("$src/tools/build-systemd-rootfs" 2>&1); then
        echo "Bail out! build-systemd-rootfs failed: $(echo "$out" | tail -5)"
        exit 1
fi
note "$(echo "$out" | tail -1) ($(($(date +%s) - t0)) s)"
t0=$(date +%s)
if [ ! -f "$bdir/build.ninja" ] &&
        ! out=$(meson setup "$bdir" "$src" --prefix=/usr -Dtests=false 2>&1); then
        echo "Bail out! meson setup $bdir: $(echo "$out" | tail -5)"
        exit 1
fi
if ! out=$(ninja -C "$bdir" 2>&1); then
        echo "Bail out! build in $bdir failed: $(echo "$out" | tail -5)"
        exit 1
fi
note "build with --prefix=/usr: $(($(date +%s) - t0)) s"

work=$(mktemp -d /var/tmp/limad-pid1-XXXXXX)
root=$work/root
mkdir -p "$work/upper" "$work/ovl-work" "$root"
nspawn_pid=
cleanup() {
        if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
                # SIGTERM makes systemd-nspawn shut the container down in order.
                kill -TERM "$nspawn_pid"
                for _ in $(seq 60); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.5; done
                kill -0 "$nspawn_pid" 2>/dev/null && kill -KILL "$nspawn_pid"
                wait "$nspawn_pid" 2>/dev/null
        fi
        mountpoint -q "$root" && umount "$root"
        if [ "$fail" -gt 0 ]; then
                echo "# kept $work (console.log; the container's files are in upper/)"
        else
                rm -rf --one-file-system "$work"
        fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
if ! out=$(mount -t overlay overlay \
        -o "lowerdir=$rootfs_dir/root,upperdir=$work/upper,workdir=$work/ovl-work" "$root" 2>&1); then
        echo "Bail out! overlay mount: $out"
        exit 1
fi
if ! out=$(meson install -C "$bdir" --destdir "$root" --no-rebuild --quiet 2>&1); then
        echo "Bail out! meson install: $(echo "$out" | tail -5)"
        exit 1
fi
mkdir -p "$root/srv/share"
echo "hello from the host $$" >"$root/srv/share/hello"
# limad-alice may create instances without an active session (she has none in here).
mkdir -p "$root/etc/polkit-1/rules.d"
cat >"$root/etc/polkit-1/rules.d/50-limad-test.rules" <<'EOF'
polkit.addRule(function(action, subject) {
        if (action.id == "io.lima.lima1.create-instance" && subject.user == "limad-alice")
                return polkit.Result.YES;
});
EOF

# --- boot -------------------------------------------------------------------------------------
t0=$(date +%s)
systemd-nspawn -D "$root" --register=no --keep-unit --boot --console=read-only \
        --machine="limad-pid1-$$" --bind-ro="$image_dir:/var/cache/limad/images/debian-12-local" >"$work/console.log" 2>&1 &
nspawn_pid=$!
ct_pid=
for _ in $(seq 100); do
        ct_pid=$(ps --ppid "$nspawn_pid" -o pid= 2>/dev/null | tr -d ' ')
        [ -n "$ct_pid" ] && break
        sleep 0.2
done
# ct CMD…: run in the container (all its namespaces), with a clean environment.
ct() {
        nsenter -t "$ct_pid" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}
as_alice() { ct runuser -u limad-alice -- env HOME=/home/limad-alice "$@"; }
state=
for _ in $(seq 120); do
        state=$(ct systemctl is-system-running 2>/dev/null)
        case $state in running | degraded) break ;; esac
        sleep 0.5
done
pid1=$(ct ps -o comm= -p 1 2>&1)
if [ "$pid1" = systemd ] && { [ "$state" = running ] || [ "$state" = degraded ]; }; then
        ok "systemd is PID 1 in the container and the system is $state ($(($(date +%s) - t0)) s)"
else
        not_ok "container boot: PID 1 is '$pid1', is-system-running '$state'; $(tail -5 "$work/console.log")"
        exit 1
fi

out=$(ct systemd-analyze verify limad.service lima@dev.service 2>&1)
[ -z "$out" ] && ok "systemd-analyze verify limad.service lima@dev.service: clean inside" ||
        not_ok "systemd-analyze verify inside: $out"

# --- activation -------------------------------------------------------------------------------
before=$(ct systemctl is-active limad.service 2>&1)
out=$(ct busctl --system call io.lima.lima1 /io/lima/lima1 io.lima.lima1.Manager ListTemplates 2>&1)
after=$(ct systemctl is-active limad.service 2>&1)
main=$(ct systemctl show -P MainPID limad.service)
comm=$(ct ps -o comm= -p "$main" 2>&1)
if [ "$before" = inactive ] && [[ $out == *debian-12-local* ]] && [ "$after" = active ] &&
        [ "$comm" = limad ]; then
        ok "the first call on the system bus starts limad.service (D-Bus activation)"
else
        not_ok "activation: before '$before', after '$after', main '$comm', call: $out"
        exit 1
fi
log=$(ct journalctl -b -u limad.service --no-pager -o cat 2>&1)
[[ $log == *"units of the system manager"* ]] && ok "limad takes the systemd route" ||
        not_ok "limad did not choose the systemd route: $log"

# --- create, then systemctl start -------------------------------------------------------------
ct useradd -m -U -s /bin/bash limad-alice
ct chown limad-alice: /srv/share /srv/share/hello
if out=$(as_alice limactl --system create --name=dev --mount-type=9p --mount=/srv/share \
        template:debian-12-local 2>&1); then
        ok "limad-alice creates dev (9p mount of /srv/share) with limactl --system"
else
        not_ok "create: $out"
        exit 1
fi

status() { # status [NAME]
        ct busctl --system get-property io.lima.lima1 "/io/lima/lima1/instance/${1:-dev}" \
                io.lima.lima1.Instance Status 2>&1 | sed -n 's/^s "\(.*\)"$/\1/p'
}
# watch_status FILE UNTIL_REGEX TIMEOUT_S: the distinct values Status takes, in order.
watch_status() {
        local file=$1 until=$2 deadline=$(($(date +%s) + $3)) last= s
        : >"$file"
        while [ "$(date +%s)" -lt "$deadline" ]; do
                s=$(status)
                if [ -n "$s" ] && [ "$s" != "$last" ]; then
                        echo "$s" >>"$file"
                        last=$s
                fi
                [[ $s =~ $until ]] && return 0
                sleep 0.5
        done
        return 1
}
seen() { paste -sd, "$1"; }

# --- failures through systemd (no guest boots) -------------------------------------------------
# An image that is not there: the agent fails before READY=1, so the start job fails.
printf 'images:\n- location: /var/cache/limad/images/no-such-image/disk.qcow2\n  arch: x86_64\nmounts: []\n' \
        >"$root/home/limad-alice/bad.yaml"
as_alice limactl --system create --name=bad /home/limad-alice/bad.yaml >/dev/null 2>&1
as_alice limactl --system start --timeout=2m bad >/dev/null 2>&1
for _ in $(seq 60); do [ "$(status bad)" = Broken ] && break; sleep 0.5; done
errors=$(ct busctl --system get-property io.lima.lima1 /io/lima/lima1/instance/bad \
        io.lima.lima1.Instance Errors 2>&1)
if [ "$(status bad)" = Broken ] && [[ $errors == *'journalctl -u lima@bad.service'* ]] &&
        [ "$(ct systemctl is-failed lima@bad.service)" = failed ]; then
        ok "a failed start job: Broken, and Errors points to journalctl -u lima@bad.service"
else
        not_ok "failed start: Status '$(status bad)', unit $(ct systemctl is-failed lima@bad.service), Errors: $errors"
fi
# A unit systemd refuses to start: a named error from Start, with the hint.
ct systemctl mask --runtime --quiet lima@bad.service
out=$(as_alice busctl --system call io.lima.lima1 /io/lima/lima1/instance/bad \
        io.lima.lima1.Instance Start 'a{sv}' 0 2>&1)
# busctl does not print the error's name; the host's gdbus does, on the container's bus (as root).
name_out=$(gdbus call --address "unix:path=/proc/$ct_pid/root/run/dbus/system_bus_socket" \
        --dest io.lima.lima1 --object-path /io/lima/lima1/instance/bad \
        --method io.lima.lima1.Instance.Start '{}' 2>&1)
ct systemctl unmask --runtime --quiet lima@bad.service
if [[ $out == *masked*journalctl* ]]; then
        ok "Start of a masked unit fails with systemd's reason and the journal hint"
else
        not_ok "Start of a masked unit: $out"
fi
if [[ $name_out == *"GDBus.Error:io.lima.lima1.Error.UnitFailed:"* ]]; then
        ok "and the error is named io.lima.lima1.Error.UnitFailed"
else
        not_ok "the masked unit's error name: $name_out"
fi

t0=$(date +%s)
ct systemctl start --no-block lima@dev.service
watch_status "$work/start.seen" '^(Running|Degraded|Broken|Stopped)$' 900
start_s=$(($(date +%s) - t0))
if [ "$(tail -1 "$work/start.seen")" = Running ] && grep -qx Starting "$work/start.seen"; then
        ok "systemctl start lima@dev: Status over D-Bus went $(seen "$work/start.seen") ($start_s s)"
else
        not_ok "systemctl start lima@dev: Status went $(seen "$work/start.seen"); $(ct journalctl -u lima@dev.service --no-pager -o cat | tail -8)"
        exit 1
fi
note "systemctl start lima@dev → Running: $start_s s"
[ "$(ct systemctl is-active lima@dev.service)" = active ] &&
        ok "lima@dev.service is active (READY=1 came with Running)" ||
        not_ok "lima@dev.service is $(ct systemctl is-active lima@dev.service)"

mounts=$(ct busctl --system get-property io.lima.lima1 /io/lima/lima1/instance/dev \
        io.lima.lima1.Instance Mounts 2>&1)
[[ $mounts == *'"/srv/share" "/srv/share" "9p" false "mounted"'* ]] &&
        ok "Mounts over D-Bus: /srv/share is a mounted 9p mount" || not_ok "Mounts: $mounts"
out=$(as_alice limactl --system shell --workdir / dev cat /srv/share/hello 2>&1)
[ "$out" = "hello from the host $$" ] && ok "the guest reads the host's file through the mount" ||
        not_ok "reading /srv/share/hello in the guest: $out"

cg=$(ct systemctl show -P ControlGroup lima@dev.service)
agent_pid=$(ct systemctl show -P MainPID lima@dev.service)
qemu_pid=$(ct pgrep -x qemu-system-x86 | head -1)
qemu_cg=$(ct cat "/proc/${qemu_pid:-0}/cgroup" 2>&1)
st=$(ct systemctl status --no-pager --lines=0 lima@dev.service 2>&1)
# One line per hierarchy: "0::CG" (unified), or "N:name=systemd:CG" where systemd runs the
# hybrid layout (as it does in this container).
if [ -n "$cg" ] && grep -qE "^(0:|[0-9]+:name=systemd):$cg\$" <<<"$qemu_cg" &&
        [ "$(ct ps -o comm= -p "$agent_pid")" = lima-hostagent ] &&
        [[ $st == *qemu-system-x86_64* ]]; then
        ok "QEMU (pid $qemu_pid) runs in lima@dev.service's cgroup ($cg), the agent is its main process"
else
        not_ok "unit cgroup '$cg', QEMU pid '$qemu_pid' in '$qemu_cg', main pid $agent_pid; status: $st"
fi
user=$(ct ps -o user= -p "$agent_pid" 2>&1)
[ "$user" = limad-alice ] && ok "the unit's agent runs as the owner, limad-alice" ||
        not_ok "the unit's agent runs as: $user"
out=$(as_alice limactl --system list 2>&1)
[[ $out == *dev*Running* ]] && ok "limactl --system list shows dev Running" ||
        not_ok "limactl --system list: $out"

# --- systemctl stop ---------------------------------------------------------------------------
t0=$(date +%s)
watch_status "$work/stop.seen" '^(Stopped|Broken)$' 300 &
watcher=$!
ct systemctl stop lima@dev.service
wait "$watcher"
stop_s=$(($(date +%s) - t0))
note "systemctl stop lima@dev: $stop_s s"
show=$(ct systemctl show -p ActiveState -p Result -p ExecMainStatus lima@dev.service | sort |
        paste -sd' ')
if [ "$show" = "ActiveState=inactive ExecMainStatus=0 Result=success" ]; then
        ok "systemctl stop lima@dev: the unit stopped cleanly ($show, $stop_s s)"
else
        not_ok "after systemctl stop: $show"
fi
journal=$(ct journalctl -u lima@dev.service --no-pager -o cat 2>&1)
if [[ $journal == *"QEMU exited by itself (status 0)"* ]] && [[ $journal != *"killing QEMU"* ]] &&
        [[ $journal != *"did not power off in time"* ]] && [[ $journal != *"Killing process"* ]]; then
        ok "the guest powered off and QEMU exited by itself (nothing killed)"
else
        not_ok "stop was not clean: $(echo "$journal" | tail -6)"
fi
if [ "$(tail -1 "$work/stop.seen")" = Stopped ] && grep -qx Stopping "$work/stop.seen"; then
        ok "limad followed the stop: Status went $(seen "$work/stop.seen")"
else
        not_ok "Status during the stop went $(seen "$work/stop.seen")"
fi

# --- limactl start goes through the unit --------------------------------------------------------
as_alice limactl --system start --timeout=15m dev >"$work/limactl-start.log" 2>&1 &
starter=$!
active=
for _ in $(seq 60); do
        active=$(ct systemctl is-active lima@dev.service)
        [ "$active" = activating ] || [ "$active" = active ] && break
        sleep 0.5
done
main=$(ct systemctl show -P MainPID lima@dev.service)
if { [ "$active" = activating ] || [ "$active" = active ]; } &&
        [ "$(ct ps -o comm= -p "$main")" = lima-hostagent ]; then
        ok "limactl --system start dev runs its agent as lima@dev.service ($active)"
else
        not_ok "after limactl start, lima@dev.service is '$active' (main pid $main)"
fi
# Stopped while still starting: limad stops the unit, and says so.
sleep 3
if out=$(as_alice limactl --system stop dev 2>&1); then
        s=$(status)
        a=$(ct systemctl is-active lima@dev.service)
        [ "$s" = Stopped ] && [ "$a" = inactive ] &&
                ok "limactl --system stop while starting: Stopped, lima@dev.service inactive" ||
                not_ok "after limactl stop: Status '$s', unit '$a'"
else
        not_ok "limactl --system stop: $out"
fi
wait "$starter"

# A forced stop once QEMU runs: KillUnit takes the whole cgroup at once.
as_alice limactl --system start --timeout=15m dev >/dev/null 2>&1 &
starter=$!
qemu_pid=
for _ in $(seq 240); do
        qemu_pid=$(ct pgrep -x qemu-system-x86 | head -1)
        [ -n "$qemu_pid" ] && break
        sleep 0.5
done
out=$(as_alice limactl --system stop -f dev 2>&1)
wait "$starter"
left=$(ct pgrep -x qemu-system-x86; ct pgrep -x lima-hostagent)
s=$(status)
if [ -n "$qemu_pid" ] && [ -z "$left" ] && [ "$s" = Stopped ] &&
        [ ! -e "$root/var/lib/lima/dev/ha.pid" ]; then
        ok "limactl --system stop -f with QEMU running: nothing left in the unit, Stopped"
else
        not_ok "forced stop: QEMU was '$qemu_pid', left '$left', Status '$s', stop said: $out"
fi
[ "$(ct systemctl is-failed lima@dev.service)" != failed ] &&
        ok "lima@dev.service is not left failed" ||
        not_ok "lima@dev.service is failed: $(ct systemctl status --no-pager lima@dev.service | tail -5)"

note "whole test: $(($(date +%s) - script_t0)) s"
echo "1..$((pass + fail))"
[ "$fail" -eq 0 ]
