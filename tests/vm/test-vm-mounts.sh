#!/bin/bash
# Mounts inside a real guest, by type: one instance per type carrying several mounts.
#
#   tests/vm/test-vm-mounts.sh BUILD_DIR 9p|reverse-sshfs|virtiofs     (prints TAP)
#
# One boot per run. Every run (LIMAD_TIER=every): files both ways, read-only refused, runtime
# mounts, mountInotify (runtime mounts watched, read-only ones not), and for virtiofs a killed
# virtiofsd. LIMAD_TIER=full adds a guest reboot with every mount back, and for reverse-sshfs
# each helper killed and recovered (Degraded meanwhile). 9p (no runtime mounts) is a --full
# stage: its files and its reboot. A failed start bails out.
#
# virtiofs runs as any user with a subuid/subgid range (virtiofsd runs in a user namespace
# mapped from it; tools/install-deps gives limad-test one): without one it is skipped, naming
# the fix. It checks, as guest root would attack it, that the daemon serves with the user's
# rights only.
set -u
shopt -s extglob # the @(…|…) patterns of the refusal checks
build=$(cd "$1" && pwd)
type=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
limactl=$build/client/limactl
tier=${LIMAD_TIER:-every}
. "$src/tests/vm/image.sh"
case $type in
9p) name=ninep ;;
*) name=${type%%-*} ;;
esac

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
status() { "$limactl" list --format '{{.Status}}' "$name" 2>/dev/null; }
# Polls until the instance reports $1, for up to $2 s.
wait_status() {
        local i
        for i in $(seq $(($2 * 4))); do [ "$(status)" = "$1" ] && return 0; sleep 0.25; done
        echo "status is $(status), not $1, after $2 s"
        return 1
}
# A JSON string of $1, for jq expressions.
js() { jq -Rn --arg v "$1" '$v'; }
# JQ-EXPR: passes when the instance's `list --json` object satisfies it (prints it if not).
json_is() {
        local j
        # stdout only: limactl's warnings (an instance with errors) go to stderr.
        j=$("$limactl" list --json "$name") || { echo "$j"; return 1; }
        jq -e "$1" <<<"$j" >/dev/null || { echo "$j"; return 1; }
}
# Every mount reads "mounted": this file's (the template's base adds the home folder), and
# the runtime one while it is there.
extra_mounts=0
all_mounted() {
        json_is "(.mounts | length) >= $(($(grep -c 'location:' "$work/$name.yaml") + extra_mounts))
                 and all(.mounts[]; .state == \"mounted\")"
}
# NAME COMMAND…: passes when COMMAND, run in the guest through ssh, got there (prints
# "reached" first) and was refused as read-only or not permitted, not failed for another reason.
check_refused() {
        local n=$1 out
        shift
        if out=$(gsh sh -c "echo reached; $*" 2>&1); then not_ok "$n: succeeded: $out"
        elif [[ "$out" == reached*@(Read-only file system|Permission denied|Operation not permitted)* ]]
        then ok "$n"
        else not_ok "$n: wanted the guest to be reached and refused (EROFS/EACCES/EPERM): $out"; fi
}
# Host-side listening sockets (TCP listen, UDP bound) held by this run's processes: the agent
# and whatever names this run's folder (QEMU, ssh, sftp-server). Lines "PID ADDRESS".
our_listening() {
        local p pids ino
        pids="$(pgrep -f -- "$work" | tr '\n' ' ') $(cat "$LIMA_HOME/$name/ha.pid" 2>/dev/null)"
        declare -A listen=()
        while read -r ino addr; do listen[$ino]=$addr; done < <(awk \
                'FNR > 1 && ($4 == "0A" || FILENAME ~ /udp/) { print $10, $2 }' \
                /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 2>/dev/null)
        for p in $pids; do
                for ino in $(ls -l "/proc/$p/fd" 2>/dev/null | sed -n 's/.*socket:\[\([0-9]*\)\].*/\1/p'); do
                        [ -n "${listen[$ino]:-}" ] && echo "$(cat "/proc/$p/comm" 2>/dev/null) ${listen[$ino]}"
                done
        done | sort -u
}
# Seconds until the guest reads the host's file through the rw mount again; empty if not in 60 s.
time_mount_back() {
        local t0=$1
        for _ in $(seq 240); do
                if gsh cat "/mnt/rw share/host.txt" 2>/dev/null | grep -q from-host; then
                        echo "$(date +%s.%N) - $t0" | bc
                        return 0
                fi
                sleep 0.25
        done
}

# A reboot inside the guest: QEMU resets and keeps running (same process); the instance is
# Degraded while the guest is away and Running once it is back, with every mount mounted again
# (9p and virtiofs by the boot scripts, reverse-sshfs sessions by the host agent).
test_guest_reboot() {
        local qemu_pid boot_id t0 back
        qemu_pid=$(cat "$LIMA_HOME/$name/qemu.pid" 2>/dev/null)
        boot_id=$(gsh cat /proc/sys/kernel/random/boot_id)
        t0=$(date +%s)
        # ssh may or may not see the command end before sshd goes away.
        timeout 30 "$limactl" shell --workdir / "$name" sudo systemctl reboot >/dev/null 2>&1
        check "after \`sudo reboot\` in the guest the instance is Degraded" wait_status Degraded 90
        check "and Running again once the guest is back" wait_status Running 600
        echo "# $type: Running again $(($(date +%s) - t0)) s after the reboot"
        check "the guest did reboot (new boot id)" \
                sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat /proc/sys/kernel/random/boot_id)\" != '$boot_id' ]" "$limactl"
        check "in the same QEMU process" sh -c "[ \"\$(cat '$LIMA_HOME/$name/qemu.pid')\" = '$qemu_pid' ]"
        check "list --json shows every mount mounted after the reboot" all_mounted
        check "the guest reads the host's file after the reboot" \
                sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat '/mnt/rw share/host.txt')\" = from-host ]" "$limactl"
        check "the guest writes after the reboot; the host reads it" \
                sh -c "\"\$0\" shell --workdir / $name sh -c 'echo after-reboot > \"/mnt/rw share/r.txt\"' && [ \"\$(cat '$rw/r.txt')\" = after-reboot ]" "$limactl"
        check "the ro mount is back" gsh cat /mnt/ro/data.txt
        check_refused "and still refuses root's write" "sudo sh -c 'echo x > /mnt/ro/r.txt'"
        check "nothing was written on the host" test ! -e "$ro/r.txt"
}

