#!/bin/bash
# One real guest under limad --system: limad-alice creates an instance from
# template:debian-12-local with a writable 9p mount of a folder of hers and starts it with
# limactl --system; QEMU and the host agent run as her, `limactl --system shell` works for
# her and not for limad-bob, files the guest writes appear on the host owned by her, and
# bob can neither stop nor delete it. Boots one guest (~2 min under TCG): run it under
# `flock /tmp/limad-vm.lock` on a shared machine.
#
# MOUNT_TYPE virtiofs: the same through the C virtiofsd, which serves with alice's rights
# only: it runs in a user namespace mapped from her /etc/subuid range (inside 0 -> her first
# subordinate uid, her uid -> herself), so guest root cannot read a root-only host file in a
# read-only mount nor make a device node, and what guest root writes lands as that
# unprivileged uid. Hold the system lock, then the VM lock.
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
# A folder of hers, mounted read-only, holding a file only root may read.
ro=$work/alice-ro
mkdir -p "$ro"
echo for-everyone >"$ro/public"
echo root-secret >"$ro/root-secret"
chmod 0644 "$ro/public"
chmod 0600 "$ro/root-secret"
chown limad-alice: "$ro"
extra_mounts=()
if [ "$mount_type" = virtiofs ]; then
        extra_mounts=(--mount="$ro")
        alice_sub=$(awk -F: -v n=limad-alice -v u="$alice_uid" \
                '($1 == n || $1 == u) && $2 != u { print $2; exit }' /etc/subuid)
        if [ -z "$alice_sub" ]; then
                echo "1..0 # SKIP limad-alice has no range in /etc/subuid (tools/install-deps)"
                exit 0
        fi
fi

if out=$(as limad-alice "$limactl" --system create --name=vm --mount="$share:w" \
        "${extra_mounts[@]}" --mount-type="$mount_type" template:debian-12-local 2>&1); then
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
        vpids=$(pgrep -P "$(cat "$state/vm/ha.pid")" -x virtiofsd | paste -sd, -)
        echo "# virtiofsd: $(ps -o pid=,uid=,args= -p "${vpids:-0}" | tr '\n' ';')"
        uids=$(ps -o uid= -p "${vpids:-0}" 2>&1 | sort -u | xargs)
        [ -n "$vpids" ] && [ "$uids" = "$alice_sub" ] &&
                ok "virtiofsd (one per mount) runs as alice's subordinate uid $alice_sub, not root" ||
                not_ok "virtiofsd $vpids uids: $uids (want $alice_sub)"
        vpid=${vpids%%,*}
        map=$(awk '{ printf "%s %s %s;", $1, $2, $3 }' "/proc/${vpid:-0}/uid_map" 2>&1)
        [ "$map" = "0 $alice_sub 1;$alice_uid $alice_uid 1;" ] &&
                ok "its uid_map: 0 -> $alice_sub, the guest user $alice_uid -> alice" ||
                not_ok "uid_map: $map"
        [ "$(readlink "/proc/${vpid:-0}/ns/user")" != "$(readlink /proc/1/ns/user)" ] &&
                ok "it is in a user namespace of its own: no capability in the host's" ||
                not_ok "virtiofsd is in the host's user namespace"
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
if [ "$mount_type" = virtiofs ]; then
        gsh_root() { as limad-alice "$limactl" --system shell vm -- sudo "$@" 2>&1; }
        out=$(gsh_root cat "$ro/public")
        [ "$out" = for-everyone ] && ok "the guest reads alice's read-only mount" ||
                not_ok "public: $out"
        out=$(gsh_root cat "$ro/root-secret")
        if [ $? -ne 0 ] && [[ "$out" == *"Permission denied"* ]]; then
                ok "guest root cannot read a root-only host file in the mount"
        else
                not_ok "guest root read the root-only file: $out"
        fi
        out=$(gsh_root mknod "$share/sda" b 8 0)
        if [ $? -ne 0 ] && [ ! -e "$share/sda" ]; then
                ok "guest root cannot make a device node on the host ($out)"
        else
                not_ok "mknod: $out; $(ls -l "$share/sda" 2>&1)"
        fi
        out=$(gsh_root sh -c "echo r >'$share/by-root'")
        by=$(stat -c %u "$share/by-root" 2>&1)
        [ "$by" = "$alice_sub" ] &&
                ok "a file guest root writes lands as uid $alice_sub (unprivileged) on the host" ||
                not_ok "by-root: uid $by ($out)"
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
        [ -z "$(pgrep -u "$alice_sub" -x virtiofsd)" ] && ok "no virtiofsd is left" ||
                not_ok "virtiofsd left: $(pgrep -u "$alice_sub" -a -x virtiofsd)"
fi

echo "1..$((pass + fail))"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
