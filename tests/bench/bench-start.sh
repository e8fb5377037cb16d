#!/bin/bash
# How long `limactl start` takes to Running on each boot route, phase by phase, beside a raw
# QEMU boot of the very same guest (same image, disk, seed, accelerator and QEMU argv, printed
# by lima-hostagent --print-qemu-argv) to the moment its sshd answers — all in the same run:
#
#   native      the image's native boot (lima-guestagent from the seed, cloud-init=disabled)
#   cloud-init  the same image on cloud-init's route (template:debian-12-local-cloud-init)
#   raw         the native instance's QEMU argv, no limad, until `ssh true` works; "raw, stock
#               initrd" the same with the image's full initrd (initrd.stock) when it has one
#
# Both instances have the template's default mounts plus one read-only and one writable 9p
# mount. Each round boots every row once (later boots: the disk exists, first boot is over);
# with ROUNDS >= 3 each cell is the median of the rounds. Phases are on the guest's clock
# (seconds since its kernel started) except "QEMU up" and "Running", which are the host's
# (seconds since `limactl start`):
#   QEMU up      the host agent reported QEMU started
#   kernel       systemd started (kernel + initrd)
#   sshd         ssh.service active
#   mounts       native: the agent reported every mount (its journal); cloud-init: -
#   provisioned  the boot script's marker /run/lima-boot-done (both routes)
#   Running      `limactl start` returned: Running on D-Bus
#
#   tests/bench/bench-start.sh BUILD_DIR [ROUNDS]     (default 3 rounds)
set -eu
build=$(cd "$1" && pwd)
rounds=${2:-3}
src=$(cd "$(dirname "$0")/../.." && pwd)
limactl=$build/client/limactl
. "$src/tests/vm/image.sh"
[ -f "$image_dir/disk.qcow2" ] || { echo "bench-start: no image; run tools/build-guest-image" >&2; exit 1; }

work=$(mktemp -d /tmp/limad-bench-XXXXXX)
mkdir -p "$work/ro" "$work/rw"
. "$src/tests/vm/private-bus.sh"
# Every step of the cleanup runs even if one fails (set -e would stop it, leaving the bus
# daemon running, and with it an inherited VM lock).
qemu_pid=
trap 'set +e; [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
        "$limactl" stop -f native >/dev/null 2>&1; "$limactl" stop -f ci >/dev/null 2>&1
        private_bus_stop; rm -rf "$work"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
[ "$(id -u)" = 0 ] && chmod 0777 "$work/rw"

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# limactl start NAME, timestamping its progress lines: sets start_s (to Running) and qemu_s.
timed_start() {
        local t line
        t=$(now)
        qemu_s=-
        while IFS= read -r line; do
                case $line in
                qemu:*) [ "$qemu_s" = - ] && qemu_s=$(since "$t") ;;
                esac
        done < <("$limactl" start "$1" --timeout 15m 2>&1)
        start_s=$(since "$t")
        [ "$("$limactl" list --format '{{.Status}}' "$1")" = Running ] ||
                { echo "bench-start: $1 did not reach Running" >&2; exit 1; }
}

