#!/bin/bash
# The D-Bus API of the real limad --user on a private session bus, driven with busctl as a
# script or another client would: named errors for bad input (and limad still alive after
# each), every Manager method, instance objects and their properties, and a start that fails
# early (a missing image) reported as Broken with the reason. No guest boots here.
#
#   tests/bus/test-bus-api.sh BUILD_DIR     (prints TAP)
set -u
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/limad-bus-XXXXXX)
. "$src/tests/vm/private-bus.sh"
trap 'private_bus_stop; rm -rf "$work"' EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }
M=(io.lima.lima1 /io/lima/lima1 io.lima.lima1.Manager)
call() { busctl --user call "$@" 2>&1; }
expect_error() { # NAME ERROR-NAME-OR-TEXT busctl-call-args...
        local name=$1 want=$2 out
        shift 2
        if out=$(call "$@"); then
                not_ok "$name: succeeded: $out"
        elif [[ "$out" == *"$want"* ]]; then
                ok "$name"
        else
                not_ok "$name: wanted \"$want\" in: $out"
        fi
        # The daemon must still answer after every refusal.
        busctl --user get-property io.lima.lima1 /io/lima/lima1 io.lima.lima1.Manager Version \
                >/dev/null 2>&1 || not_ok "limad died after: $name"
}
# gdbus, unlike busctl, prints the error's name: for checks that it is the right one.
expect_error_name() { # NAME ERROR-NAME OBJECT-PATH METHOD gdbus-args...
        local name=$1 want=$2 path=$3 method=$4 out
        shift 4
        if out=$(gdbus call --session --dest io.lima.lima1 --object-path "$path" \
                --method "$method" "$@" 2>&1); then
                not_ok "$name: succeeded: $out"
        elif [[ "$out" == *"GDBus.Error:$want:"* ]]; then
                ok "$name"
        else
                not_ok "$name: wanted $want in: $out"
        fi
}
expect_ok() { # NAME busctl-call-args...
        local name=$1 out
        shift
        if out=$(call "$@"); then ok "$name"; else not_ok "$name: $out"; fi
}

images='images: [{location: /nonexistent/limad-test.qcow2, arch: x86_64}]'