require_image
# The first id of the user's subordinate range: where guest root's files land on the host.
subuid=$(awk -F: -v n="$(id -un)" -v u="$(id -u)" '($1 == n || $1 == u) && $2 != u { print $2; exit }' /etc/subuid 2>/dev/null)
if [ "$type" = virtiofs ] && [ -z "$subuid" ]; then
        echo "1..0 # SKIP virtiofs: $(id -un) has no range in /etc/subuid (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 $(id -un))"
        exit 0
fi

work=$(mktemp -d /tmp/limad-mounts-XXXXXX)
. "$src/tests/vm/private-bus.sh"
trap 'private_bus_stop; if [ "$fail" -eq 0 ]; then rm -rf "$work"; else prune_kept_work "$work"
        echo "# kept $work for a look (limad.log, home/*/*.log; disks removed)"; fi' EXIT
# Killed (a stage deadline, ^C), still end the guest and its helpers: the EXIT trap does it.
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP
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
mountInotify: true
mounts:
- location: "$rw"
  mountPoint: "/mnt/rw share"
  writable: true
- location: "$ro"
  mountPoint: /mnt/ro
YAML
if [ "$type" = virtiofs ]; then
        # The host's /etc, read-only: world-readable files show, root-only ones (the ssh host
        # keys, shadow) must not, not even to guest root.
        cat >>"$work/$name.yaml" <<YAML
- location: /etc
  mountPoint: /mnt/hostetc
YAML
fi
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
# `limactl start` returns 0 on Degraded too: Running is required, or nothing later can pass.
if out=$("$limactl" start "$name" --timeout 15m 2>&1) && [ "$(status)" = Running ]; then
        ok "start (Running, mounts mounted)"
