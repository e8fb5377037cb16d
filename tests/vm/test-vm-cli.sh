#!/bin/bash
# Lima's daily commands against one real guest, as a Lima user types them: `limactl start`
# creating "default" from template:default (its image pointed at the offline one through
# $LIMA_HOME/_config/override.yaml, as a user without internet would), `copy` both ways
# (a file and a -r folder), `lima uname`, `restart`, and `shell --start` of a stopped
# instance. Every ssh here gets its options from limactl (no ssh.config).
#
#   flock -w 3000 /tmp/limad-vm.lock tests/vm/test-vm-cli.sh BUILD_DIR     (prints TAP)
set -u
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
limactl=$build/client/limactl
. "$src/tests/vm/image.sh"
work=$(mktemp -d /tmp/limad-vmcli-XXXXXX)
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }
check() { # NAME COMMAND...: passes when COMMAND exits 0
        local name=$1
        shift
        if out=$("$@" 2>&1); then ok "$name"; else not_ok "$name: $out"; fi
}
elapsed() { echo $(($(date +%s) - $1)); }
status_of() { "$limactl" list --format '{{.Status}}' default 2>/dev/null; }
cleanup() {
        "$limactl" stop -f default >/dev/null 2>&1
        declare -F private_bus_stop >/dev/null && private_bus_stop
        if [ "$fail" -gt 0 ]; then
                prune_kept_work "$work"
                echo "# kept $work for a look (limad.log, home/default/*.log)"
        else
                rm -rf "$work"
        fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP # through cleanup, so no guest outlives a killed run

require_image
. "$src/tests/vm/private-bus.sh"
export PATH=$build/client:$PATH LIMACTL=$limactl
t_all=$(date +%s)

mkdir -p "$LIMA_HOME/_config"
cat >"$LIMA_HOME/_config/override.yaml" <<YAML
# template:default downloads Ubuntu; this machine has the offline Debian image instead.
images:
- location: $image_dir/disk.qcow2
  arch: x86_64
  kernel:
    location: $image_dir/vmlinuz
    cmdline: "root=LABEL=lima-root rw console=ttyS0"
  initrd:
    location: $image_dir/initrd
YAML

# --- start creates "default" from template:default and boots it
t0=$(date +%s)
check "limactl start creates \"default\" from template:default and it is Running" \
        "$limactl" start --tty=false --timeout 15m --cpus 2 --memory 2 --mount-none
echo "# start (create + first boot) took $(elapsed "$t0") s"
[ "$(status_of)" = Running ] && ok "status is Running" || not_ok "status: $(status_of)"
check "its lima.yaml came from template:default (no mounts, 2 CPUs)" \
        grep -q '^cpus: 2' "$LIMA_HOME/default/lima.yaml"

# --- lima CMD
out=$(lima uname 2>&1)
[ "$out" = Linux ] && ok "lima uname prints Linux" || not_ok "lima uname: $out"

# --- copy both ways
echo "from host $$" >"$work/file.txt"
mkdir -p "$work/dir/sub"
echo a >"$work/dir/a.txt"
echo b >"$work/dir/sub/b.txt"
check "copy a host file into the guest" "$limactl" copy "$work/file.txt" default:/tmp/file.txt
out=$(lima cat /tmp/file.txt 2>&1)
[ "$out" = "from host $$" ] && ok "the guest has the file" || not_ok "guest file: $out"
check "copy -r a host folder into the guest" "$limactl" copy -r "$work/dir" default:/tmp/
out=$(lima cat /tmp/dir/sub/b.txt 2>&1)
[ "$out" = b ] && ok "the guest has the folder's files" || not_ok "guest folder: $out"
lima sh -c 'echo from guest > /tmp/g.txt; mkdir -p /tmp/gdir/x; echo y > /tmp/gdir/x/y.txt' \
        >/dev/null 2>&1
check "copy a guest file to the host" "$limactl" copy default:/tmp/g.txt "$work/g.txt"
[ "$(cat "$work/g.txt" 2>&1)" = "from guest" ] && ok "the host has it" ||
        not_ok "host file: $(cat "$work/g.txt" 2>&1)"
check "copy -r a guest folder to the host" "$limactl" copy -r default:/tmp/gdir "$work/"
[ "$(cat "$work/gdir/x/y.txt" 2>&1)" = y ] && ok "the host has the folder's files" ||
        not_ok "host folder: $(ls -R "$work/gdir" 2>&1)"
# ssh options come from limactl: a ProxyCommand planted in ssh.config does not run.
printf 'Host *\n  ProxyCommand touch %s/planted\n' "$work" >>"$LIMA_HOME/default/ssh.config"
check "shell works with a planted ProxyCommand in ssh.config" "$limactl" shell default true
[ ! -e "$work/planted" ] && ok "... which did not run" || not_ok "the planted ProxyCommand ran"

# --- restart
t0=$(date +%s)
check "restart stops and starts it again" "$limactl" restart --tty=false --timeout 15m default
echo "# restart took $(elapsed "$t0") s"
[ "$(status_of)" = Running ] && ok "it is Running after the restart" ||
        not_ok "status after restart: $(status_of)"
out=$(lima uname 2>&1)
[ "$out" = Linux ] && ok "lima works after the restart" || not_ok "after restart: $out"

# --- shell --start of a stopped instance
check "stop" "$limactl" stop default
[ "$(status_of)" = Stopped ] && ok "status is Stopped" || not_ok "status: $(status_of)"
out=$("$limactl" shell default true 2>&1 </dev/null)
[[ $? != 0 && "$out" == *"limactl start default"* ]] &&
        ok "shell of a stopped instance says how to start it" || not_ok "stopped shell: $out"
t0=$(date +%s)
out=$("$limactl" shell --start default uname -s 2>&1 </dev/null)
echo "# shell --start took $(elapsed "$t0") s"
[[ "$out" == *Linux ]] && ok "shell --start starts it and runs the command" ||
        not_ok "shell --start: $out"
check "stop again" "$limactl" stop default
check "delete" "$limactl" delete default

echo "# whole test took $(elapsed "$t_all") s"
echo "1..$((pass + fail))"
[ "$fail" = 0 ]
