#!/bin/bash
# limactl validate as a user runs it: exit codes, messages on stderr, --fill on stdout.
set -u
limactl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export LIMA_HOME=$tmp/lima-home
pass=0
fail=0

check() { # NAME EXPECTED-RC COMMAND... ; output in $out, stderr in $err
        local name=$1 want=$2
        shift 2
        "$@" >"$tmp/out" 2>"$tmp/err"
        local rc=$?
        out=$(cat "$tmp/out")
        err=$(cat "$tmp/err")
        if [ "$rc" -eq "$want" ]; then
                ok "$name (exit $rc)"
        else
                not_ok "$name: exit $rc, wanted $want; stderr: $err"
        fi
}
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }
expect() { # NAME HAYSTACK NEEDLE
        case "$2" in *"$3"*) ok "$1" ;; *) not_ok "$1: wanted \"$3\" in: $2" ;; esac
}

mkdir -p "$tmp/share"
cat >"$tmp/dev.yaml" <<YAML
images:
- location: https://example.org/debian.qcow2
  arch: x86_64
mountType: 9p
mounts:
- location: "$tmp/share"
  mountPoint: /mnt/share
  writable: true
YAML
check "a valid file exits 0" 0 "$limactl" validate "$tmp/dev.yaml"
expect "it says so on stderr" "$err" "dev.yaml: valid"

check "--fill exits 0" 0 "$limactl" validate --fill "$tmp/dev.yaml"
expect "--fill prints the resolved mountType" "$out" "mountType: 9p"
expect "--fill prints 9p options" "$out" "msize: 128KiB"
expect "--fill prints the 9p cache for rw" "$out" "cache: mmap"
expect "--fill prints sshfs options" "$out" "followSymlinks: false"
expect "--fill prints virtiofs options" "$out" "queueSize: 1024"
expect "--fill prints the tag" "$out" "tag: lima-"
echo "$out" >"$tmp/filled.yaml"
check "--fill output validates again" 0 "$limactl" validate "$tmp/filled.yaml"

cat >"$tmp/bad.yaml" <<YAML
images:
- location: https://example.org/debian.qcow2
mounts:
- location: "$tmp/share"
  mountPoint: /mnt/x
  9p:
    msize: 12XB
YAML
check "an invalid file exits 1" 1 "$limactl" validate "$tmp/bad.yaml"
expect "the error names file:line:column and field" "$err" \
        "bad.yaml:7:12: mounts[0].9p.msize: \"12XB\" is not a size"

printf 'cpus: [\n' >"$tmp/syntax.yaml"
check "a YAML syntax error exits 1" 1 "$limactl" validate "$tmp/syntax.yaml"
expect "the syntax error names the place" "$err" "syntax.yaml:2:1: YAML syntax error"

check "a missing file exits 1" 1 "$limactl" validate "$tmp/nope.yaml"
expect "the missing file is named" "$err" "nope.yaml"

check "several files: one bad makes exit 1" 1 "$limactl" validate "$tmp/dev.yaml" "$tmp/bad.yaml"

check "template:NAME validates" 0 "$limactl" validate template:debian-12
check "template://NAME validates" 0 "$limactl" validate template://ubuntu-24.04

mkdir -p "$LIMA_HOME/_config"
printf 'mountType: reverse-sshfs\n' >"$LIMA_HOME/_config/override.yaml"
check "override.yaml applies" 0 "$limactl" validate --fill "$tmp/dev.yaml"
expect "override.yaml wins over the file" "$out" "mountType: reverse-sshfs"
rm -f "$LIMA_HOME/_config/override.yaml"

check "no file is a usage error" 2 "$limactl" validate
check "--help exits 0" 0 "$limactl" validate --help
expect "--help explains --fill" "$out" "--fill"
check "unknown command is a usage error" 2 "$limactl" frobnicate
check "mount without a command is a usage error" 2 "$limactl" mount
check "mount --help exits 0" 0 "$limactl" mount add --help
expect "mount add --help says 9p cannot be hot-plugged" "$out" "9p cannot be hot-plugged"
check "mount add with a missing argument is a usage error" 2 "$limactl" mount add dev
check "an unknown mount command is a usage error" 2 "$limactl" mount frob

echo "1..$((pass + fail))"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