else
        not_ok "start: status $(status): $out"
        tail -20 "$LIMA_HOME/$name/ha.stderr.log" 2>/dev/null | sed 's/^/# /'
        echo "Bail out! $name did not start (Running); the later checks need its guest"
        exit 1
fi
echo "# $type start took $(($(date +%s) - t0)) s"
check "list --json shows every mount mounted" all_mounted
check "the guest reads the host's file" sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat '/mnt/rw share/host.txt')\" = from-host ]" "$limactl"
check "the guest writes a file" gsh sh -c "echo from-guest > '/mnt/rw share/guest.txt'"
check "the host reads it, byte for byte" sh -c "[ \"\$(cat '$rw/guest.txt')\" = from-guest ]"
check "the guest's file is owned by the host user on the host" \
        sh -c "[ \$(stat -c %u '$rw/guest.txt') = $(id -u) ]"
if [ "$type" = virtiofs ]; then
        # The user namespace: the guest user is the host user, guest root an unprivileged
        # subordinate uid, root's files nobody's.
        check "the host user's file is the guest user's in the guest" \
                sh -c "[ \"\$(\"\$0\" shell --workdir / $name stat -c %u '/mnt/rw share/host.txt')\" = \"\$(\"\$0\" shell --workdir / $name id -u)\" ]" "$limactl"
        check "a file guest root makes lands as uid $subuid (the user's subordinate range) on the host" \
                sh -c "\"\$0\" shell --workdir / $name sudo sh -c 'echo r > \"/mnt/rw share/by-root.txt\"' && [ \$(stat -c %u '$rw/by-root.txt') = $subuid ]" "$limactl"
        check "the guest reads a world-readable host file through the ro mount of /etc" \
                gsh cat /mnt/hostetc/hostname
        check_fails "guest root cannot read a root-only host file (/etc/ssh host key)" "Permission denied" \
                gsh sudo cat /mnt/hostetc/ssh/ssh_host_ed25519_key
        check_fails "guest root cannot read /etc/shadow" "Permission denied" \
                gsh sudo cat /mnt/hostetc/shadow
        check_fails "guest root cannot make a device node on the host" "" \
                gsh sudo mknod "/mnt/rw share/sda" b 8 0
        check "no device node on the host" test ! -e "$rw/sda"
        # Guest root may make a set-uid file; on the host it is set-uid to its subordinate uid.
        gsh sudo sh -c "cp /bin/sh '/mnt/rw share/suid'; chown 0:0 '/mnt/rw share/suid'; chmod 4755 '/mnt/rw share/suid'" >/dev/null 2>&1
        check "guest root's set-uid file is no root file on the host (nothing in the folder is root's)" \
                sh -c "! find '$rw' -user 0 | grep -q ."
fi
check "a symlink made on the host reads through in the guest" \
        sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat '/mnt/rw share/link-to-host')\" = from-host ]" "$limactl"
check "the guest makes a directory and renames a file" \
        gsh sh -c "mkdir '/mnt/rw share/d' && mv '/mnt/rw share/guest.txt' '/mnt/rw share/d/moved.txt'"
check "the host sees the rename" test -f "$rw/d/moved.txt"
check "the guest reads the ro mount" gsh cat /mnt/ro/data.txt
check_refused "the ro mount refuses writes, even for root" "sudo sh -c 'echo x > /mnt/ro/new.txt'"
check "nothing was written on the host" test ! -e "$ro/new.txt"
if [ "$type" = virtiofs ]; then
        check_refused "remounting it rw in the guest does not let root write" \
                "sudo mount -o remount,rw /mnt/ro; sudo sh -c 'echo x > /mnt/ro/new.txt'"
        check "still nothing on the host" test ! -e "$ro/new.txt"
fi

