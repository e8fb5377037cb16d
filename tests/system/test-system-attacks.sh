#!/bin/bash
# limad --system attacked by the owner of an instance (limad-alice), with the real daemon on
# a private system bus and polkitd (tests/system/private-system-bus.sh). Each check is a hole
# from issue 9 that an unprivileged user could use against root, and must stay closed:
#   bases in her stored lima.yaml (root-only files, a FIFO), ha.sock swapped or served by
#   root, ValidateConfig without authorization or with thousands of mounts, AddMount as an
#   existence oracle for root's folders, a polkit query whose instance vanishes, and an
#   agent of hers flooding signals through limad. No guest boots.
#
#   tests/system/test-system-attacks.sh BUILD_DIR     (as root; prints TAP)
set -u
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
        echo "1..0 # SKIP needs root: test users, polkit rules and a system bus"
        exit 0
fi
work=$(mktemp -d /tmp/limad-attacks-XXXXXX)
. "$src/tests/system/private-system-bus.sh"
helpers=()
cleanup() {
        local p
        for p in "${helpers[@]}"; do kill "$p" 2>/dev/null; done
        system_bus_stop
        rm -rf "$work" /root/limad-attack-secret-$$
}
trap cleanup EXIT

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }
note() { echo "# ${1//$'\n'/ | }"; }

M=/io/lima/lima1
I=io.lima.lima1.Instance
ipath() { echo "/io/lima/lima1/instance/$1"; }
gcall() { # USER PATH IFACE.METHOD ARGS…
        local user=$1 path=$2 method=$3
        shift 3
        as "$user" gdbus call --system --dest io.lima.lima1 --object-path "$path" \
                --method "$method" "$@" 2>&1
}
prop() { busctl --system get-property io.lima.lima1 "$(ipath "$1")" $I "$2" 2>&1; }
alive() {
        timeout 10 busctl --system call io.lima.lima1 $M org.freedesktop.DBus.Peer Ping \
                >/dev/null 2>&1
}
on_bus() { # wait up to SECONDS for limad's name
        for _ in $(seq $(($1 * 10))); do
                busctl --system status io.lima.lima1 >/dev/null 2>&1 && return 0
                sleep 0.1
        done
        return 1
}
restart_limad() {
        kill "$limad_pid" 2>/dev/null
        wait "$limad_pid" 2>/dev/null
        "$build/daemon/limad" --system --state-dir "$state" -v >>"$work/limad.log" 2>&1 &
        limad_pid=$!
        system_bus_pids[${#system_bus_pids[@]} - 1]=$limad_pid
}
images='images: [{location: /nonexistent/limad-attack.qcow2, arch: x86_64}]'
create() { # USER NAME [YAML]
        gcall "$1" $M io.lima.lima1.Manager.CreateInstance "$2" "${3:-$images
mounts: []}" '{}' >/dev/null || not_ok "$1 cannot create $2"
}
# What alice can do to her own folder: replace root's lima.yaml (the folder is hers).
plant_config() { # NAME TEXT
        as limad-alice bash -c "rm -f '$state/$1/lima.yaml' && cat >'$state/$1/lima.yaml'" <<<"$2"
}

alive && ok "limad --system is on the bus" || not_ok "limad is not running: $(tail -5 "$work/limad.log")"

# ---- hole 2: base: in her stored lima.yaml is not read by root ----
printf 'cpus: 7\nmounts: [{location: /root, writable: true}]\n' >"$work/root-only.yaml"
chmod 0600 "$work/root-only.yaml"
mkfifo -m 0666 "$work/fifo.yaml"
create limad-alice b1
create limad-alice b2
plant_config b1 "base: $work/root-only.yaml
$images"
plant_config b2 "base: file://$work/fifo.yaml
$images"
restart_limad
if on_bus 15; then
        ok "a FIFO as base in her lima.yaml does not freeze limad at startup"
else
        not_ok "limad is not on the bus 15 s after a restart (frozen on the FIFO base?)"
        # Release it (a writer that closes: EOF), so the rest can run.
        exec 3<>"$work/fifo.yaml"
        sleep 0.5
        exec 3>&-
        on_bus 30
fi
errors=$(prop b1 Errors)
cpus=$(prop b1 CPUs)
note "b1 (base: a root-only file) Errors: $errors; CPUs: $cpus"
[[ "$errors" == *"does not read bases named in a stored lima.yaml"* ]] &&
        ok "base: of a root-only file in her lima.yaml is refused with a named error" ||
        not_ok "b1 Errors: $errors"
[ "$cpus" != "u 7" ] && ! grep -q "cpus: 7" "$work/limad.log" &&
        ok "nothing of the root-only file reached her config, Errors or limad's log" ||
        not_ok "the root-only base was merged: CPUs $cpus"
[[ "$(prop b2 Errors)" == *"does not read bases"* ]] && ok "a FIFO base is refused as well" ||
        not_ok "b2 Errors: $(prop b2 Errors)"
# The agent (root until it drops) applies the same rule.
gcall limad-alice "$(ipath b1)" $I.Start '{}' >/dev/null
for _ in $(seq 100); do [ -z "$(pgrep -f "lima-hostagent --system .* b1$")" ] && break; sleep 0.2; done
if grep -q "does not read bases named in a stored lima.yaml" "$state/b1/ha.stderr.log" 2>/dev/null ||
        [[ "$(prop b1 Errors)" == *"does not read bases"* ]]; then
        ok "Start: the agent refuses the base too"
else
        not_ok "Start of b1: $(tail -3 "$state/b1/ha.stderr.log" 2>&1)"
fi
grep -q "cpus: 7\|-smp 7" "$state/b1/ha.stderr.log" 2>/dev/null &&
        not_ok "the agent read the root-only base" || ok "the agent's log holds nothing of it"

# ---- hole 4: ha.sock served by root, or swapped under limad ----
create limad-alice h1
# A socket that is hers by owner, but root serves it (as another instance's agent would).
"$src/tests/system/fake-agent.py" "$state/h1/ha.sock" 0 >"$work/root-agent.out" 2>&1 &
helpers+=($!)
for _ in $(seq 50); do [ -S "$state/h1/ha.sock" ] && break; sleep 0.1; done
chown limad-alice "$state/h1/ha.sock"
as limad-alice bash -c "echo \$\$ >'$state/h1/ha.pid'; exec -a lima-hostagent sleep 30" &
helpers+=($!)
sleep 0.3
gcall limad-alice "$(ipath h1)" $I.Stop false >/dev/null
sleep 1
if grep -q "connected" "$work/root-agent.out" && grep -q "h1: linked to its host agent" "$work/limad.log"; then
        not_ok "limad linked to a root-served socket planted as h1's ha.sock"
else
        ok "limad does not link to a socket root serves in her folder (peer must be alice)"
fi
grep -q "h1 runs as uid 0, not as its owner" "$work/limad.log" &&
        ok "the refusal names the peer's uid" || note "no peer refusal logged: $(grep h1 "$work/limad.log" | tail -2)"
# The race: her real socket and a symlink to root's socket swapped into ha.sock all along.
create limad-alice h2
"$src/tests/system/fake-agent.py" "$work/root-agent2.sock" 0 >"$work/root-agent2.out" 2>&1 &
helpers+=($!)
as limad-alice python3 - "$state/h2" "$work/root-agent2.sock" <<'PY' &
import os, socket, sys, time
d, target = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX); s.bind(d + "/real.sock"); s.listen(64); s.setblocking(False)
end = time.time() + 8
while time.time() < end:
    for src in ("real", "link"):
        tmp = d + "/tmp.sock"
        try: os.unlink(tmp)
        except FileNotFoundError: pass
        if src == "real": os.link(d + "/real.sock", tmp)
        else: os.symlink(target, tmp)
        os.rename(tmp, d + "/ha.sock")
        try:
            while True: s.accept()[0].close()
        except BlockingIOError: pass
