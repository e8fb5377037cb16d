#!/bin/bash
# How fast a reverse-sshfs mount comes back after one of its helpers is SIGKILLed: the
# session's sftp-server, the session's ssh, and the agent's ssh master connection (which
# carries every session). Per kill: seconds until the guest reads the host's file through the
# mount again (`limactl shell … cat`, itself ~0.3-1 s here, measured alone first), and until
# the instance reports Running again. One guest, ROUNDS kills of each.
#
#   tests/bench/bench-recovery.sh BUILD_DIR [ROUNDS]     (default 3 rounds)
set -eu
build=$(cd "$1" && pwd)
rounds=${2:-3}
src=$(cd "$(dirname "$0")/../.." && pwd)
limactl=$build/client/limactl
. "$src/tests/vm/image.sh"
[ -f "$image_dir/disk.qcow2" ] || { echo "bench-recovery: no image; run tools/build-guest-image" >&2; exit 1; }

work=$(mktemp -d /tmp/limad-bench-XXXXXX)
. "$src/tests/vm/private-bus.sh"
trap 'private_bus_stop; rm -rf "$work"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

share=$work/share
mkdir -p "$share"
echo bench >"$share/f.txt"
cat >"$work/bench.yaml" <<YAML
base: template:debian-12-local
mountType: reverse-sshfs
mounts:
- location: "$share"
  mountPoint: /mnt/bench
  writable: true
YAML
"$limactl" create --name bench "$work/bench.yaml" >/dev/null 2>&1
"$limactl" start bench >/dev/null 2>&1 || { echo "bench-recovery: start failed" >&2; exit 1; }

reads() { "$limactl" shell --workdir / bench cat /mnt/bench/f.txt 2>/dev/null | grep -q bench; }
t=$(now)
reads
printf 'one read through limactl shell (the probe itself): %.2f s\n' "$(since "$t")"

for victim in sftp-server ssh master; do
        : >"$work/back" && : >"$work/running"
        for round in $(seq "$rounds"); do
                case $victim in
                sftp-server) pid=$(pgrep -f "sftp-server -e -d $share" | head -1) ;;
                ssh) pid=$(pgrep -f "ssh -F $LIMA_HOME/bench/ssh.config.*sshfs.*/mnt/bench" | head -1) ;;
                master) pid=$(pgrep -f "ssh -F $LIMA_HOME/bench/ssh.config -N" | head -1) ;;
                esac
                [ -n "$pid" ] || { echo "bench-recovery: no $victim running" >&2; exit 1; }
                t=$(now)
                kill -KILL "$pid"
                sleep 0.1
                until reads; do
                        [ "$(echo "$(since "$t") > 60" | bc)" = 1 ] && { echo "bench-recovery: not back in 60 s" >&2; exit 1; }
                        sleep 0.1
                done
                back=$(since "$t")
                until [ "$("$limactl" list --format '{{.Status}}' bench 2>/dev/null)" = Running ]; do
                        [ "$(echo "$(since "$t") > 120" | bc)" = 1 ] &&
                                { echo "bench-recovery: not Running in 120 s" >&2; exit 1; }
                        sleep 0.1
                done
                running=$(since "$t")
                printf '%s round %d: mount back %.1f s, Running %.1f s\n' "$victim" "$round" "$back" "$running"
                echo "$back" >>"$work/back"
                echo "$running" >>"$work/running"
                sleep 2
        done
        printf '%s: median mount back %s s, Running %s s (%d rounds)\n' "$victim" \
                "$(median <"$work/back")" "$(median <"$work/running")" "$rounds"
done
"$limactl" stop bench >/dev/null 2>&1
