#!/bin/bash
# One real guest under limad --system: limad-alice creates an instance from
# template:debian-12-local with a writable 9p mount of a folder of hers and starts it with
# limactl --system; QEMU and the host agent run as her, `limactl --system shell` works for
# her and not for limad-bob, files the guest writes appear on the host owned by her, and
# bob can neither stop nor delete it. Boots one guest (~2 min under TCG): run it under
# `flock /tmp/limad-vm.lock` on a shared machine.
#
# MOUNT_TYPE virtiofs: the same through the C virtiofsd, which stays root (sandboxed, with
# the owner as its real uid so the agent can stop it).
#
#   tests/system/test-vm-system.sh BUILD_DIR [MOUNT_TYPE]    (as root; prints TAP)
set -u
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP needs root: test users, polkit rules and a system bus"
        exit 0
fi
limactl=$build/client/limactl
mount_type=${2:-9p}
work=$(mktemp -d /tmp/limad-sysvm-XXXXXX)
. "$src/tests/system/private-system-bus.sh"

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }
cleanup() {
        as limad-alice "$limactl" --system stop -f vm >/dev/null 2>&1
        system_bus_stop
        if [ "$fail" -gt 0 ]; then prune_kept_work "$work"
                echo "# kept $work (limad.log, state/vm/*.log; disks removed)"; else
                rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
require_image
status() { busctl --system get-property io.lima.lima1 /io/lima/lima1/instance/vm \
        io.lima.lima1.Instance Status 2>&1; }

share=$work/alice-share
mkdir -p "$share"
chown limad-alice: "$share"

if out=$(as limad-alice "$limactl" --system create --name=vm --mount="$share:w" \
        --mount-type="$mount_type" template:debian-12-local 2>&1); then
        ok "alice creates vm with limactl --system ($mount_type)"
else
        not_ok "create: $out"
        exit 1
fi
start=$(date +%s)
if out=$(as limad-alice "$limactl" --system start vm 2>&1); then
        ok "alice starts it with limactl --system ($(($(date +%s) - start)) s)"
else
        not_ok "start: $out; $(tail -5 "$state/vm/ha.stderr.log")"
        exit 1
fi
qemu_user=$(ps -o user= -p "$(cat "$state/vm/qemu.pid")" 2>&1)
[ "$qemu_user" = limad-alice ] && ok "QEMU runs as alice" || not_ok "QEMU runs as: $qemu_user"
agent_user=$(ps -o user= -p "$(cat "$state/vm/ha.pid")" 2>&1)
[ "$agent_user" = limad-alice ] && ok "the host agent runs as alice" ||
        not_ok "the agent runs as: $agent_user"
if [ "$mount_type" = virtiofs ]; then
        vpid=$(pgrep -f -- "--socket-path=$state/vm/" | head -1)
        ids=$(ps -o ruid=,euid= -p "${vpid:-0}" 2>&1 | xargs)
        [ "$ids" = "$alice_uid 0" ] &&
                ok "virtiofsd runs as root (the C daemon needs it) with alice as real uid" ||
                not_ok "virtiofsd ids: $ids"
        grep -q -- "sandbox=namespace" "/proc/${vpid:-0}/cmdline" 2>/dev/null &&
                ok "virtiofsd is sandboxed (-o sandbox=namespace)" ||
                not_ok "virtiofsd argv: $(tr '\0' ' ' <"/proc/${vpid:-0}/cmdline" 2>&1)"
fi

out=$(cd "$share" && as limad-alice "$limactl" --system shell vm -- id -un 2>&1)
[ "$out" = limad-alice ] && ok "limactl --system shell works for alice (guest user $out)" ||
        not_ok "shell as alice: $out"
out=$(as limad-alice "$limactl" --system shell vm -- sh -c "echo hi >'$share/from-guest'" 2>&1)
owner=$(stat -c %U "$share/from-guest" 2>&1)
[ "$owner" = limad-alice ] && ok "a file the guest writes in the $mount_type mount is alice's on the host" ||
        not_ok "from-guest: $owner ($out)"
if out=$(as limad-bob "$limactl" --system shell vm -- true 2>&1); then
        not_ok "bob got a shell in alice's instance"
elif [[ "$out" == *"only its owner can open a shell"* ]]; then
        ok "limactl --system shell is refused to bob, saying why"
else
        not_ok "bob's shell: $out"
fi
out=$(as limad-bob "$limactl" --system stop vm 2>&1)
if [ $? -ne 0 ] && [[ "$out" == *"may not stop"* ]] && [ "$(status)" = 's "Running"' ]; then
        ok "bob cannot stop it; it keeps running"
else
        not_ok "bob's stop: $out; status $(status)"
fi
out=$(as limad-bob "$limactl" --system delete -f vm 2>&1)
if [ $? -ne 0 ] && [ "$(status)" = 's "Running"' ]; then ok "bob cannot delete it"; else
        not_ok "bob's delete: $out; status $(status)"; fi
out=$(as limad-alice "$limactl" --system stop vm 2>&1)
[ "$(status)" = 's "Stopped"' ] && ok "alice stops it" || not_ok "stop: $out; status $(status)"
[ -z "$(pgrep -u limad-alice -f qemu-system)" ] && ok "no QEMU of alice's is left" ||
        not_ok "QEMU left: $(pgrep -u limad-alice -af qemu-system)"
if [ "$mount_type" = virtiofs ]; then
        [ -z "$(pgrep -f -- "--socket-path=$state/vm/")" ] && ok "no virtiofsd is left" ||
                not_ok "virtiofsd left: $(pgrep -af -- "--socket-path=$state/vm/")"
fi

echo "1..$((pass + fail))"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