PY
racer=$!
helpers+=($racer)
as limad-alice bash -c "echo \$\$ >'$state/h2/ha.pid'; exec -a lima-hostagent sleep 9" &
helpers+=($!)
sleep 0.3
gcall limad-alice "$(ipath h2)" $I.Stop false >/dev/null
wait "$racer" 2>/dev/null
attempts=$(grep -c "h2: agent pid\|h2.*not a socket of the instance's owner\|h2.*cannot connect\|h2.*runs as uid" "$work/limad.log")
reached=$(grep -c connected "$work/root-agent2.out")
note "ha.sock swap race: ~$attempts link attempts by limad, $reached connection(s) reached root's socket"
[ "$reached" -eq 0 ] && ok "the ha.sock symlink race never reaches root's socket" ||
        not_ok "limad connected to root's socket through the swapped ha.sock $reached time(s)"

# ---- hole 5: ValidateConfig is authorized, capped, and off the main loop ----
out=$(gcall limad-bob $M io.lima.lima1.Manager.ValidateConfig "$images")
[[ "$out" == *"io.lima.lima1.Error.AccessDenied"* ]] &&
        ok "ValidateConfig: bob (no create-instance) is refused like a create" ||
        not_ok "ValidateConfig as bob: $out"
many() { # N: a config with N mounts of folders alice can read
        local i
        printf '%s\nmounts:\n' "$images"
        for i in $(seq "$1"); do printf -- '- {location: /tmp, mountPoint: /mnt/m%d}\n' "$i"; done
}
many 2000 >"$work/many-2000.yaml"
many 128 >"$work/many-128.yaml"
start=$(date +%s.%N)
out=$(gcall limad-alice $M io.lima.lima1.Manager.ValidateConfig "$(cat "$work/many-2000.yaml")")
took=$(echo "$(date +%s.%N) - $start" | bc)
note "ValidateConfig with 2000 mounts: ${took}s: ${out:0:200}"
[[ "$out" == *"io.lima.lima1.Error.InvalidConfig"*"at most 128"* ]] &&
        ok "2000 mounts: InvalidConfig naming the cap (128)" || not_ok "2000 mounts: ${out:0:300}"
