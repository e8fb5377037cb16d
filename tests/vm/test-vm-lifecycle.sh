#!/bin/bash
# Real instances, end to end, as a user runs them: a private session bus with D-Bus
# activation of the real limad --user, limactl, and a real QEMU guest booted from the offline
# Debian image (tools/build-guest-image). Boots few guests and checks many things in each.
#
#   tests/vm/test-vm-lifecycle.sh BUILD_DIR
#
# Prints TAP. Needs the image in $LIMA_CACHE_DIR/images/debian-12-local (tests/vm/image.sh).
# Every run: two boots (create, start, shell, 9p both ways, read-only, stop, start again, limad
# killed and re-adopted, delete, a missing image and a corrupt disk). LIMAD_TIER=full adds the
# host agent killed (Broken with its log's tail) and two more boots. A failed start bails out.
set -u
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
limactl=$build/client/limactl
tier=${LIMAD_TIER:-every}
. "$src/tests/vm/image.sh"

work=$(mktemp -d /tmp/limad-vm-XXXXXX)
mkdir -p "$work/share" "$work/ro"

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
status_of() { "$limactl" list --format '{{.Status}}' "$1" 2>/dev/null; }
# NAME JQ-EXPR: passes when the instance's `list --json` object satisfies the jq expression.
json_is() {
        local j
        j=$("$limactl" list --json "$1" 2>&1) || { echo "$j"; return 1; }
        jq -e "$2" <<<"$j" >/dev/null || { echo "$j"; return 1; }
}
# A start that fails ends the script: every later check would wait on a guest that is not
# there. Prints the agent's log tail for the reason.
start_or_bail() { # NAME CHECK-TEXT
        local t0 out
        t0=$(date +%s)
        if out=$("$limactl" start "$1" --timeout 15m 2>&1) && [ "$(status_of "$1")" = Running ]; then
                ok "$2"
        else
                not_ok "$2: status $(status_of "$1"): $out"
                tail -20 "$LIMA_HOME/$1/ha.stderr.log" 2>/dev/null | sed 's/^/# /'
                echo "Bail out! $1 did not start (Running); the later checks need its guest"
                exit 1
        fi
        echo "# start of $1 took $(elapsed "$t0") s"
}
wait_status() { # NAME STATUS SECONDS
        local i
        for ((i = 0; i < $3 * 2; i++)); do
                [ "$(status_of "$1")" = "$2" ] && return 0
                sleep 0.5
        done
        echo "status of $1 is $(status_of "$1"), not $2, after $3 s" >&2
        return 1
}
elapsed() { echo $(($(date +%s) - $1)); }

cleanup() {
        "$limactl" stop -f vm >/dev/null 2>&1
        declare -F private_bus_stop >/dev/null && private_bus_stop
        if [ "$fail" -gt 0 ]; then
                prune_kept_work "$work"
                echo "# kept $work for a look (limad.log, home/vm/*.log; disks removed)"
        else
                rm -rf "$work"
        fi
}
trap cleanup EXIT
# Killed (a stage deadline, ^C), still end the guest and limad: the EXIT trap does it.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

require_image

. "$src/tests/vm/private-bus.sh"

echo hello-from-host >"$work/share/from-host.txt"
# With 9p's security_model none the guest checks the host file's owner: root's guest user is
# uid 1000, so it needs the folder open to it.
[ "$(id -u)" = 0 ] && chmod 0777 "$work/share"
echo read-only-data >"$work/ro/data.txt"

# --- create: bad input first; each is refused by name and leaves nothing behind
check_fails "create refuses an invalid name" "is invalid" \
        "$limactl" create --name "../evil" template:debian-12-local
check_fails "create refuses a bad config, naming file:line:column" "9p.msize" \
        "$limactl" create --name bad "$src/tests/vm/data/bad-msize.yaml"
check "nothing was left behind by failed creates" \
        test -z "$(ls -A "$LIMA_HOME" | grep -v '^_config$')"
check "limad was started by D-Bus activation" \
        sh -c "busctl --user status io.lima.lima1 | grep -q '^PID=' && grep -q 'limad --user' '$work/services/io.lima.lima1.service'"
check "create from the offline template with mounts" \
        "$limactl" create --name vm --mount "$work/share:w" --mount "$work/ro" \
        template:debian-12-local
check_fails "create refuses a duplicate name" "already exists" \
        "$limactl" create --name vm template:debian-12-local
check_fails "stop of an unknown instance names it" "does not exist" "$limactl" stop nosuch
check_fails "stop of a stopped instance says so" "is not running" "$limactl" stop vm

# --- first boot
start_or_bail vm "start boots the guest (Running, not Degraded)"
check "list --json shows it Running" json_is vm '.name == "vm" and .status == "Running"'
check "start of a running instance says so" \
        sh -c "'$limactl' start vm 2>&1 | grep -q 'already running'"
host_user=$(id -un)
host_uid=$(id -u)
[ "$host_uid" = 0 ] && host_user=lima host_uid=1000 # root's guest user is Lima's fallback
check "shell runs id as the host user" \
        sh -c "[ \"\$('$limactl' shell vm id -un)\" = '$host_user' ]"
check "shell runs id with the host uid" \
        sh -c "[ \"\$('$limactl' shell vm id -u)\" = '$host_uid' ]"
check "the guest reads a file written on the host (9p)" \
        sh -c "[ \"\$('$limactl' shell vm cat '$work/share/from-host.txt')\" = hello-from-host ]"
check "the guest writes into a writable mount" \
        "$limactl" shell vm sh -c "echo hello-from-guest > '$work/share/from-guest.txt'"
