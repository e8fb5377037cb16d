#!/bin/bash
# How long `limactl start` takes to Running, beside a raw QEMU boot of the very same guest
# (same image, disk, seed, accelerator and QEMU argv, printed by lima-hostagent
# --print-qemu-argv) to the moment its sshd answers — measured in the same run.
#
#   tests/bench/bench-start.sh BUILD_DIR [ROUNDS]     (default 2 rounds)
set -eu
build=$(cd "$1" && pwd)
rounds=${2:-2}
src=$(cd "$(dirname "$0")/../.." && pwd)
limactl=$build/client/limactl
. "$src/tests/vm/image.sh"
[ -f "$image_dir/disk.qcow2" ] || { echo "bench-start: no image; run tools/build-guest-image" >&2; exit 1; }

work=$(mktemp -d /tmp/limad-bench-XXXXXX)
. "$src/tests/vm/private-bus.sh"
qemu_pid=
trap '[ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null; private_bus_stop; rm -rf "$work"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }

"$limactl" create --name bench --mount-none template:debian-12-local >/dev/null 2>&1
# The first start also makes the disk and seed and runs cloud-init's first boot; the rounds
# after it compare like with like (both later boots of the same disk).
t=$(now)
"$limactl" start bench >/dev/null 2>&1
printf 'first start (disk, seed, first boot) → Running %.1f s\n' "$(since "$t")"
"$limactl" stop bench >/dev/null 2>&1

for round in $(seq "$rounds"); do
        t=$(now)
        "$limactl" start bench >/dev/null 2>&1
        limactl_s=$(since "$t")
        accel=$("$limactl" list --json bench | sed -n 's/.*"accelerator":"\([a-z]*\)".*/\1/p')
        "$limactl" stop bench >/dev/null 2>&1

        mapfile -t argv < <("$build/daemon/hostagent/lima-hostagent" --user --print-qemu-argv bench 2>/dev/null)
        t=$(now)
        "${argv[@]}" >/dev/null 2>"$work/raw-qemu.log" &
        qemu_pid=$!
        until ssh -F "$LIMA_HOME/bench/ssh.config" -o BatchMode=yes -o ConnectTimeout=5 \
                lima-bench true 2>/dev/null; do
                kill -0 "$qemu_pid" 2>/dev/null || { cat "$work/raw-qemu.log" >&2; exit 1; }
                [ "$(echo "$(since "$t") > 900" | bc)" = 1 ] &&
                        { echo "bench-start: raw QEMU's sshd not up in 900 s" >&2; exit 1; }
                sleep 0.5
        done
        raw_s=$(since "$t")
        kill "$qemu_pid"
        wait "$qemu_pid" 2>/dev/null || true
        qemu_pid=
        printf 'round %d: limactl start → Running %.1f s; raw QEMU boot → sshd %.1f s (%s); overhead %.1f s\n' \
                "$round" "$limactl_s" "$raw_s" "${accel:-?}" "$(echo "$limactl_s - $raw_s" | bc)"
done
