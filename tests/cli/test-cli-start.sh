#!/bin/bash
# `limactl start` as Lima's users type it, against the real limad --user on a private session
# bus: the spec's five commands (filesystem-mounts.txt), start creating a missing instance,
# flags on an existing one, --set, --tty=false, stop of several, restart of a stopped one.
# No guest boots: _config/override.yaml points template:default's image at a file that does
# not exist, as a user would point it at a local image, so each start ends Broken at once,
# naming the image, after creating the instance; the composed config is then checked.
#
#   tests/cli/test-cli-start.sh BUILD_DIR     (prints TAP)
set -u
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/limad-cli-XXXXXX)
. "$src/tests/vm/private-bus.sh"
trap 'private_bus_stop; rm -rf "$work"' EXIT
limactl=$build/client/limactl
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }
check() { # NAME COMMAND... : passes when the command does
        local name=$1
        shift
        if "$@"; then ok "$name"; else not_ok "$name"; fi
}
exists() { [ -f "$LIMA_HOME/$1/lima.yaml" ]; }
cfg() { cat "$LIMA_HOME/$1/lima.yaml"; }
missing=$work/no-such-image.qcow2
mkdir -p "$LIMA_HOME/_config"
cat >"$LIMA_HOME/_config/override.yaml" <<YAML
# No internet here: template:default's image comes from this machine.
images:
- location: $missing
  arch: x86_64
YAML
export LIMA_TEMPLATES_PATH=$src/templates

# 1. limactl start --mount-type=reverse-sshfs: creates "default" from template:default.
out=$("$limactl" start --tty=false --timeout 60s --mount-type=reverse-sshfs 2>&1 </dev/null)
rc=$?
check "start --mount-type=reverse-sshfs creates \"default\"" exists default
check "... with mountType reverse-sshfs in its lima.yaml" grep -q '^mountType: reverse-sshfs' \
        "$LIMA_HOME/default/lima.yaml"
if [ $rc = 1 ] && [[ "$out" == *"$missing"* ]]; then
        ok "... then starts it; the start fails naming the missing image"
else
        not_ok "start after create: rc=$rc: $out"
fi
if [[ "$out" != *$'\r'* && "$out" != *$'\033['* ]]; then
        ok "--tty=false: no progress bar"
else
        not_ok "--tty=false printed a progress bar: $out"
fi
check "the composed config validates (limactl validate)" \
        "$limactl" validate "$LIMA_HOME/default/lima.yaml"
"$limactl" delete -f default >/dev/null 2>&1

# 2. limactl start --vm-type=qemu --mount-type=9p
"$limactl" start --tty=false --timeout 60s --vm-type=qemu --mount-type=9p >/dev/null 2>&1
check "start --vm-type=qemu --mount-type=9p creates with vmType qemu" \
        grep -q '^vmType: qemu' "$LIMA_HOME/default/lima.yaml"
check "... and mountType 9p" grep -q '^mountType: "\?9p' "$LIMA_HOME/default/lima.yaml"
"$limactl" delete -f default >/dev/null 2>&1

# 3, 4. vz and wsl2 are refused with the reason, and nothing is created.
out=$("$limactl" start --tty=false --vm-type=vz --mount-type=virtiofs 2>&1)
rc=$?
if [ $rc != 0 ] && [[ "$out" == *macOS* ]] && ! exists default; then
        ok "start --vm-type=vz --mount-type=virtiofs is refused (needs macOS), nothing created"
else
        not_ok "vz: rc=$rc: $out"
fi
out=$("$limactl" start --tty=false --vm-type=wsl2 --mount-type=wsl2 2>&1)
rc=$?
if [ $rc != 0 ] && [[ "$out" == *Windows* ]] && ! exists default; then
        ok "start --vm-type=wsl2 --mount-type=wsl2 is refused (needs Windows), nothing created"
else
        not_ok "wsl2: rc=$rc: $out"