# AddMount/RemoveMount on a stopped instance: bad input gets a named error and leaves
# lima.yaml alone; good input edits lima.yaml (keeping the user's keys) and Mounts.
mount_tests() {
        local I=("$@") yaml="$LIMA_HOME/dev/lima.yaml" before out share="$work/share dir"
        mkdir -p "$share"
        expect_ok "SetConfig with a key of the user's own" "${I[@]}" SetConfig s "$images
cpus: 2
x-note: kept by mount add"
        before=$(sha256sum "$yaml")
        expect_error_name "AddMount refuses a relative location with InvalidArgument" \
                io.lima.lima1.Error.InvalidArgument "${I[1]}" io.lima.lima1.Instance.AddMount \
                rel/dir /mnt/x false "{}"
        expect_error "AddMount says what is wrong with it" "must be an absolute host path" \
                "${I[@]}" AddMount 'ssba{sv}' rel/dir /mnt/x false 0
        expect_error "AddMount refuses a relative mount point" "must be an absolute path" \
                "${I[@]}" AddMount 'ssba{sv}' "$share" mnt/x false 0
        expect_error "AddMount refuses a missing location" \
                "\"/nonexistent/limad-share\" is not an existing directory" \
                "${I[@]}" AddMount 'ssba{sv}' /nonexistent/limad-share /mnt/x false 0
        expect_error_name "AddMount refuses what lima.yaml's rules refuse with InvalidConfig" \
                io.lima.lima1.Error.InvalidConfig "${I[1]}" io.lima.lima1.Instance.AddMount \
                "$share" /etc false "{}"
        expect_error "AddMount refuses a system mount point" "must not be a system path" \
                "${I[@]}" AddMount 'ssba{sv}' "$share" /etc false 0
        expect_error "AddMount refuses an unknown option" "unknown option \"frob\"" \
                "${I[@]}" AddMount 'ssba{sv}' "$share" /mnt/x false 1 frob b true
        expect_error "AddMount refuses an unknown type" "is not one of reverse-sshfs" \
                "${I[@]}" AddMount 'ssba{sv}' "$share" /mnt/x false 1 type s nfs
        expect_error "AddMount refuses a type other than the instance's mountType" \
                "one mountType for all mounts" \
                "${I[@]}" AddMount 'ssba{sv}' "$share" /mnt/x false 1 type s virtiofs
        if [ "$(id -u)" -ne 0 ]; then
                mkdir -p "$work/ro"
                chmod 0555 "$work/ro"
                expect_error "AddMount refuses a writable mount of a read-only folder" \
                        "is not writable by you" \
                        "${I[@]}" AddMount 'ssba{sv}' "$work/ro" /mnt/ro true 0
        fi
        expect_error "RemoveMount refuses a mount point it does not have" \
                "has no mount at /mnt/nothing" "${I[@]}" RemoveMount s /mnt/nothing
        expect_error_name "RemoveMount says so with InvalidArgument" \
                io.lima.lima1.Error.InvalidArgument "${I[1]}" \
                io.lima.lima1.Instance.RemoveMount /mnt/nothing
        expect_error "RemoveMount refuses a relative mount point" "must be an absolute path" \
                "${I[@]}" RemoveMount s mnt/x
        [ "$(sha256sum "$yaml")" = "$before" ] && ok "the refusals left lima.yaml as it was" ||
                not_ok "a refusal changed lima.yaml: $(cat "$yaml")"

        expect_ok "AddMount on a stopped instance edits lima.yaml" \
                "${I[@]}" AddMount 'ssba{sv}' "$share" /mnt/share true 0
        if grep -q "location: $share" "$yaml" && grep -q "mountPoint: /mnt/share" "$yaml" &&
                grep -q "x-note: kept by mount add" "$yaml"; then
                ok "lima.yaml has the mount, and still the user's key"
        else
                not_ok "lima.yaml after AddMount: $(cat "$yaml")"
        fi
        out=$(busctl --user get-property "${I[@]}" Mounts 2>&1)
        case "$out" in *"$share"*'"/mnt/share"'*'"pending"'*"lima-"*) ok "Mounts shows it, pending, with its tag" ;;
        *) not_ok "Mounts after AddMount: $out" ;; esac
        expect_error "AddMount refuses a mount point that is taken" "already has a mount at /mnt/share" \
                "${I[@]}" AddMount 'ssba{sv}' /tmp /mnt/share/ false 0
        expect_ok "RemoveMount on a stopped instance edits lima.yaml" \
                "${I[@]}" RemoveMount s /mnt/share
        ! grep -q "/mnt/share" "$yaml" && grep -q "x-note" "$yaml" && ok "the mount is gone from lima.yaml" ||
                not_ok "lima.yaml after RemoveMount: $(cat "$yaml")"
        out=$(busctl --user get-property "${I[@]}" Mounts 2>&1)
        [ "$out" = "a(sssbsa{sv}) 0" ] && ok "Mounts is empty again" || not_ok "Mounts: $out"
}

if out=$(busctl --user get-property "${M[@]}" Version 2>&1); then
        ok "Version is readable (D-Bus activation started limad)"
else
        not_ok "Version: $out"
fi
# private-bus.sh activated it through the shipped file: the same lines but Exec's limad.
if diff <(grep -v '^Exec=' "$build/dbus/io.lima.lima1.service") \
        <(grep -v '^Exec=' "$work/services/io.lima.lima1.service") >/dev/null &&
        grep -q "^Exec=.*$build/daemon/limad --user " "$work/services/io.lima.lima1.service"; then
        ok "activation used the shipped dbus/io.lima.lima1.service"