check "the host reads what the guest wrote" grep -qx hello-from-guest "$work/share/from-guest.txt"
check_fails "a read-only mount refuses guest writes, even for root" "Read-only file system" \
        "$limactl" shell vm sudo sh -c "echo x > '$work/ro/new.txt'"
# Both --mount folders, and the template's home folder: every one mounted.
check "list --json shows every mount mounted" json_is vm "(.mounts | length) >= 2 and
        all(.mounts[]; .state == \"mounted\") and
        any(.mounts[]; .location == $(jq -Rn --arg v "$work/share" '$v'))"
# The image carries the native boot (tools/build-guest-image): limad takes that route.
if [ -f "$image_dir/limad-native-boot" ]; then
        check "native route: cloud-init=disabled on the guest's kernel command line" \
                sh -c "'$limactl' shell vm cat /proc/cmdline | grep -qw 'cloud-init=disabled'"
        check "native route: lima-guestagent from the seed provisioned this boot" \
                "$limactl" shell vm systemctl is-active -q lima-native-boot.service
        check "native route: cloud-init stayed out" \
                sh -c "'$limactl' shell vm cloud-init status | grep -q disabled"
        check "native route: the host name and /etc/hosts entry are set" \
                sh -c "[ \"\$('$limactl' shell vm hostname)\" = lima-vm ] &&
                        '$limactl' shell vm getent hosts lima-vm >/dev/null"
        check "native route: lima.env is installed" "$limactl" shell vm test -s /etc/lima.env
fi

# --- stop and start again
check "stop powers the guest off" "$limactl" stop vm
check "status is Stopped" wait_status vm Stopped 10
# "[q]emu" so pgrep does not find the shell running it.
check "no QEMU is left running" sh -c "! pgrep -f '[q]emu-system.*$LIMA_HOME/vm/'"
start_or_bail vm "start again (second boot, Running)"
check "the file the guest wrote is still there in the guest" \
        "$limactl" shell vm test -f "$work/share/from-guest.txt"
check_fails "delete of a running instance needs --force" "stop it first" "$limactl" delete vm

# --- limad killed while the instance runs: a new limad re-adopts it
limad_pid=$(busctl --user status io.lima.lima1 | sed -n 's/^PID=//p')
kill -KILL "$limad_pid"
check "limad is gone" sh -c "for i in \$(seq 40); do kill -0 $limad_pid 2>/dev/null || exit 0; sleep 0.25; done; exit 1"
# This run's agent only: its pid file is in this LIMA_HOME.
check "the instance survives limad's death (its agent and QEMU)" \
        sh -c "kill -0 \$(cat '$LIMA_HOME/vm/ha.pid') && kill -0 \$(cat '$LIMA_HOME/vm/qemu.pid')"
check "a new limad (activated) shows it Running" wait_status vm Running 30
check "and can stop it" "$limactl" stop vm
check "status is Stopped after that" wait_status vm Stopped 10

# --- the host agent killed (--full: two more boots): Broken with its log's tail, restartable
if [ "$tier" = full ]; then
        start_or_bail vm "start (third boot)"
        agent_pid=$(cat "$LIMA_HOME/vm/ha.pid")
        qemu_pid=$(cat "$LIMA_HOME/vm/qemu.pid")
        kill -KILL "$agent_pid"
        check "a killed host agent shows as Broken" wait_status vm Broken 30
        # The README: limad reports Broken with the tail of the agent's log.
        last=$(grep -v '^[[:space:]]*$' "$LIMA_HOME/vm/ha.stderr.log" | tail -1)
        check "its errors carry the tail of the agent's log" \
                json_is vm "any(.errors[]?; contains($(jq -Rn --arg l "$last" '$l')))"
        check "QEMU died with its agent" \
                sh -c "for i in \$(seq 40); do kill -0 $qemu_pid 2>/dev/null || exit 0; sleep 0.25; done; exit 1"
        start_or_bail vm "start after the kill works (fourth boot)"
        check "shell works after the restart" "$limactl" shell vm true
fi

# Running after the fourth boot (--full), stopped otherwise: --force deletes either.
check "delete --force removes the instance" "$limactl" delete --force vm
check "the instance folder is gone" test ! -e "$LIMA_HOME/vm"
check "list no longer shows it" sh -c "! '$limactl' list -q | grep -qx vm"

# --- faults: a missing image and a corrupt disk fail with a clear message

sed "s|@IMAGE@|$work/missing.qcow2|" "$src/tests/vm/data/local-image.yaml" >"$work/missing.yaml"
check "create with a missing image works (checked at start)" \
        "$limactl" create --name missing "$work/missing.yaml"
check_fails "start with a missing image fails and names the file" "missing.qcow2" \
        "$limactl" start missing --timeout 2m
check "a failed start leaves the instance Broken" wait_status missing Broken 10
# A qcow2 whose L1 table offset (header bytes 40-47) points nowhere.
qemu-img create -q -f qcow2 "$work/corrupt.qcow2" 1G
printf '\377\377\377\377\377\377\377\377' |
        dd of="$work/corrupt.qcow2" bs=1 seek=40 conv=notrunc status=none
sed "s|@IMAGE@|$work/corrupt.qcow2|" "$src/tests/vm/data/local-image.yaml" >"$work/corrupt.yaml"
check "create with a corrupt image" "$limactl" create --name corrupt "$work/corrupt.yaml"
check_fails "start with a corrupt image fails with qemu-img's reason" "corrupt.qcow2" \
        "$limactl" start corrupt --timeout 2m
check "delete the broken ones" "$limactl" delete missing corrupt

echo "1..$((pass + fail))"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