fi

# 5. limactl start --mount-inotify
"$limactl" start --tty=false --timeout 60s --mount-inotify >/dev/null 2>&1
check "start --mount-inotify creates with mountInotify: true" \
        grep -q '^mountInotify: true' "$LIMA_HOME/default/lima.yaml"

# Flags on an existing instance are applied to its lima.yaml, as Lima's are.
out=$("$limactl" start --tty=false --timeout 60s --cpus 3 --set '.memory = "3GiB"' 2>&1)
if grep -q '^cpus: 3' "$LIMA_HOME/default/lima.yaml" &&
        grep -q '^memory: "\?3GiB' "$LIMA_HOME/default/lima.yaml" &&
        [[ "$out" == *"Using the existing instance"* ]]; then
        ok "start on an existing instance applies --cpus and --set to it"
else
        not_ok "start on existing: $out | $(cfg default | grep -E '^(cpus|memory)')"
fi
out=$("$limactl" start --tty=false --timeout 60s --arch x86_64 2>&1)
if [[ "$out" == *"not applicable to an existing instance"* ]]; then
        ok "start --arch on an existing instance warns as Lima does"
else
        not_ok "start --arch existing: $out"
fi

# start template:NAME / FILE.yaml / NAME
out=$("$limactl" start --tty=false --timeout 60s --name tpl --set '.cpus = 1' \
        --set '.mounts[0].writable = true' --plain --containerd none template:default 2>&1)
if exists tpl && grep -q '^cpus: 1' "$LIMA_HOME/tpl/lima.yaml" &&
        grep -q '^plain: true' "$LIMA_HOME/tpl/lima.yaml" &&
        cfg tpl | grep -A3 '^mounts:' | grep -q 'writable: true'; then
        ok "start --name tpl --set … --plain --containerd none template:default creates it"
else
        not_ok "start template: $out | $(cfg tpl 2>&1 | head -40)"
fi
out=$("$limactl" start --tty=false template:default 2>&1)
if [[ $? != 0 && "$out" == *'"default" already exists'* ]]; then
        ok "start template:default refuses when \"default\" exists (Lima's message)"
else
        not_ok "template exists: $out"
fi
out=$("$limactl" start --tty=false --timeout 60s dev2 2>&1)
if exists dev2 && [[ "$out" == *"deprecated"* ]]; then
        ok "start NAME creates NAME from template:default, with Lima's deprecation hint"
else
        not_ok "start NAME: $out"
fi
out=$("$limactl" start --tty=false --name other dev2 2>&1)
if [[ $? = 2 && "$out" == *"cannot be specified together"* ]]; then
        ok "start NAME --name OTHER is refused"
else
        not_ok "name conflict: $out"
fi
out=$("$limactl" start --tty=false --set 'cpus = 4' new1 2>&1)
if [[ $? != 0 && "$out" == *"supported forms"* ]] && ! exists new1; then
        ok "a --set outside the supported forms is refused, naming them, creating nothing"
else
        not_ok "bad set: $out"
fi
out=$("$limactl" start --tty=false --containerd maybe new1 2>&1)
if [[ $? = 2 && "$out" == *'user+system'* ]] && ! exists new1; then
        ok "--containerd with a bad mode is refused with Lima's choices"
else
        not_ok "containerd: $out"
fi

# edit --set keeps comments; --mount-none; --mount-only
sed -i '1i # my own note' "$LIMA_HOME/default/lima.yaml"
out=$("$limactl" edit default --set '.cpus = 2' 2>&1)
if grep -q '^# my own note' "$LIMA_HOME/default/lima.yaml" &&
        grep -q '^cpus: 2' "$LIMA_HOME/default/lima.yaml"; then
        ok "edit --set changes the value and keeps the file's comments"
else
        not_ok "edit --set: $out"