else
        not_ok "activation file: $(cat "$work/services/io.lima.lima1.service")"
fi
expect_error "CreateInstance refuses an empty name" "instance name is empty" \
        "${M[@]}" CreateInstance 'ssa{sv}' "" "$images" 0
expect_error "CreateInstance refuses a name with /" "is invalid" \
        "${M[@]}" CreateInstance 'ssa{sv}' "a/b" "$images" 0
expect_error "CreateInstance refuses a name with .." "is invalid" \
        "${M[@]}" CreateInstance 'ssa{sv}' ".." "$images" 0
expect_error "CreateInstance refuses a huge name" "the limit is 76" \
        "${M[@]}" CreateInstance 'ssa{sv}' "$(printf 'a%.0s' $(seq 5000))" "$images" 0
expect_error "CreateInstance refuses YAML that is not YAML, with its place" \
        "dev.yaml:2:1: YAML syntax error" \
        "${M[@]}" CreateInstance 'ssa{sv}' dev "cpus: [" 0
bomb='a: &a [x,x,x,x,x,x,x,x,x]'
prev=a
for c in b c d e f g h i; do
        bomb+=$'\n'"$c: &$c [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"
        prev=$c
done
expect_error "CreateInstance refuses an alias bomb" "alias bomb" \
        "${M[@]}" CreateInstance 'ssa{sv}' dev "$bomb" 0
expect_error "CreateInstance refuses deep nesting" "nesting deeper" \
        "${M[@]}" CreateInstance 'ssa{sv}' dev "$(printf '[%.0s' $(seq 200))" 0
expect_error "CreateInstance refuses an invalid config, naming the field" "mounts[0].9p.msize" \
        "${M[@]}" CreateInstance 'ssa{sv}' dev \
        "$images
mounts: [{location: /tmp, mountPoint: /mnt/t, 9p: {msize: 12XB}}]" 0
expect_error "CreateInstance refuses an unknown option" "unknown option" \
        "${M[@]}" CreateInstance 'ssa{sv}' dev "$images" 1 frobnicate b true
expect_error "CreateInstance refuses an option of the wrong type" "must have type u" \
        "${M[@]}" CreateInstance 'ssa{sv}' dev "$images" 1 cpus s four
expect_error "a call with the wrong signature is refused" "Invalid arguments 's'" \
        "${M[@]}" CreateInstance 's' dev
if [ -z "$(ls -A "$LIMA_HOME")" ]; then ok "nothing was created by the refusals"; else
        not_ok "refusals left files: $(ls -A "$LIMA_HOME")"; fi

expect_ok "CreateInstance with options" \
        "${M[@]}" CreateInstance 'ssa{sv}' dev "$images" 3 cpus u 3 memory s 1GiB \
        mounts 'a(ssb)' 1 /tmp/limad-bus-share /mnt/share true
expect_error "CreateInstance refuses a duplicate" "already exists" \
        "${M[@]}" CreateInstance 'ssa{sv}' dev "$images" 0
expect_ok "GetInstance finds it" "${M[@]}" GetInstance s dev
expect_error "GetInstance names a missing instance" "does not exist" \
        "${M[@]}" GetInstance s nosuch
out=$(busctl --user get-property io.lima.lima1 /io/lima/lima1/instance/dev \
        io.lima.lima1.Instance CPUs Memory Status Mounts 2>&1)