# Runtime mounts: `limactl mount add/remove` on the running guest, saved in lima.yaml. The
# guest reboots between add and remove, so the runtime mount must come back with it.
hot="$work/hot dir"
mp="/mnt/hot share"
yaml="$LIMA_HOME/$name/lima.yaml"
# This instance's virtiofsd daemons: the agent's children (their argv names no path).
virtiofsd_pids() { pgrep -P "$(cat "$LIMA_HOME/$name/ha.pid" 2>/dev/null || echo 0)" -x virtiofsd; }
# The helpers serving this instance's mounts: virtiofsd, or the ssh of each session.
helpers() {
        if [ "$type" = virtiofs ]; then virtiofsd_pids | grep -c . || true
        else pgrep -fc "ssh -F $LIMA_HOME/$name/ssh.config.*sshfs" || true; fi
}
runtime_mount_add() {
        local n t0
        mkdir -p "$hot"
        [ "$(id -u)" = 0 ] && chmod 0777 "$hot"
        echo from-host-hot >"$hot/h.txt"
        helpers_before=$(helpers)

        # A mount the guest cannot make (its mount point is inside the read-only mount) fails
        # and leaves nothing behind: no lima.yaml change, no helper, no Mounts entry.
        check_fails "a runtime mount the guest cannot make fails" "" \
                "$limactl" mount add "$name" "$hot:/mnt/ro/sub"
        check "and is not saved in lima.yaml" sh -c "! grep -qF /mnt/ro/sub '$yaml'"
        n=$(helpers)
        [ "$n" = "$helpers_before" ] && ok "and leaves no helper running" ||
                not_ok "and leaves no helper running: $n, $helpers_before before"
        check "and is not in Mounts" json_is "all(.mounts[]; .mountPoint != \"/mnt/ro/sub\")"

        listening_before=$(our_listening)
        t0=$(date +%s.%N)
        check "mount add on the running guest (writable)" \
                "$limactl" mount add "$name" "$hot:$mp" --writable
        extra_mounts=1
        echo "# runtime $type mount add took $(echo "$(date +%s.%N) - $t0" | bc) s"
        check "the guest reads the host's file through it" \
                sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat '$mp/h.txt')\" = from-host-hot ]" "$limactl"
        check "the guest writes through it" gsh sh -c "echo from-guest-hot > '$mp/g.txt'"
        check "the host reads what the guest wrote" sh -c "[ \"\$(cat '$hot/g.txt')\" = from-guest-hot ]"
        check "lima.yaml has it, writable" sh -c \
                "grep -qF 'location: $hot' '$yaml' && grep -qF 'mountPoint: $mp' '$yaml' && grep -A2 -F 'location: $hot' '$yaml' | grep -q 'writable: true'"
        check "list --json shows it mounted, writable, $type" json_is "any(.mounts[];
                .mountPoint == $(js "$mp") and .state == \"mounted\" and .writable and .mountType == \"$type\")"
        check "mount list shows it mounted" sh -c "'$limactl' mount list $name | grep -F '$mp' | grep -q mounted"
        n=$(helpers)
        [ "$n" -gt "$helpers_before" ] && ok "a helper of its own runs for it" ||
                not_ok "a helper of its own runs for it: $n, $helpers_before before"
        if [ "$type" = reverse-sshfs ]; then
                # The README: no port opens on the host. QEMU's ssh forward was there before.
                local now
                now=$(our_listening)
                [ "$now" = "$listening_before" ] && ! grep -qE '^(sftp-server|ssh|sshfs) ' <<<"$now" &&
                        ok "no port opens on the host for it (listening: ${now//$'\n'/, })" ||
                        not_ok "a port opened on the host: before: $listening_before; now: $now"
        fi
        check_fails "adding the same mount point again is refused" "already has a mount" \
                "$limactl" mount add "$name" "$hot:$mp"
        check_fails "a 9p runtime mount is refused, saying why" "9p mounts cannot be hot-plugged" \
                "$limactl" mount add "$name" "$hot:/mnt/ninep" --type 9p
        check "and lima.yaml does not have it" sh -c "! grep -qF /mnt/ninep '$yaml'"
}
runtime_mount_remove() {
        local n t0
        # After the guest reboot the agent rechecks its mounts for a while; a change meanwhile
        # is refused as Busy ("try again in a few seconds"), so wait that out as a user would.
        local out rc
        t0=$(date +%s.%N)
        for _ in $(seq 100); do
                out=$("$limactl" mount remove "$name" "$mp" 2>&1)
                rc=$?
                [ "$rc" -eq 0 ] && break
                [[ "$out" == *"try again in a few seconds"* ]] || break
                sleep 3
        done
        if [ "$rc" -eq 0 ]; then ok "mount remove on the running guest"; else
                not_ok "mount remove on the running guest: $out"; fi
        echo "# runtime $type mount remove took $(echo "$(date +%s.%N) - $t0" | bc) s"
        check "it is gone from the guest's mount table" \
                gsh sh -c "! grep -qF ' $(echo "$mp" | sed 's/ /\\040/g') ' /proc/mounts"
        check "it is gone from lima.yaml" sh -c "! grep -qF '$mp' '$yaml'"
        check "it is gone from Mounts" json_is "all(.mounts[]; .mountPoint != $(js "$mp"))"
        extra_mounts=0
        n=$(helpers)
        [ "$n" = "$helpers_before" ] && ok "its helper is gone" || not_ok "its helper is gone: $n, $helpers_before before"
        check "the host folder is untouched" test -f "$hot/g.txt"
        check "the mounts from the start still work" \
                sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat /mnt/ro/data.txt)\" = read-only ]" "$limactl"
}

