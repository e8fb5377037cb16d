#!/bin/bash
# limad --system as users meet it: a private system bus applying dbus/io.lima.lima1.conf,
# polkitd with dbus/io.lima.lima1.policy and a test rule, the real limad --system, and the
# users limad-alice (owner), limad-bob (another user) and limad-admin (an admin by the rule),
# plus root. For every Manager and Instance method and each of them: allowed, or refused
# with AccessDenied and nothing changed. Mount locations checked as the owner. Bad input
# from an unprivileged user: a named error each, limad alive, the store unchanged. The
# dbus/*.xml contract against what the daemon introspects. Then polkit goes away: owners
# and root only. No guest boots (a start is proven with an image that does not exist).
#
#   tests/system/test-system-bus.sh BUILD_DIR     (as root; prints TAP)
set -u
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP needs root: test users, polkit rules and a system bus"
        exit 0
fi
work=$(mktemp -d /tmp/limad-system-XXXXXX)
. "$src/tests/system/private-system-bus.sh"
trap 'system_bus_stop; rm -rf "$work"' EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
trap 'exit 129' HUP

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }

M=/io/lima/lima1
ipath() { echo "/io/lima/lima1/instance/$1"; }
# gdbus prints the D-Bus error name ("GDBus.Error:io.lima.lima1.Error.AccessDenied: …").
gcall() { # USER PATH IFACE.METHOD ARGS…
        local user=$1 path=$2 method=$3
        shift 3
        as "$user" gdbus call --system --dest io.lima.lima1 --object-path "$path" \
                --method "$method" "$@" 2>&1
}
prop() { busctl --system get-property io.lima.lima1 "$(ipath "$1")" io.lima.lima1.Instance "$2" 2>&1; }
alive() {
        as limad-bob gdbus call --system --dest io.lima.lima1 --object-path $M \
                --method org.freedesktop.DBus.ObjectManager.GetManagedObjects >/dev/null 2>&1
}
# What a refused call must leave alone: the config byte for byte, the status, the files.
fingerprint() {
        echo "$(sha256sum <"$state/$1/lima.yaml" 2>&1) $(prop "$1" Status)" \
                "$(ls -A "$state/$1" 2>&1 | tr '\n' ' ')"
}
expect() { # NAME USER WANT(ok or an error name) PATH IFACE.METHOD ARGS…
        local name=$1 user=$2 want=$3 out rc
        shift 3
        out=$(gcall "$user" "$@")
        rc=$?
        if [ "$want" = ok ]; then
                if [ $rc -eq 0 ]; then ok "$name"; else not_ok "$name: $out"; fi
        elif [ $rc -ne 0 ] && [[ "$out" == *"GDBus.Error:$want:"* ]]; then
                ok "$name"
        else
                not_ok "$name: wanted $want, got: $out"
        fi
        alive || not_ok "limad died after: $name"
        last_out=$out
}
expect_denied_unchanged() { # NAME USER INSTANCE PATH IFACE.METHOD ARGS…
        local name=$1 user=$2 inst=$3 before
        shift 3
        before=$(fingerprint "$inst")
        expect "$name" "$user" io.lima.lima1.Error.AccessDenied "$@"
        if [ "$(fingerprint "$inst")" = "$before" ]; then ok "$name: nothing changed"; else
                not_ok "$name: $inst changed: $before → $(fingerprint "$inst")"; fi
}
wait_status() { # INSTANCE STATUS
        local s
        for _ in $(seq 150); do
                s=$(prop "$1" Status)
                [ "$s" = "s \"$2\"" ] && return 0
                sleep 0.2
        done
        echo "$s"
        return 1
}

images='images: [{location: /nonexistent/limad-system-test.qcow2, arch: x86_64}]'
yaml_cpus() { printf '%s\ncpus: %s\nmounts: []\n' "$images" "$1"; }

if busctl --system status io.lima.lima1 >/dev/null 2>&1; then ok "limad --system owns io.lima.lima1"
else not_ok "limad --system is not on the bus: $(tail -5 "$work/limad.log")"; fi
if [ -n "$(busctl --system status org.freedesktop.PolicyKit1 2>/dev/null)" ]; then
        ok "polkitd is on the private system bus"
else not_ok "polkitd is not running: $(tail -5 "$work/polkitd.log")"; fi

# ---- CreateInstance × users ----
expect "CreateInstance: alice (create-instance granted by the rule)" limad-alice ok \
        $M io.lima.lima1.Manager.CreateInstance ai "$(yaml_cpus 1)" '{}'
