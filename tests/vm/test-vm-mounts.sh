#!/bin/bash
# Mounts inside a real guest, by type: one instance per type carrying several mounts.
#
#   tests/vm/test-vm-mounts.sh BUILD_DIR reverse-sshfs|virtiofs     (prints TAP)
#
# virtiofs needs root here (the C virtiofsd that qemu-system-common ships runs only as root);
# as anyone else it is skipped with that reason.
set -u
build=$(cd "$1" && pwd)
type=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
limactl=$build/client/limactl
image_dir=${LIMAD_IMAGE_DIR:-/var/cache/limad/images/debian-12-local}
name=${type%%-*}

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $type: $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - $type: ${1//$'\n'/ | }"; }
check() {
        local n=$1
        shift
        if out=$("$@" 2>&1); then ok "$n"; else not_ok "$n: $out"; fi
}
check_fails() {
        local n=$1 want=$2
        shift 2
        if out=$("$@" 2>&1); then not_ok "$n: succeeded: $out"
        elif [[ "$out" == *"$want"* ]]; then ok "$n"
        else not_ok "$n: wanted \"$want\" in: $out"; fi
}
gsh() { "$limactl" shell --workdir / "$name" "$@"; }

if [ ! -f "$image_dir/disk.qcow2" ]; then
        echo "1..0 # SKIP no guest image in $image_dir: run tools/build-guest-image"
        exit 0
fi
if [ "$type" = virtiofs ] && [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP virtiofs: the C virtiofsd of qemu-system-common runs only as root"
        exit 0
fi

work=$(mktemp -d /tmp/limad-mounts-XXXXXX)
. "$src/tests/vm/private-bus.sh"
trap 'private_bus_stop; [ "$fail" -eq 0 ] && rm -rf "$work"' EXIT
rw="$work/rw dir é"
ro="$work/ro"
builtin="$work/builtin"
mkdir -p "$rw" "$ro" "$builtin"
echo served-by-builtin >"$builtin/b.txt"
ln -s /etc "$builtin/escape"
[ "$(id -u)" = 0 ] && chmod 0777 "$rw" "$builtin" # root's guest user is uid 1000
echo from-host >"$rw/host.txt"
echo read-only >"$ro/data.txt"
ln -s host.txt "$rw/link-to-host"
cat >"$work/$name.yaml" <<YAML
base: template:debian-12-local
mountType: $type
mounts:
- location: "$rw"
  mountPoint: "/mnt/rw share"
  writable: true
- location: "$ro"
  mountPoint: /mnt/ro
YAML
if [ "$type" = reverse-sshfs ]; then
        cat >>"$work/$name.yaml" <<YAML
- location: "$builtin"
  mountPoint: /mnt/builtin
  writable: true
  sshfs:
    sftpDriver: builtin
YAML
fi

check "create with a rw mount (spaces, non-ASCII) and a ro mount" \
        "$limactl" create --name "$name" "$work/$name.yaml"
t0=$(date +%s)
check "start (Running, mounts mounted)" "$limactl" start "$name" --timeout 15m
echo "# $type start took $(($(date +%s) - t0)) s"
check "info shows every mount mounted" \
        sh -c "[ \$('$limactl' info $name | grep -c mounted) -ge \$(grep -c 'location:' '$work/$name.yaml') ]"
check "the guest reads the host's file" sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat '/mnt/rw share/host.txt')\" = from-host ]" "$limactl"
check "the guest writes a file" gsh sh -c "echo from-guest > '/mnt/rw share/guest.txt'"
check "the host reads it, byte for byte" sh -c "[ \"\$(cat '$rw/guest.txt')\" = from-guest ]"
if [ "$type" = virtiofs ]; then
        # The C virtiofsd (root, no uid translation) creates files as the guest user's uid.
        check "the guest's file is owned by the guest user's uid on the host" \
                sh -c "[ \$(stat -c %u '$rw/guest.txt') = \$(\"\$0\" shell --workdir / $name id -u) ]" "$limactl"
else
        check "the guest's file is owned by the host user on the host" \
                sh -c "[ \$(stat -c %u '$rw/guest.txt') = $(id -u) ]"
fi
check "a symlink made on the host reads through in the guest" \
        sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat '/mnt/rw share/link-to-host')\" = from-host ]" "$limactl"