if [ "$type" = 9p ]; then
        # No runtime mounts (QEMU cannot hot-plug 9p): the files, and with --full a reboot.
        check_fails "a 9p runtime mount is refused, saying why" "9p mounts cannot be hot-plugged" \
                "$limactl" mount add "$name" "$work:/mnt/ninep"
        [ "$tier" = full ] && test_guest_reboot
        check "stop" "$limactl" stop "$name"
        check "delete" "$limactl" delete "$name"
        echo "1..$((pass + fail))"
        echo "# $pass passed, $fail failed"
        [ "$fail" -eq 0 ]
        exit
fi
if [ "$type" = virtiofs ]; then
        pids=$(virtiofsd_pids | paste -sd, -)
        echo "# virtiofsd of $name: $(ps -o pid=,user=,uid=,args= -p "${pids:-0}" | tr '\n' ';')"
        check "no virtiofsd of this instance runs as root (ps)" \
                sh -c "[ -n '$pids' ] && ! ps -o uid= -p '$pids' | grep -qxE ' *0'"
        pid=$(virtiofsd_pids | head -1)
        check "virtiofsd's uid_map: 0 -> $subuid, the guest user -> $(id -u)" sh -c \
                "awk '\$1 == 0 && \$2 == $subuid && \$3 == 1 { a = 1 } \$2 == $(id -u) && \$3 == 1 { b = 1 } END { exit !(a && b && NR == 2) }' /proc/$pid/uid_map"
fi
runtime_mount_add
if [ "$tier" = full ]; then
        test_guest_reboot
        check "the runtime mount is there again after the reboot" \
                sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat '$mp/h.txt')\" = from-host-hot ]" "$limactl"