[ "$(prop ai OwnerUID)" = "u $alice_uid" ] && ok "OwnerUID is alice's uid" ||
        not_ok "OwnerUID: $(prop ai OwnerUID)"
[ "$(stat -c '%u %a' "$state/ai")" = "$alice_uid 700" ] &&
        ok "the instance folder is alice's, mode 0700" ||
        not_ok "folder: $(stat -c '%u %a' "$state/ai")"
[ "$(cat "$state/ai/owner-uid")" = "$alice_uid" ] && [ "$(stat -c %u "$state/ai/owner-uid")" = 0 ] &&
        ok "owner-uid records alice, written by root" || not_ok "owner-uid: $(ls -l "$state/ai")"
[ "$(stat -c '%u %a' "$state/_keys/$alice_uid")" = "$alice_uid 700" ] &&
        ok "alice's SSH keys folder is hers, mode 0700" ||
        not_ok "keys folder: $(ls -ln "$state/_keys")"
expect "CreateInstance: bob is refused (policy default: admin authentication)" limad-bob \
        io.lima.lima1.Error.AccessDenied $M io.lima.lima1.Manager.CreateInstance bi "$images" '{}'
[[ "$last_out" == *"io.lima.lima1.create-instance"* ]] && ok "the refusal names the action" ||
        not_ok "message: $last_out"
[ ! -e "$state/bi" ] && ok "bob's refused create left nothing" || not_ok "$state/bi exists"
expect "CreateInstance: admin" limad-admin ok \
        $M io.lima.lima1.Manager.CreateInstance adm "$images" '{}'
[ "$(prop adm OwnerUID)" = "u $admin_uid" ] && ok "admin's instance is admin's" ||
        not_ok "OwnerUID: $(prop adm OwnerUID)"
expect "CreateInstance: root" root ok $M io.lima.lima1.Manager.CreateInstance rt "$images" '{}'
[ "$(prop rt OwnerUID)" = "u 0" ] && ok "root's instance is root's" || not_ok "$(prop rt OwnerUID)"
for n in ad1 ad2 ad3; do
        gcall limad-alice $M io.lima.lima1.Manager.CreateInstance $n "$images" '{}' >/dev/null ||
                not_ok "alice cannot create $n"
done

# ---- reads: open to everyone ----
for u in limad-alice limad-bob limad-admin root; do
        expect "GetInstance: $u" $u ok $M io.lima.lima1.Manager.GetInstance ai
        expect "ListTemplates: $u" $u ok $M io.lima.lima1.Manager.ListTemplates
        expect "Properties.GetAll of alice's instance: $u" $u ok "$(ipath ai)" \
                org.freedesktop.DBus.Properties.GetAll io.lima.lima1.Instance
        expect "GetManagedObjects: $u" $u ok $M org.freedesktop.DBus.ObjectManager.GetManagedObjects
done
# ValidateConfig composes as root: authorized like create-instance (bob may not create).
for u in limad-alice limad-admin root; do
        expect "ValidateConfig: $u" $u ok $M io.lima.lima1.Manager.ValidateConfig "$images"
done
expect "ValidateConfig: bob is refused like a create" limad-bob io.lima.lima1.Error.AccessDenied \
        $M io.lima.lima1.Manager.ValidateConfig "$images"
out=$(gcall limad-alice $M io.lima.lima1.Manager.ValidateConfig "$images")
case "$out" in *"/home/limad-alice"*) ok "ValidateConfig fills ~ with the caller's home" ;;
*) not_ok "ValidateConfig as alice: $out" ;; esac
# The bus itself refuses what the policy does not list.
expect "the bus refuses an unlisted method (Properties.Set) to users" limad-bob \
        org.freedesktop.DBus.Error.AccessDenied "$(ipath ai)" org.freedesktop.DBus.Properties.Set \
        io.lima.lima1.Instance CPUs '<uint32 8>'

# ---- SetConfig ----
I=io.lima.lima1.Instance
expect_denied_unchanged "SetConfig: bob on alice's instance" limad-bob ai \
        "$(ipath ai)" $I.SetConfig "$(yaml_cpus 4)"
[[ "$last_out" == *"manage-other-instance"* ]] && ok "the refusal names manage-other-instance" ||
        not_ok "message: $last_out"