case "$out" in
*"u 3"*"t 1073741824"*'s "Stopped"'*"/tmp/limad-bus-share"*"/mnt/share"*) ok "properties follow the config and options" ;;
*) not_ok "properties: $out" ;;
esac
out=$(call io.lima.lima1 /io/lima/lima1 org.freedesktop.DBus.ObjectManager GetManagedObjects)
case "$out" in *"/io/lima/lima1/instance/dev"*) ok "GetManagedObjects lists the instance" ;;
*) not_ok "GetManagedObjects: $out" ;; esac
out=$(busctl --user introspect io.lima.lima1 /io/lima/lima1/instance/dev 2>&1)
case "$out" in *".Start"*"a{sv}"*".Stop"*"b"*"Progress"*) ok "introspection shows the methods" ;;
*) not_ok "introspection: $out" ;; esac
out=$(busctl --user --xml-interface introspect io.lima.lima1 /io/lima/lima1 2>&1)
case "$out" in *'name="name"'*'name="yaml"'*'name="options"'*) ok "introspection names the arguments" ;;
*) not_ok "introspection XML: $out" ;; esac
expect_ok "ValidateConfig fills defaults" "${M[@]}" ValidateConfig s "$images"
out=$(call "${M[@]}" ValidateConfig s "$images")
case "$out" in *"mountType: 9p"*) ok "ValidateConfig returns the filled config" ;;
*) not_ok "ValidateConfig: $out" ;; esac
out=$(call "${M[@]}" ListTemplates)
case "$out" in *'"debian-12-local"'*'"ubuntu-24.04"'*) ok "ListTemplates lists the templates" ;;
*) not_ok "ListTemplates: $out" ;; esac

I=(io.lima.lima1 /io/lima/lima1/instance/dev io.lima.lima1.Instance)
expect_error "Stop of a stopped instance is NotRunning" "is not running" "${I[@]}" Stop b false
expect_error "SetConfig refuses an invalid config" "cpus" "${I[@]}" SetConfig s "cpus: x"
expect_ok "SetConfig takes a valid one" "${I[@]}" SetConfig s "$images
cpus: 2"
out=$(busctl --user get-property "${I[@]}" CPUs 2>&1)
[ "$out" = "u 2" ] && ok "SetConfig changed CPUs" || not_ok "CPUs after SetConfig: $out"
out=$(call "${I[@]}" GetConfig)
case "$out" in *"limad-test.qcow2"*"cpus: 2"*) ok "GetConfig returns the stored lima.yaml" ;;
*) not_ok "GetConfig: $out" ;; esac

# limactl edit: flags without an editor, then $EDITOR rounds (a sed script stands in for a
# person), each checked against what limad then reports and what is on disk.
limactl=$build/client/limactl
cpus() { busctl --user get-property "${I[@]}" CPUs 2>&1; }
if out=$("$limactl" edit dev --cpus 4 --memory 2 2>&1) && [ "$(cpus)" = "u 4" ]; then
        ok "limactl edit --cpus applies the flag"
else
        not_ok "edit --cpus: $out / $(cpus)"
fi
if out=$(EDITOR="sed -i -e 's/^cpus:.*/cpus: 1/' -e '1i # kept: my note'" "$limactl" edit dev 2>&1) &&
        [ "$(cpus)" = "u 1" ] && grep -q "^# kept: my note" "$LIMA_HOME/dev/lima.yaml"; then
        ok "limactl edit stores what the editor saved, comments included"
else
        not_ok "edit via EDITOR: $out / $(cpus)"
fi
before=$(cat "$LIMA_HOME/dev/lima.yaml")
out=$(EDITOR="sed -i 's/^cpus:.*/cpus: many/'" "$limactl" edit dev </dev/null 2>&1)
rc=$?
kept=$(sed -n 's/.*your edits are kept in \(.*\)$/\1/p' <<<"$out")
if [ "$rc" -eq 1 ] && [[ "$out" == *"dev.yaml:"*"cpus"* ]] && [ -n "$kept" ] &&
        grep -q "cpus: many" "$kept" && [ "$(cat "$LIMA_HOME/dev/lima.yaml")" = "$before" ] &&
        [ "$(cpus)" = "u 1" ]; then
        ok "an invalid edit changes nothing, names the error and keeps the edited file"
else
        not_ok "invalid edit (rc $rc): $out"