fi
# After the reboot, so the guest agent link is proven to come back with the guest.
# --- mountInotify: host writes reach inotify watchers in the guest ---
# inotifywait runs in the guest (backgrounded, with a timeout) on the rw mount, stamping
# each event with the guest's clock; the host writes, and the guest's log must show it.
inotify_log=/tmp/limad-inotifywait.log
inotify_lines() { gsh cat "$inotify_log" 2>/dev/null | grep -c -F "$1"; }
# Waits up to 30 s for a line with $1 in the guest's log; prints the line.
inotify_wait_for() {
        local line end=$((SECONDS + 30))
        while [ $SECONDS -lt $end ]; do
                line=$(gsh cat "$inotify_log" 2>/dev/null | grep -F -m1 "$1") && {
                        echo "$line"
                        return 0
                }
                sleep 0.25
        done
        return 1
}
# Latency, on the host clock alone: the guest agent's touch comes back to the host as an
# ATTRIB of the file, in the same system call that raises the guest's event. Prints the time
# of that ATTRIB for $1 (a name in $rw) into $2, in the background.
inotify_host_echo() {
        command -v inotifywait >/dev/null || return 0
        (timeout 60 inotifywait -q -m -e attrib --format '%f' "$rw" 2>/dev/null |
                while IFS= read -r f; do
                        [ "$f" = "$1" ] && { date +%s.%N >"$2"; break; }
                done) &
        sleep 0.5
}
check_mount_inotify() {
        local gdir="/mnt/rw share" line t_write before after
        # A directory made on the host after start: the host agent must watch it too (with
        # what it holds when it is seen, so no wait is needed before writing into it).
        mkdir "$rw/made-later"
        check "mountInotify: inotifywait starts in the guest" gsh sh -c "
                rm -f $inotify_log
                setsid nohup timeout 300 sh -c 'inotifywait -m -r --format \"%e %w%f|\" \"$gdir\" 2>&1 |
                        while IFS= read -r l; do echo \"\$(date +%s.%N) \$l\"; done' \
                        >$inotify_log 2>&1 </dev/null &
                echo \$! >$inotify_log.pid
                for i in \$(seq 120); do grep -q 'Watches established' $inotify_log && exit 0; sleep 0.25; done
                cat $inotify_log; exit 1"
        inotify_host_echo inotify-top.txt "$work/inotify-echo"
        t_write=$(date +%s.%N)
        echo from-host-later >"$rw/inotify-top.txt"
        if line=$(inotify_wait_for " $gdir/inotify-top.txt|"); then
                for _ in $(seq 20); do [ -s "$work/inotify-echo" ] && break; sleep 0.25; done
                if [ -s "$work/inotify-echo" ]; then
                        echo "# mountInotify latency, host write → the guest's event (its touch seen back on the host): $(echo "$(cat "$work/inotify-echo") - $t_write" | bc) s"
                else
                        echo "# mountInotify latency not measured (no inotifywait on the host, or no echo seen)"
                fi
                ok "mountInotify: inotifywait in the guest sees a host-side write"
        else
                not_ok "mountInotify: no guest event for a host-side write: $(gsh cat $inotify_log 2>&1 | tail -5)"
        fi
        check "mountInotify: the event includes CLOSE_WRITE, as for a local write" \
                inotify_wait_for "CLOSE_WRITE,CLOSE $gdir/inotify-top.txt|"
        echo deeper >"$rw/made-later/deep.txt"
        check "mountInotify: and a write in a subdirectory made after start" \
                inotify_wait_for " $gdir/made-later/deep.txt|"
        rm "$rw/inotify-top.txt"
        check "mountInotify: a host-side delete shows as ATTRIB on the directory" \
                inotify_wait_for "ATTRIB,ISDIR $gdir/|"
        # The guest's touch comes back to the host as an ATTRIB; forwarded again, it would
        # bounce for ever. The count of events must stay put.
        before=$(inotify_lines "$gdir/made-later/deep.txt|")
        sleep 5
        after=$(inotify_lines "$gdir/made-later/deep.txt|")
        check "mountInotify: no ping-pong (events for one write: $before, 5 s later: $after)" \
                test "$before" = "$after" -a "$before" -gt 0
        # setsid made it a process group of its own: end that group, nothing else.
        gsh sh -c "kill -- -\$(cat $inotify_log.pid)" >/dev/null 2>&1

        # Runtime mounts are watched; read-only mounts are not (as in Lima). A second watcher
        # on both; the host writes the ro file first, then the runtime one: once the runtime
        # event is in, the ro one would have been too (the same agent, in order), so a few
        # seconds more without it prove it is not watched.
        local log2=/tmp/limad-inotifywait-2.log
        check "mountInotify: a watcher on the runtime and the ro mount starts" gsh sh -c "
                rm -f $log2
                setsid nohup timeout 120 inotifywait -m -r --format '%e %w%f|' '$mp' /mnt/ro \
                        >$log2 2>&1 </dev/null &
                echo \$! >$log2.pid
                for i in \$(seq 120); do grep -q 'Watches established' $log2 && exit 0; sleep 0.25; done
                cat $log2; exit 1"
        echo "host-wrote" >"$ro/inotify-ro.txt"
        echo "host-wrote" >"$hot/inotify-hot.txt"
        inotify_log=$log2
        check "mountInotify: a runtime mount is watched (a host write shows in the guest)" \
                inotify_wait_for " $mp/inotify-hot.txt|"
        sleep 3 # a window for an event that must not come
        check "mountInotify: a read-only mount is not watched (no event for a host write)" \
                sh -c "! \"\$0\" shell --workdir / $name grep -F /mnt/ro/ $log2" "$limactl"
        gsh sh -c "kill -- -\$(cat $log2.pid)" >/dev/null 2>&1
        inotify_log=/tmp/limad-inotifywait.log
}
check_mount_inotify
runtime_mount_remove