cpus=1
for u in limad-alice limad-admin root; do
        cpus=$((cpus + 1))
        expect "SetConfig: $u on alice's instance" $u ok "$(ipath ai)" $I.SetConfig "$(yaml_cpus $cpus)"
        [ "$(prop ai CPUs)" = "u $cpus" ] && ok "SetConfig by $u took effect" ||
                not_ok "CPUs after $u: $(prop ai CPUs)"
done
[ "$(stat -c %u "$state/ai")" = "$alice_uid" ] && ok "the folder is still alice's" ||
        not_ok "owner changed"

# ---- GetConfig: the stored lima.yaml is the owner's ----
expect "GetConfig: bob on alice's instance is refused" limad-bob io.lima.lima1.Error.AccessDenied \
        "$(ipath ai)" $I.GetConfig
for u in limad-alice limad-admin root; do
        expect "GetConfig: $u on alice's instance" $u ok "$(ipath ai)" $I.GetConfig
        [[ "$last_out" == *"cpus: 4"* ]] && ok "GetConfig by $u returns the stored config" ||
                not_ok "GetConfig by $u: $last_out"
done

# ---- Start / Stop ----
expect_denied_unchanged "Start: bob on alice's instance" limad-bob ai "$(ipath ai)" $I.Start '{}'
[ ! -e "$state/ai/ha.pid" ] && ok "bob's refused Start ran no agent" || not_ok "ha.pid exists"
for u in limad-alice limad-admin root; do
        expect "Start: $u on alice's instance" $u ok "$(ipath ai)" $I.Start '{}'
        if s=$(wait_status ai Broken); then
                ok "Start by $u ran the agent (it failed later on the missing image)"
        else not_ok "status after Start by $u: $s"; fi
        grep -q "running as limad-alice (uid $alice_uid)" "$state/ai/ha.stderr.log" &&
                ok "the agent started by $u ran as alice" ||
                not_ok "agent log: $(cat "$state/ai/ha.stderr.log")"
        [ "$(stat -c %U "$state/ai/ssh.config")" = limad-alice ] &&
                ok "the agent's files are alice's (started by $u)" ||
                not_ok "ssh.config: $(ls -l "$state/ai")"
        expect_denied_unchanged "Stop: bob on alice's instance (started by $u)" limad-bob ai \
                "$(ipath ai)" $I.Stop false
        expect "Stop: $u on alice's instance" $u ok "$(ipath ai)" $I.Stop false
        [ "$(prop ai Status)" = 's "Stopped"' ] && ok "Stop by $u: Stopped" ||
                not_ok "status after Stop by $u: $(prop ai Status)"
done
expect "Stop: alice on her stopped instance says NotRunning" limad-alice \
        io.lima.lima1.Error.NotRunning "$(ipath ai)" $I.Stop false

