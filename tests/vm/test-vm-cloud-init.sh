#!/bin/bash
# The routes other than the native boot, on the same offline image:
#  - cloud-init's route (template:debian-12-local-cloud-init, the route every cloud image
#    takes): the user, key, sudo, mounts and provisioning come from cloud-init;
#  - a guest whose agent never reports (its native-boot unit masked): the start fails with a
#    named error after LIMA_BOOT_REPORT_TIMEOUT, naming the phase and showing serial.log.
#
#   tests/vm/test-vm-cloud-init.sh BUILD_DIR
#
# Prints TAP. Needs the image (tests/vm/image.sh: LIMA_CACHE_DIR, default /var/cache/limad).
set -u
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
limactl=$build/client/limactl
. "$src/tests/vm/image.sh"

work=$(mktemp -d /tmp/limad-vm-XXXXXX)
mkdir -p "$work/share"

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }
check() { # NAME COMMAND...: passes when COMMAND exits 0
        local name=$1
        shift
        if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name: $out"; fi
}
check_fails() { # NAME EXPECTED-TEXT COMMAND...: passes when COMMAND fails saying EXPECTED
        local name=$1 want=$2
        shift 2
        if out=$("$@" 2>&1); then
                not_ok "$name: succeeded: $out"
        elif [[ "$out" == *"$want"* ]]; then
                ok "$name"
        else
                not_ok "$name: wanted \"$want\" in: $out"
        fi
}
elapsed() { echo $(($(date +%s) - $1)); }

cleanup() {
        "$limactl" stop -f ci >/dev/null 2>&1
        "$limactl" stop -f silent >/dev/null 2>&1
        declare -F private_bus_stop >/dev/null && private_bus_stop
        if [ "$fail" -gt 0 ]; then
                echo "# kept $work for a look (limad.log, home/*/serial.log)"
        else
                rm -rf "$work"
        fi
}
trap cleanup EXIT

if [ ! -f "$image_dir/disk.qcow2" ]; then
        echo "1..0 # SKIP no guest image in $image_dir: run tools/build-guest-image"
        exit 0
fi
if [ ! -f "$image_dir/limad-native-boot" ]; then
        echo "1..0 # SKIP the image in $image_dir predates the native boot: rebuild it"
        exit 0
fi

# Short, so the silent guest fails soon; the native route is used only by that guest here.
export LIMA_BOOT_REPORT_TIMEOUT=60
. "$src/tests/vm/private-bus.sh"

echo hello-from-host >"$work/share/from-host.txt"
[ "$(id -u)" = 0 ] && chmod 0777 "$work/share"

# --- cloud-init's route on the offline image
check "create from the cloud-init template with a writable 9p mount" \
        "$limactl" create --name ci --mount "$work/share:w" template:debian-12-local-cloud-init
t0=$(date +%s)
check "start boots it through cloud-init (Running)" "$limactl" start ci --timeout 15m
echo "# cloud-init route: first start took $(elapsed "$t0") s"
check "the kernel command line chose cloud-init (not disabled)" \
        sh -c "'$limactl' shell ci cat /proc/cmdline | grep -q 'cloud-init=enabled' &&
                ! '$limactl' shell ci cat /proc/cmdline | grep -q 'cloud-init=disabled'"
check "cloud-init ran and finished" \
        sh -c "'$limactl' shell ci cloud-init status --wait | grep -q 'status: done'"
check "the native boot unit did not run" \
        sh -c "! '$limactl' shell ci systemctl is-active -q lima-native-boot.service"
check "cloud-init made the user with passwordless sudo" "$limactl" shell ci sudo -n true
check "the guest reads the host file through 9p" \
        sh -c "[ \"\$('$limactl' shell ci cat '$work/share/from-host.txt')\" = hello-from-host ]"
check "info shows the mount as mounted" sh -c "'$limactl' info ci | grep -q mounted"
check "the guest agent from the seed runs (cloud-init route)" \
        "$limactl" shell ci systemctl is-active -q lima-guestagent.service
check "stop" "$limactl" stop ci
check "delete" "$limactl" delete ci

# --- a guest that never reports: a named error, not a hang
sed "s|@DIR@|$image_dir|g" "$src/tests/vm/data/native-no-agent.yaml" >"$work/silent.yaml"
check "create an instance whose guest agent never reports" \
        "$limactl" create --name silent "$work/silent.yaml"
t0=$(date +%s)
out=$("$limactl" start silent --timeout 10m 2>&1)
rc=$?
echo "# the silent guest failed after $(elapsed "$t0") s"
if [ "$rc" -ne 0 ] && [[ "$out" == *'reported nothing for phase "plan"'* ]]; then
        ok "start fails, naming the phase the guest stopped in"
else
        not_ok "start fails, naming the phase the guest stopped in: rc $rc: $out"
fi
if [[ "$out" == *"serial log ends with"* ]]; then
        ok "the error shows the serial log's tail"
else
        not_ok "the error shows the serial log's tail: $out"
fi
check "the failed start leaves it Broken or Stopped" \
        sh -c "'$limactl' list --format '{{.Status}}' silent | grep -Eqx 'Broken|Stopped'"
check "no QEMU is left running" sh -c "! pgrep -f '[q]emu-system.*$LIMA_HOME/silent/'"
check "delete it" "$limactl" delete --force silent

echo "1..$((pass + fail))"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