if [ "$type" = reverse-sshfs ]; then
        check "the builtin SFTP driver serves its mount" \
                sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat /mnt/builtin/b.txt)\" = served-by-builtin ]" "$limactl"
        check "the guest writes through the builtin driver" \
                gsh sh -c "echo via-builtin > /mnt/builtin/w.txt"
        check "the host reads it" sh -c "[ \"\$(cat '$builtin/w.txt')\" = via-builtin ]"
        if out=$(gsh sh -c "echo reached; cat /mnt/builtin/escape/hostname" 2>&1); then
                not_ok "a symlink to /etc led the guest out of the location: $out"
        elif [[ "$out" == reached*@(No such file or directory|Permission denied|Operation not permitted)* ]]; then
                ok "a symlink to /etc cannot lead the guest out of the location"
        else not_ok "the symlink read failed for another reason: $out"; fi
fi
if [ "$type" = reverse-sshfs ] && [ "$tier" = full ]; then
        # Supervision: each helper killed, the mount back by itself (5 s is the aim; the
        # time is printed, a figure rather than a pass mark). ssh is the session's channel on
        # the agent's master connection; killing the master ends every session at once.
        # The status changes as limad signals them, so a Degraded of a second is seen too.
        timeout 600 busctl --user monitor io.lima.lima1 >>"$work/monitor.log" 2>&1 &
        monitor_pid=$!
        for victim in sftp-server ssh "ssh master"; do
                : >"$work/monitor.log"
                case $victim in
                sftp-server) pid=$(pgrep -f "sftp-server -e -d $rw" | head -1) ;;
                ssh) pid=$(pgrep -f "ssh -F $LIMA_HOME/$name/ssh.config.*sshfs.*/mnt/rw share" | head -1) ;;
                *) pid=$(pgrep -f "ssh -F $LIMA_HOME/$name/ssh.config -N" | head -1) ;;
                esac
                if [ -z "$pid" ]; then not_ok "no $victim found for the rw mount"; continue; fi
                kill -KILL "$pid"
                back=$(time_mount_back "$(date +%s.%N)")
                if [ -n "$back" ]; then
                        echo "# mount back $back s after $victim was killed"
                        ok "killing $victim: the mount comes back by itself"
                else
                        not_ok "killing $victim: the mount did not come back in 60 s"
                fi
                check "after killing $victim: Running again" wait_status Running 30
                check "while it reconnected the instance read Degraded" \
                        grep -q 'STRING "Degraded"' "$work/monitor.log"
                check "after killing $victim: list --json shows every mount mounted" all_mounted
                check "after killing $victim: the builtin driver's mount works too" \
                        sh -c "[ \"\$(\"\$0\" shell --workdir / $name cat /mnt/builtin/b.txt)\" = served-by-builtin ]" "$limactl"
        done
        check "the master connection is back (its socket is there)" test -S "$LIMA_HOME/$name/ssh.sock"
        kill "$monitor_pid" 2>/dev/null
fi
if [ "$type" = virtiofs ]; then
        pid=$(virtiofsd_pids | head -1)
        if [ -n "$pid" ]; then
                kill -KILL "$pid"
                check "a killed virtiofsd makes the instance Degraded" wait_status Degraded 10
                check "and list --json reports its mount failed" \
                        json_is 'any(.mounts[]; .state == "failed")'
        else
                not_ok "no virtiofsd found for the instance"
        fi
fi

check "stop" "$limactl" stop "$name"
check "delete" "$limactl" delete "$name"
echo "1..$((pass + fail))"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