# ---- Delete ----
expect_denied_unchanged "Delete: bob on alice's instance" limad-bob ai "$(ipath ai)" $I.Delete false
for pair in limad-alice:ad1 limad-admin:ad2 root:ad3; do
        u=${pair%%:*} n=${pair#*:}
        expect "Delete: $u on alice's instance $n" $u ok "$(ipath $n)" $I.Delete false
        [ ! -e "$state/$n" ] && ok "Delete by $u removed the folder" || not_ok "$state/$n remains"
done
expect "Delete: alice on admin's instance is refused" limad-alice \
        io.lima.lima1.Error.AccessDenied "$(ipath adm)" $I.Delete false

# ---- mount locations, checked as the owner ----
mkdir -p "$work/bob-private" "$work/bob-shared" "$work/alice-share"
chown limad-bob: "$work/bob-private" "$work/bob-shared"
chown limad-alice: "$work/alice-share"
chmod 0700 "$work/bob-private"
chmod 0755 "$work/bob-shared" "$work/alice-share"
mounts() { printf '%s\nmounts: [{location: %s, writable: %s}]\n' "$images" "$1" "$2"; }
before=$(ls -A "$state")
expect "CreateInstance: alice may not mount bob's private folder" limad-alice \
        io.lima.lima1.Error.MountNotPermitted $M io.lima.lima1.Manager.CreateInstance m1 \
        "$(mounts "$work/bob-private" false)" '{}'
[[ "$last_out" == *"$work/bob-private"*"read"* ]] && ok "the refusal names the location and read" ||
        not_ok "message: $last_out"
expect "CreateInstance: alice may not mount bob's readable folder writable" limad-alice \
        io.lima.lima1.Error.MountNotPermitted $M io.lima.lima1.Manager.CreateInstance m1 \
        "$(mounts "$work/bob-shared" true)" '{}'
[[ "$last_out" == *"writable"* ]] && ok "the refusal says write permission is missing" ||
        not_ok "message: $last_out"
expect "CreateInstance: alice may not mount a folder she could not create" limad-alice \
        io.lima.lima1.Error.MountNotPermitted $M io.lima.lima1.Manager.CreateInstance m1 \
        "$(mounts "$work/bob-private/new" false)" '{}'
expect "CreateInstance: alice may not mount /root" limad-alice \
        io.lima.lima1.Error.MountNotPermitted $M io.lima.lima1.Manager.CreateInstance m1 \
        "$(mounts /root false)" '{}'
[ "$(ls -A "$state")" = "$before" ] && ok "refused mounts created nothing" ||
        not_ok "state changed: $(ls -A "$state")"
expect_denied=io.lima.lima1.Error.MountNotPermitted
before=$(fingerprint ai)
expect "SetConfig: alice may not add a mount of /root" limad-alice $expect_denied \
        "$(ipath ai)" $I.SetConfig "$(mounts /root true)"
[ "$(fingerprint ai)" = "$before" ] && ok "the refused SetConfig changed nothing" ||
        not_ok "ai changed"
# ---- AddMount / RemoveMount: on a stopped instance they edit lima.yaml ----
expect_denied_unchanged "AddMount: bob on alice's instance" limad-bob ai "$(ipath ai)" \
        $I.AddMount "$work/alice-share" /mnt/from-bob true '{}'
before=$(fingerprint ai)
expect "AddMount: alice may not add bob's private folder" limad-alice $expect_denied \
        "$(ipath ai)" $I.AddMount "$work/bob-private" /mnt/private false '{}'
[ "$(fingerprint ai)" = "$before" ] && ok "the refused AddMount changed nothing" ||
        not_ok "ai changed"
for u in limad-alice limad-admin root; do
        expect "AddMount: $u on alice's instance" $u ok "$(ipath ai)" \
                $I.AddMount "$work/alice-share" "/mnt/by-$u" true '{}'
        grep -qF "/mnt/by-$u" "$state/ai/lima.yaml" && ok "AddMount by $u is in lima.yaml" ||
                not_ok "lima.yaml after AddMount by $u: $(cat "$state/ai/lima.yaml")"
        expect_denied_unchanged "RemoveMount: bob on alice's instance (added by $u)" limad-bob ai \
                "$(ipath ai)" $I.RemoveMount "/mnt/by-$u"
        expect "RemoveMount: $u on alice's instance" $u ok "$(ipath ai)" $I.RemoveMount "/mnt/by-$u"
        ! grep -qF "/mnt/by-$u" "$state/ai/lima.yaml" && ok "RemoveMount by $u took it out" ||
                not_ok "lima.yaml after RemoveMount by $u: $(cat "$state/ai/lima.yaml")"
done

expect "CreateInstance: alice may mount bob's readable folder read-only" limad-alice ok \
        $M io.lima.lima1.Manager.CreateInstance m2 "$(mounts "$work/bob-shared" false)" '{}'
expect "CreateInstance: alice may mount her folder writable" limad-alice ok \
        $M io.lima.lima1.Manager.CreateInstance m3 "$(mounts "$work/alice-share" true)" '{}'
expect "CreateInstance: root may mount /root for root's instance" root ok \
        $M io.lima.lima1.Manager.CreateInstance m4 "$(mounts /root true)" '{}'

# ---- virtiofs: started after the agent dropped to alice (the image is missing, so it never
# gets that far); none is left, as root or in her subordinate range ----
expect "CreateInstance: alice, a virtiofs mount of her folder" limad-alice ok \
        $M io.lima.lima1.Manager.CreateInstance vf \
        "$(mounts "$work/alice-share" true)
mountType: virtiofs" '{}'
expect "Start: alice's virtiofs instance" limad-alice ok "$(ipath vf)" $I.Start '{}'
if s=$(wait_status vf Broken); then
        ok "the agent ended (the image is missing)"
else
        not_ok "virtiofs start did not end: $s; $(tail -3 "$state/vf/ha.stderr.log")"
fi
alice_subuids=$(awk -F: '$1 == "limad-alice" {printf "%s%s", sep, $2; sep = ","}' /etc/subuid)
left=$(pgrep -x -u "root,limad-alice${alice_subuids:+,$alice_subuids}" virtiofsd || true)
[ -z "$left" ] && ok "no virtiofsd is left (as root, alice or her subordinate uids)" ||
        not_ok "virtiofsd left: $(ps -o pid,user,args -p "$(echo $left | tr ' ' ,)")"
gcall limad-alice "$(ipath vf)" $I.Stop false >/dev/null

# ---- bad input from an unprivileged user ----
snapshot() { find "$state" -printf '%p %U %m %s\n' | sort; sha256sum "$state"/*/lima.yaml; }
before=$(snapshot)
bad() { # NAME ERROR PATH METHOD ARGS… (as alice)
        local name=$1 want=$2
        shift 2
        expect "bad input: $name" limad-alice "$want" "$@"
}
long=$(head -c 100000 /dev/zero | tr '\0' a)
IN=io.lima.lima1.Error.InvalidName
IC=io.lima.lima1.Error.InvalidConfig
bad "empty name" $IN $M io.lima.lima1.Manager.CreateInstance '' "$images" '{}'
bad "name with /" $IN $M io.lima.lima1.Manager.CreateInstance 'a/b' "$images" '{}'
bad "name .." $IN $M io.lima.lima1.Manager.CreateInstance '..' "$images" '{}'
bad "name ../etc" $IN $M io.lima.lima1.Manager.CreateInstance '../etc' "$images" '{}'
bad "name with a space" $IN $M io.lima.lima1.Manager.CreateInstance 'a b' "$images" '{}'
bad "name with a newline" $IN $M io.lima.lima1.Manager.CreateInstance $'a\nb' "$images" '{}'
bad "a 100000-byte name" $IN $M io.lima.lima1.Manager.CreateInstance "$long" "$images" '{}'
bad "GetInstance of ../etc" $IN $M io.lima.lima1.Manager.GetInstance '../etc'
bad "GetInstance of an empty name" $IN $M io.lima.lima1.Manager.GetInstance ''
bad "GetInstance of a missing instance" io.lima.lima1.Error.NoSuchInstance \
        $M io.lima.lima1.Manager.GetInstance nosuch
bomb='a: &a [x,x,x,x,x,x,x,x,x]'
prev=a
for c in b c d e f g h i; do
        bomb+=$'\n'"$c: &$c [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"
        prev=$c
done
nest=$(printf '[%.0s' $(seq 200))
bad "alias bomb in CreateInstance" $IC $M io.lima.lima1.Manager.CreateInstance bomb "$bomb" '{}'
bad "alias bomb in ValidateConfig" $IC $M io.lima.lima1.Manager.ValidateConfig "$bomb"
bad "alias bomb in SetConfig" $IC "$(ipath ai)" $I.SetConfig "$bomb"
bad "deep nesting in CreateInstance" $IC $M io.lima.lima1.Manager.CreateInstance deep "$nest" '{}'
bad "deep nesting in SetConfig" $IC "$(ipath ai)" $I.SetConfig "$nest"
bad "a 100000-byte string in the config" $IC $M io.lima.lima1.Manager.CreateInstance huge \
        "$images
arch: $long" '{}'
printf 'cpus: 7\n' >"$work/root-only.yaml"
chmod 0600 "$work/root-only.yaml"
bad "a base: file only root may read" $IC $M io.lima.lima1.Manager.CreateInstance leak \
        "base: $work/root-only.yaml
$images" '{}'
bad "a relative base: file (limad's folder)" $IC $M io.lima.lima1.Manager.ValidateConfig \
        "base: root-only.yaml
$images"
[[ "$last_out" == *"template:NAME"* ]] && ok "the refusal says only templates may be bases" ||
        not_ok "message: $last_out"
expect "a template: base is fine" limad-alice ok $M io.lima.lima1.Manager.ValidateConfig \
        "base: template:_default/mounts
$images"
bad "YAML that is not YAML" $IC "$(ipath ai)" $I.SetConfig 'cpus: ['
bad "an unknown option" io.lima.lima1.Error.InvalidArgument $M \
        io.lima.lima1.Manager.CreateInstance opt "$images" "{'frobnicate': <true>}"
bad "an option of the wrong type" io.lima.lima1.Error.InvalidArgument $M \
        io.lima.lima1.Manager.CreateInstance opt "$images" "{'cpus': <'four'>}"
bad "a method on an instance that does not exist" org.freedesktop.DBus.Error.UnknownObject \
        "$(ipath nosuch)" $I.Start '{}'
# Wrong signatures cannot be sent with gdbus (it checks them); dbus-send sends anything.
for sig in "io.lima.lima1.Manager.CreateInstance string:dev" \
        "io.lima.lima1.Manager.GetInstance int32:7" "io.lima.lima1.Manager.ListTemplates string:x"; do
        out=$(as limad-alice dbus-send --system --print-reply --dest=io.lima.lima1 $M $sig 2>&1)
        [[ "$out" == *"org.freedesktop.DBus.Error.InvalidArgs"* ]] &&
                ok "bad input: wrong signature ($sig) is InvalidArgs" || not_ok "$sig: $out"
        alive || not_ok "limad died after $sig"
done
out=$(as limad-alice dbus-send --system --print-reply --dest=io.lima.lima1 "$(ipath ai)" \
        io.lima.lima1.Instance.Stop string:yes 2>&1)
[[ "$out" == *"org.freedesktop.DBus.Error.InvalidArgs"* ]] &&
        ok "bad input: Stop with a string is InvalidArgs" || not_ok "Stop string: $out"
if [ "$(snapshot)" = "$before" ]; then ok "bad input changed nothing in the store"; else
        not_ok "the store changed: $(diff <(echo "$before") <(snapshot) | head -5)"; fi
kill -0 "$limad_pid" 2>/dev/null && ok "limad is still running" || not_ok "limad is gone"

# ---- the contract in dbus/ is what the daemon serves, on the system bus too ----
for pair in Manager:$M Instance:$(ipath ai); do
        as limad-bob busctl --system --xml-interface introspect io.lima.lima1 "${pair#*:}" \
                >"$work/live.xml" 2>&1
        if out=$("$src/tests/bus/compare-introspection.py" \
                "$src/dbus/io.lima.lima1.${pair%%:*}.xml" "$work/live.xml" 2>&1); then
                ok "dbus/io.lima.lima1.${pair%%:*}.xml matches the system-bus introspection"
        else
                not_ok "dbus/io.lima.lima1.${pair%%:*}.xml differs: $out"
        fi
done

# ---- what the owner plants in their folder cannot make limad act elsewhere ----
# A live "lima-hostagent" of alice's in ha.pid, and ha.sock pointing at root's bus socket.
as limad-alice ln -sf "$work/sysbus" "$state/ai/ha.sock"
as limad-alice bash -c "echo \$\$ >'$state/ai/ha.pid'; exec -a lima-hostagent sleep 60" &
fake=$!
sleep 0.3
gcall limad-alice "$(ipath ai)" $I.Stop false >/dev/null
sleep 0.5
grep -q "is not a socket of the instance's owner" "$work/limad.log" &&
        ok "limad does not link to a symlinked ha.sock (it points at root's socket)" ||
        not_ok "no refusal in limad.log: $(tail -3 "$work/limad.log")"
kill "$(cat "$state/ai/ha.pid")" 2>/dev/null
wait "$fake" 2>/dev/null
as limad-alice rm -f "$state/ai/ha.pid" "$state/ai/ha.sock"
wait_status ai Broken >/dev/null
gcall limad-alice "$(ipath ai)" $I.Stop false >/dev/null

# ---- without polkit: owners act on their own, only root on others' ----
kill "${system_bus_pids[1]}" 2>/dev/null
wait "${system_bus_pids[1]}" 2>/dev/null
for _ in $(seq 50); do
        busctl --system status org.freedesktop.PolicyKit1 >/dev/null 2>&1 || break
        sleep 0.1
done
expect "no polkit: alice may still change her own instance" limad-alice ok \
        "$(ipath ai)" $I.SetConfig "$(yaml_cpus 1)"
expect_denied_unchanged "no polkit: the admin may not change alice's instance" limad-admin ai \
        "$(ipath ai)" $I.SetConfig "$(yaml_cpus 2)"
[[ "$last_out" == *"polkit is not running"* ]] && ok "the refusal says polkit is not running" ||
        not_ok "message: $last_out"
expect_denied_unchanged "no polkit: bob may not delete alice's instance" limad-bob ai \
        "$(ipath ai)" $I.Delete false
expect "no polkit: bob may create his own instance" limad-bob ok \
        $M io.lima.lima1.Manager.CreateInstance bi "$images" '{}'
expect "no polkit: root may change alice's instance" root ok \
        "$(ipath ai)" $I.SetConfig "$(yaml_cpus 3)"

# Under the sanitizer build, a report in any log is a failure even when every call answered.
if reports=$(grep -l -E "AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:" \
        "$work/limad.log" "$state"/*/ha.stderr.log 2>/dev/null); then
        not_ok "sanitizer reports in: $reports"
else
        ok "no sanitizer report in limad's or the agents' logs"
fi

echo "1..$((pass + fail))"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