check "the guest makes a directory and renames a file" \
        gsh sh -c "mkdir '/mnt/rw share/d' && mv '/mnt/rw share/guest.txt' '/mnt/rw share/d/moved.txt'"
check "the host sees the rename" test -f "$rw/d/moved.txt"
check "the guest reads the ro mount" gsh cat /mnt/ro/data.txt
check_fails "the ro mount refuses writes, even for root" "" \
        gsh sudo sh -c "echo x > /mnt/ro/new.txt"
check "nothing was written on the host" test ! -e "$ro/new.txt"
if [ "$type" = virtiofs ]; then
        check_fails "remounting it rw in the guest does not let root write" "" \
                gsh sudo sh -c "mount -o remount,rw /mnt/ro; echo x > /mnt/ro/new.txt"
        check "still nothing on the host" test ! -e "$ro/new.txt"
fi

# Runtime mounts: `limactl mount add/remove` on the running guest, saved in lima.yaml.
runtime_mounts() {
        local hot="$work/hot dir" mp="/mnt/hot share" yaml="$LIMA_HOME/$name/lima.yaml"
        local before n t0 back
        # The helpers serving this instance's mounts: virtiofsd, or the ssh of each session.
        helpers() {
                if [ "$type" = virtiofs ]; then pgrep -fc "virtiofsd.*$LIMA_HOME/$name/" || true
                else pgrep -fc "ssh -F $LIMA_HOME/$name/ssh.config.*sshfs" || true; fi
        }
        mkdir -p "$hot"
        [ "$(id -u)" = 0 ] && chmod 0777 "$hot"
        echo from-host-hot >"$hot/h.txt"
        before=$(helpers)

        # A mount the guest cannot make (its mount point is inside the read-only mount) fails
        # and leaves nothing behind: no lima.yaml change, no helper, no Mounts entry.
        check_fails "a runtime mount the guest cannot make fails" "" \
                "$limactl" mount add "$name" "$hot:/mnt/ro/sub"
        check "and is not saved in lima.yaml" sh -c "! grep -qF /mnt/ro/sub '$yaml'"
        n=$(helpers)
        [ "$n" = "$before" ] && ok "and leaves no helper running" ||
                not_ok "and leaves no helper running: $n, $before before"
        check "and is not in Mounts" sh -c "! '$limactl' info $name | grep -qF /mnt/ro/sub"

        t0=$(date +%s.%N)
        check "mount add on the running guest (writable)" \
                "$limactl" mount add "$name" "$hot:$mp" --writable
        echo "# runtime $type mount add took $(echo "$(date +%s.%N) - $t0" | bc) s"
        check "the guest reads the host's file through it" \
                sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat '$mp/h.txt')\" = from-host-hot ]" "$limactl"
        check "the guest writes through it" gsh sh -c "echo from-guest-hot > '$mp/g.txt'"
        check "the host reads what the guest wrote" sh -c "[ \"\$(cat '$hot/g.txt')\" = from-guest-hot ]"
        check "lima.yaml has it, writable" sh -c \
                "grep -qF 'location: $hot' '$yaml' && grep -qF 'mountPoint: $mp' '$yaml' && grep -A2 -F 'location: $hot' '$yaml' | grep -q 'writable: true'"
        check "limactl info shows it mounted" sh -c "'$limactl' info $name | grep -F '$mp' | grep -q '$type, rw, mounted'"
        check "mount list shows it mounted" sh -c "'$limactl' mount list $name | grep -F '$mp' | grep -q mounted"
        n=$(helpers)
        [ "$n" -gt "$before" ] && ok "a helper of its own runs for it" ||
                not_ok "a helper of its own runs for it: $n, $before before"
        check_fails "adding the same mount point again is refused" "already has a mount" \
                "$limactl" mount add "$name" "$hot:$mp"
        check_fails "a 9p runtime mount is refused, saying why" "9p mounts cannot be hot-plugged" \
                "$limactl" mount add "$name" "$hot:/mnt/ninep" --type 9p
        check "and lima.yaml does not have it" sh -c "! grep -qF /mnt/ninep '$yaml'"

        if [ "$type" = virtiofs ]; then
                # The seed cannot change while running: the guest's own list brings it back.
                timeout 30 "$limactl" shell --workdir / "$name" sudo systemctl reboot >/dev/null 2>&1
                t0=$(date +%s)
                sleep 10
                back=""
                while [ $(($(date +%s) - t0)) -lt 420 ]; do
                        if timeout 30 "$limactl" shell --workdir / "$name" cat "$mp/h.txt" 2>/dev/null |
                                grep -q from-host-hot; then
                                back=$(($(date +%s) - t0))
                                break
                        fi
                        sleep 3
                done
                if [ -n "$back" ]; then
                        echo "# runtime mount back $back s after a guest reboot"
                        ok "after a guest reboot the runtime mount is there again"
                else
                        not_ok "after a guest reboot the runtime mount did not come back in 420 s"
                fi
        fi

        t0=$(date +%s.%N)
        check "mount remove on the running guest" "$limactl" mount remove "$name" "$mp"
        echo "# runtime $type mount remove took $(echo "$(date +%s.%N) - $t0" | bc) s"
        check "it is gone from the guest's mount table" \
                gsh sh -c "! grep -qF ' $(echo "$mp" | sed 's/ /\\040/g') ' /proc/mounts"
        check "it is gone from lima.yaml" sh -c "! grep -qF '$mp' '$yaml'"
        check "it is gone from Mounts" sh -c "! '$limactl' info $name | grep -qF '$mp'"
        n=$(helpers)
        [ "$n" = "$before" ] && ok "its helper is gone" || not_ok "its helper is gone: $n, $before before"
        check "the host folder is untouched" test -f "$hot/g.txt"
        check "the mounts from the start still work" \
                sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat /mnt/ro/data.txt)\" = read-only ]" "$limactl"
}
runtime_mounts