# The guest's own clock: "kernel sshd mounts provisioned", seconds since its kernel started.
guest_phases() {
        "$limactl" shell "$1" sh -c '
                k=$(systemctl show -p UserspaceTimestampMonotonic --value)
                s=$(systemctl show -p ActiveEnterTimestampMonotonic --value ssh.service)
                m=$(journalctl -b -o short-monotonic -u lima-native-boot 2>/dev/null |
                        sed -n "s/^\[ *\([0-9.]*\)\].*boot: mounts done.*/\1/p" | head -n1)
                p=$(date -r /run/lima-boot-done +%s.%N 2>/dev/null || echo -)
                awk -v k="$k" -v s="$s" -v m="${m:--}" -v p="$p" -v now="$(date +%s.%N)" \
                        -v up="$(cut -d" " -f1 /proc/uptime)" "BEGIN {
                        printf \"%.1f %.1f \", k / 1e6, s / 1e6
                        if (m == \"-\") printf \"- \"; else printf \"%.1f \", m
                        if (p == \"-\") print \"-\"; else printf \"%.1f\n\", p - (now - up)
                }"' 2>/dev/null || echo "- - - -"
}

# QEMU with the given argv until ssh as the instance's user works (at most 10 min): sets raw_s.
raw_boot() {
        local t
        t=$(now)
        "$@" >/dev/null 2>"$work/raw-qemu.log" &
        qemu_pid=$!
        until ssh -F "$LIMA_HOME/native/ssh.config" -o BatchMode=yes -o ConnectTimeout=5 \
                lima-native true 2>/dev/null; do
                kill -0 "$qemu_pid" 2>/dev/null || { cat "$work/raw-qemu.log" >&2; exit 1; }
                if [ "$(since "$t" | cut -d. -f1)" -gt 600 ]; then
                        kill "$qemu_pid"
                        echo "bench-start: the raw boot's sshd did not answer in 600 s" >&2
                        exit 1
                fi
                sleep 0.25
        done
        raw_s=$(since "$t")
        kill "$qemu_pid"
        wait "$qemu_pid" 2>/dev/null || true
        qemu_pid=
}

declare -A cells # "row col round" -> value
record() { # ROW ROUND QEMU KERNEL SSHD MOUNTS PROVISIONED RUNNING
        local row=$1 round=$2 col=0
        shift 2
        for v in "$@"; do
                cells["$row $col $round"]=$v
                col=$((col + 1))
        done
}
median() { # ROW COL: the median of the rounds' numeric values, or -
        local vals=() r v
        for ((r = 1; r <= rounds; r++)); do
                v=${cells["$1 $2 $r"]:--}
                [ "$v" != - ] && vals+=("$v")
        done
        [ ${#vals[@]} -gt 0 ] || { echo -; return; }
        printf '%s\n' "${vals[@]}" | sort -n | awk '{ a[NR] = $1 } END {
                if (NR % 2) print a[(NR + 1) / 2]; else printf "%.1f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

"$limactl" create --name native --mount "$work/ro" --mount "$work/rw:w" \
        template:debian-12-local >/dev/null 2>&1
"$limactl" create --name ci --mount "$work/ro" --mount "$work/rw:w" \
        template:debian-12-local-cloud-init >/dev/null 2>&1

# First starts: disk copy, seed, first boot (host keys, user creation).
timed_start native
first_native=$start_s
record "native-first" 1 "$qemu_s" $(guest_phases native) "$start_s"
"$limactl" stop native >/dev/null 2>&1
timed_start ci
first_ci=$start_s
record "ci-first" 1 "$qemu_s" $(guest_phases ci) "$start_s"
"$limactl" stop ci >/dev/null 2>&1
echo "# first start → Running: native $first_native s, cloud-init $first_ci s"

# The native instance's argv, as a start would run it (also rewrites its ssh.config for the
# port it picks): argv, and stock_argv with the image's full initrd when it has one.
print_argv() {
        mapfile -t argv < <("$build/daemon/hostagent/lima-hostagent" --user --print-qemu-argv \
                native 2>/dev/null)
        stock_argv=()
        [ -f "$image_dir/initrd.stock" ] || return 0
        for a in "${argv[@]}"; do
                if [ "$a" = "$LIMA_HOME/native/initrd" ]; then
                        stock_argv+=("$image_dir/initrd.stock")
                else
                        stock_argv+=("$a")
                fi
        done
}

for round in $(seq "$rounds"); do
        timed_start native
        record native "$round" "$qemu_s" $(guest_phases native) "$start_s"
        "$limactl" stop native >/dev/null 2>&1
        timed_start ci
        record ci "$round" "$qemu_s" $(guest_phases ci) "$start_s"
        "$limactl" stop ci >/dev/null 2>&1
        print_argv
        raw_boot "${argv[@]}"
        record raw "$round" - - - - - "$raw_s"
        if [ ${#stock_argv[@]} -gt 0 ]; then
                print_argv
                raw_boot "${stock_argv[@]}"
                record raw-stock "$round" - - - - - "$raw_s"
        fi
        echo "# round $round: native phases ${cells["native 0 $round"]} ${cells["native 1 $round"]}" \
                "${cells["native 2 $round"]} ${cells["native 3 $round"]} ${cells["native 4 $round"]};" \
                "cloud-init phases ${cells["ci 0 $round"]} ${cells["ci 1 $round"]}" \
                "${cells["ci 2 $round"]} ${cells["ci 3 $round"]} ${cells["ci 4 $round"]}"
        echo "# round $round: native ${cells["native 5 $round"]} s, cloud-init" \
                "${cells["ci 5 $round"]} s, raw ${cells["raw 5 $round"]} s," \
                "raw stock initrd ${cells["raw-stock 5 $round"]:--} s"
done

accel=$("$limactl" list --json native | sed -n 's/.*"accelerator":"\([a-z]*\)".*/\1/p')
printf '\n%s, %d round(s)%s; seconds\n' "${accel:-?}" "$rounds" \
        "$([ "$rounds" -ge 3 ] && echo ', medians' || true)"
printf '| %-38s | %7s | %6s | %5s | %6s | %11s | %7s |\n' route "QEMU up" kernel sshd mounts \
        provisioned Running
printf '|%s|\n' "----------------------------------------|---------|--------|-------|--------|-------------|---------"
row() { # LABEL KEY ROUNDS
        local saved=$rounds c vals=()
        rounds=$3
        for c in 0 1 2 3 4 5; do vals+=("$(median "$2" "$c")"); done
        rounds=$saved
        printf '| %-38s | %7s | %6s | %5s | %6s | %11s | %7s |\n' "$1" "${vals[@]}"
}
row "native, later start" native "$rounds"
row "cloud-init, later start" ci "$rounds"
row "raw QEMU → sshd (same argv)" raw "$rounds"
[ -f "$image_dir/initrd.stock" ] && row "raw QEMU → sshd, stock initrd" raw-stock "$rounds"
row "native, first start" native-first 1
row "cloud-init, first start" ci-first 1
n=$(median native 5)
c=$(median ci 5)
r=$(median raw 5)
awk -v n="$n" -v c="$c" -v r="$r" -v fn="$first_native" -v fc="$first_ci" 'BEGIN {
        printf "\nnative / cloud-init, later start: %.2f (target <= 0.45)\n", n / c
        printf "native / cloud-init, first start: %.2f (target <= 0.45)\n", fn / fc
        printf "native Running / raw boot to sshd: %.2f (target <= 1.15)\n", n / r
}'