out=$(gcall limad-alice $M io.lima.lima1.Manager.ValidateConfig "$(cat "$work/many-128.yaml")")
[[ "$out" == *"/mnt/m128"* ]] && ok "128 mounts (the cap) validate" || not_ok "128 mounts: ${out:0:300}"
# Large calls in flight, from alice; bob's GetInstance must not wait for them.
big=()
for _ in 1 2 3 4; do
        gcall limad-alice $M io.lima.lima1.Manager.ValidateConfig "$(cat "$work/many-2000.yaml")" >/dev/null &
        big+=($!)
        gcall limad-alice $M io.lima.lima1.Manager.ValidateConfig "$(cat "$work/many-128.yaml")" >/dev/null &
        big+=($!)
done
sleep 0.2
worst=0
for _ in 1 2 3 4 5; do
        start=$(date +%s%N)
        gcall limad-bob $M io.lima.lima1.Manager.GetInstance b1 >/dev/null
        ms=$((($(date +%s%N) - start) / 1000000))
        [ "$ms" -gt "$worst" ] && worst=$ms
done
wait "${big[@]}"
note "GetInstance while 8 large ValidateConfig calls run: worst of 5 took ${worst} ms"
[ "$worst" -lt 2000 ] && ok "GetInstance answered in ${worst} ms while large ValidateConfig calls ran" ||
        not_ok "GetInstance took ${worst} ms behind ValidateConfig"

# ---- hole 7: AddMount is no oracle for root's folders ----
mkdir -p /root/limad-attack-secret-$$
create limad-alice am
a=$(gcall limad-alice "$(ipath am)" $I.AddMount /root/limad-attack-secret-$$ /mnt/x false '{}')
b=$(gcall limad-alice "$(ipath am)" $I.AddMount /root/limad-attack-nonexistent-$$ /mnt/x false '{}')
note "AddMount of an existing root-only folder: $a"
note "AddMount of a missing one under /root: $b"
[ "${a//limad-attack-secret-$$/X}" = "${b//limad-attack-nonexistent-$$/X}" ] &&
        ok "AddMount answers alice the same for an existing and a missing folder under /root" ||
        not_ok "AddMount tells them apart"
[[ "$a" == *"MountNotPermitted"* ]] && ok "…and that answer is MountNotPermitted" || not_ok "$a"

# ---- hole 7: a polkit answer whose instance vanished meanwhile is dropped ----
create limad-alice pk
kill -STOP "${system_bus_pids[1]}"
pending=()
for _ in 1 2 3; do
        gcall limad-alice "$(ipath pk)" $I.GetConfig >/dev/null &
        pending+=($!)
done
sleep 0.5
gcall root "$(ipath pk)" $I.Delete false >/dev/null
kill -CONT "${system_bus_pids[1]}"
wait "${pending[@]}"
sleep 6
n=$(grep -c "the call did not come back" "$work/limad.log")
note "polkit answers dropped after their instance was deleted: $n"
[ "$n" -ge 1 ] && ok "pending polkit queries of a deleted instance do not stay in limad" ||
        not_ok "no answered query was dropped (they leak)"

# ---- hole 7: an agent of hers flooding signals is rate-limited by limad ----
create limad-alice fl
as limad-alice "$src/tests/system/fake-agent.py" "$state/fl/ha.sock" 5000 "$state/fl/ha.pid" \
        lima-hostagent >"$work/flood.out" 2>&1 &
fake=$!
helpers+=($fake)
for _ in $(seq 50); do [ -S "$state/fl/ha.sock" ] && break; sleep 0.1; done
as limad-bob gdbus monitor --system --dest io.lima.lima1 --object-path "$(ipath fl)" \
        >"$work/monitor.out" 2>&1 &
mon=$!
helpers+=($mon)
sleep 0.5
gcall limad-alice "$(ipath fl)" $I.Stop false >/dev/null
sleep 3
kill "$mon" 2>/dev/null
got=$(grep -c "Instance.Progress" "$work/monitor.out")
note "the fake agent sent 5000 Progress signals; limad re-emitted $got in ~3 s"
grep -q connected "$work/flood.out" || note "the fake agent was never linked: $(grep fl "$work/limad.log" | tail -2)"
[ "$got" -le 100 ] && ok "limad re-emits an agent's signals at a bounded rate ($got of 5000)" ||
        not_ok "limad re-emitted $got of 5000 signals"
kill "$(cat "$state/fl/ha.pid")" 2>/dev/null

alive && ok "limad is still running" || not_ok "limad is gone: $(tail -5 "$work/limad.log")"
if reports=$(grep -l -E "AddressSanitizer|UndefinedBehaviorSanitizer|runtime error:" \
        "$work/limad.log" "$state"/*/ha.stderr.log 2>/dev/null); then
        not_ok "sanitizer reports in: $reports"
else
        ok "no sanitizer report in limad's or the agents' logs"
fi
echo "1..$((pass + fail))"
echo "# $pass passed, $fail failed"
[ "$fail" -eq 0 ]