if [ "$type" = reverse-sshfs ]; then
        check "the builtin SFTP driver serves its mount" \
                sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat /mnt/builtin/b.txt)\" = served-by-builtin ]" "$limactl"
        check "the guest writes through the builtin driver" \
                gsh sh -c "echo via-builtin > /mnt/builtin/w.txt"
        check "the host reads it" sh -c "[ \"\$(cat '$builtin/w.txt')\" = via-builtin ]"
        check_fails "a symlink to /etc cannot lead the guest out of the location" "" \
                gsh cat /mnt/builtin/escape/hostname
        # Supervision: each helper killed, the mount back within 5 s.
        for victim in sftp-server ssh; do
                if [ $victim = sftp-server ]; then
                        pid=$(pgrep -f "sftp-server -e -d $rw" | head -1)
                else
                        pid=$(pgrep -f "ssh -F $LIMA_HOME/$name/ssh.config.*sshfs.*/mnt/rw share" | head -1)
                fi
                if [ -z "$pid" ]; then not_ok "no $victim found for the rw mount"; continue; fi
                kill -KILL "$pid"
                t0=$(date +%s.%N)
                back=""
                for _ in $(seq 120); do
                        if gsh cat "/mnt/rw share/host.txt" 2>/dev/null | grep -q from-host; then
                                back=$(echo "$(date +%s.%N) - $t0" | bc)
                                break
                        fi
                        sleep 0.25
                done
                # Behaviour here; how fast is a figure (printed), not a pass mark.
                if [ -n "$back" ]; then
                        echo "# mount back $back s after $victim was killed"
                        ok "killing $victim: the mount comes back by itself"
                else
                        not_ok "killing $victim: the mount did not come back in 60 s"
                fi
        done
else
        pid=$(pgrep -f "virtiofsd.*$LIMA_HOME/$name/" | head -1)
        if [ -n "$pid" ]; then
                kill -KILL "$pid"
                check "a killed virtiofsd makes the instance Degraded" sh -c \
                        "for i in \$(seq 40); do [ \"\$(\"\$0\" list --format '{{.Status}}' $name)\" = Degraded ] && exit 0; sleep 0.25; done; exit 1" "$limactl"
                check "and the mount is reported failed" sh -c "'$limactl' info $name | grep -q failed"
        else
                not_ok "no virtiofsd found for the instance"
        fi
fi

check "stop" "$limactl" stop "$name"
check "delete" "$limactl" delete "$name"
echo "1..$((pass + fail))"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