fi
[ -n "$kept" ] && rm -f "$kept"
out=$(EDITOR=true "$limactl" edit dev 2>&1)
[ $? -eq 0 ] && [[ "$out" == *"No changes"* ]] && ok "an edit that saves nothing new is a no-op" ||
        not_ok "no-op edit: $out"
out=$(EDITOR="sed -i '/^[^#]/d'" "$limactl" edit dev 2>&1)
if [ $? -eq 0 ] && [[ "$out" == *"aborted"* ]] && [ "$(cat "$LIMA_HOME/dev/lima.yaml")" = "$before" ]; then
        ok "emptying the file aborts the edit"
else
        not_ok "empty edit: $out"
fi
out=$("$limactl" edit nosuch --cpus 2 2>&1)
[ $? -eq 1 ] && [[ "$out" == *"does not exist"* ]] && ok "edit names a missing instance" ||
        not_ok "edit nosuch: $out"
out=$("$limactl" edit dev --cpus 0 2>&1)
[ $? -eq 2 ] && [[ "$out" == *"--cpus"* ]] && ok "edit refuses --cpus 0 as bad usage" ||
        not_ok "edit --cpus 0: $out"
mount_tests "${I[@]}"
expect_ok "Start returns once the agent is launched" "${I[@]}" Start 'a{sv}' 0
for _ in $(seq 100); do
        s=$(busctl --user get-property "${I[@]}" Status 2>&1)
        [ "$s" = 's "Broken"' ] && break
        sleep 0.2
done
[ "$s" = 's "Broken"' ] && ok "a start with a missing image ends Broken" || not_ok "status: $s"
out=$(busctl --user get-property "${I[@]}" Errors 2>&1)
case "$out" in *"limad-test.qcow2"*) ok "Errors names the missing image" ;;
*) not_ok "Errors: $out" ;; esac
# The contract in dbus/ is what the daemon serves, member by member.
for pair in Manager:/io/lima/lima1 Instance:/io/lima/lima1/instance/dev; do
        busctl --user --xml-interface introspect io.lima.lima1 "${pair#*:}" >"$work/live.xml" 2>&1
        if out=$("$src/tests/bus/compare-introspection.py" \
                "$src/dbus/io.lima.lima1.${pair%%:*}.xml" "$work/live.xml" 2>&1); then
                ok "dbus/io.lima.lima1.${pair%%:*}.xml matches what limad introspects"
        else
                not_ok "dbus/io.lima.lima1.${pair%%:*}.xml differs: $out"
        fi
done
expect_ok "Delete removes it" "${I[@]}" Delete b false
[ ! -e "$LIMA_HOME/dev" ] && ok "its folder is gone" || not_ok "folder still there"
expect_error "the deleted instance has no object" "Unknown object" "${I[@]}" Stop b false

# A FILE.yaml whose base: is a path relative to it: limactl composes it (limad never reads
# the user's files), from any working directory.
mkdir -p "$work/cfg"
printf '%s\ncpus: 3\n' "$images" >"$work/cfg/common.yaml"
printf 'base: common.yaml\nmemory: 1GiB\n' >"$work/cfg/rel.yaml"
if out=$(cd / && "$limactl" create "$work/cfg/rel.yaml" 2>&1) &&
        [ "$(busctl --user get-property io.lima.lima1 /io/lima/lima1/instance/rel \
                io.lima.lima1.Instance CPUs 2>&1)" = "u 3" ]; then
        ok "create FILE.yaml resolves a relative base: next to the file"
else
        not_ok "relative base: $out"
fi
printf 'base: missing.yaml\n' >"$work/cfg/broken.yaml"
out=$("$limactl" create "$work/cfg/broken.yaml" 2>&1)
if [ $? -ne 0 ] && [[ "$out" == *"missing.yaml"* ]] && [ ! -e "$LIMA_HOME/broken" ]; then
        ok "a missing base file is named and nothing is created"
else
        not_ok "missing base: $out"
fi
"$limactl" delete rel >/dev/null 2>&1

echo "1..$((pass + fail))"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