fi
out=$("$limactl" edit default --set '.mounts[5].writable = true' 2>&1)
if [[ $? != 0 && "$out" == *"default/lima.yaml:"*":"*"past the end"* ]]; then
        ok "edit --set error names file:line:column"
else
        not_ok "edit --set error: $out"
fi
mkdir -p "$work/only"
out=$("$limactl" edit default --mount-only "$work/only:w" 2>&1)
if [ "$(sed -n '/^mounts:/,/^[a-zA-Z]/p' "$LIMA_HOME/default/lima.yaml" | grep -c location:)" = 1 ] &&
        grep -q "$work/only" "$LIMA_HOME/default/lima.yaml"; then
        ok "edit --mount-only replaces the mounts"
else
        not_ok "edit --mount-only: $out | $(cfg default)"
fi
"$limactl" edit default --mount-none >/dev/null 2>&1
check "edit --mount-none removes them" \
        bash -c "! grep -q 'location: $work/only' '$LIMA_HOME/default/lima.yaml'"
out=$("$limactl" edit default --tty=false 2>&1 </dev/null)
[[ $? = 2 && "$out" == *"no editor"* ]] && ok "edit --tty=false opens no editor" ||
        not_ok "edit --tty=false: $out"

# create --param --plain
printf 'base: template:default\nparam:\n  GREETING: hi\n' >"$work/p.yaml"
out=$("$limactl" create --tty=false --name par --param GREETING=hello --plain "$work/p.yaml" 2>&1)
if grep -q 'GREETING: "\?hello' "$LIMA_HOME/par/lima.yaml" &&
        grep -q '^plain: true' "$LIMA_HOME/par/lima.yaml"; then
        ok "create --param NAME=VALUE --plain sets param and plain"
else
        not_ok "create --param: $out"
fi

# start - reads the config from stdin (with --name), as Lima's
out=$(printf 'base: template:default\ncpus: 1\n' |
        "$limactl" start --tty=false --timeout 60s --name fromstdin - 2>&1)
if exists fromstdin && grep -q '^cpus: 1' "$LIMA_HOME/fromstdin/lima.yaml"; then
        ok "start --name N - creates from stdin"
else
        not_ok "start -: $out"
fi
out=$("$limactl" start --tty=false - </dev/null 2>&1)
[[ $? = 2 && "$out" == *"--name"* ]] && ok "start - without --name is refused" ||
        not_ok "start - no name: $out"
out=$("$limactl" start --tty=true --name x - </dev/null 2>&1)
[[ $? = 2 && "$out" == *"--tty=true"* ]] && ok "start --tty=true - is refused (Lima's rule)" ||
        not_ok "start --tty=true -: $out"
# edit --start edits, then starts (the start fails on the missing image, named)
out=$("$limactl" edit fromstdin --set '.cpus = 2' --start --tty=false 2>&1)
if [[ $? = 1 && "$out" == *"Updated"* && "$out" == *"$missing"* ]] &&
        grep -q '^cpus: 2' "$LIMA_HOME/fromstdin/lima.yaml"; then
        ok "edit --set --start stores the edit, then starts"
else
        not_ok "edit --start: $out"
fi

# stop of several, restart of a stopped one (its start fails on the image: rc 1, named)
out=$("$limactl" stop default tpl 2>&1)
[[ "$out" == *"default"* && "$out" == *"tpl"* ]] && ok "stop takes several instances" ||
        not_ok "stop several: $out"
out=$("$limactl" restart --tty=false --timeout 60s tpl 2>&1)
if [[ $? = 1 && "$out" == *"$missing"* ]]; then
        ok "restart of a stopped instance starts it"
else
        not_ok "restart: $out"
fi
out=$("$limactl" list 'd*' -q 2>&1)
[ "$out" = "$(printf 'default\ndev2')" ] && ok "list takes a glob" || not_ok "list glob: $out"

echo "1..$((pass + fail))"
[ "$fail" = 0 ]
