#!/usr/bin/env bash
# The built systemd units and D-Bus activation files: `systemd-analyze verify` passes without a
# single warning (in a scratch root where the ExecStart binaries are the built ones), the
# settings the design depends on are there, and the tmpfiles.d entry makes /var/lib/lima.
# Usage: test-units-verify.sh BUILD_ROOT SOURCE_ROOT
set -uo pipefail

BUILD=${1:?build root}
SRC=${2:?source root}
n=0
failed=0
ok() { n=$((n + 1)); printf 'ok %d - %s\n' "$n" "$1"; }
not_ok() {
        n=$((n + 1))
        failed=1
        printf 'not ok %d - %s\n' "$n" "$1"
        [[ -n ${2:-} ]] && printf '%s\n' "$2" | sed 's/^/#   /'
}
check() { # check DESCRIPTION COMMAND...
        local desc=$1 out
        shift
        if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "$out"; fi
}

if ! command -v systemd-analyze >/dev/null || ! command -v systemd-tmpfiles >/dev/null; then
        echo "1..0 # SKIP systemd-analyze/systemd-tmpfiles missing (apt-get install systemd)"
        exit 0
fi
HOST_UNITS=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || true)
[[ -d $HOST_UNITS ]] || HOST_UNITS=/usr/lib/systemd/system

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ROOT=$TMP/root
mkdir -p "$ROOT/etc/systemd/system" "$ROOT/usr/lib/systemd" "$TMP/runtime" "$TMP/user"
chmod 0700 "$TMP/runtime"
# The targets and sockets our units order against come from the host's systemd.
cp -r "$HOST_UNITS" "$ROOT/usr/lib/systemd/system"

exec_path() { # the program an ExecStart= line runs
        sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$1"
}
# Put the built binary where a unit's ExecStart says it is installed, inside ROOT.
place_binary() { # UNIT_FILE BUILT_BINARY
        local path
        path=$(exec_path "$1")
        [[ $path == /* ]] || return 1
        mkdir -p "$ROOT$(dirname "$path")"
        cp "$2" "$ROOT$path"
}

SYS=$BUILD/units
USR=$BUILD/units/user
LIMAD=$BUILD/daemon/limad
AGENT=$BUILD/daemon/hostagent/lima-hostagent

# analyze_clean DESCRIPTION ARGS...: systemd-analyze exits 0 and prints nothing (it exits 0
# on unknown keys and many other mistakes, so any output is a failure).
analyze_clean() {
        local desc=$1 out rc
        shift
        out=$(systemd-analyze "$@" 2>&1)
        rc=$?
        if ((rc == 0)) && [[ -z $out ]]; then ok "$desc"; else not_ok "$desc" "exit $rc: $out"; fi
}

# --- system units -----------------------------------------------------------------------------
cp "$SYS/limad.service" "$SYS/lima@.service" "$ROOT/etc/systemd/system/"
place_binary "$SYS/limad.service" "$LIMAD" && place_binary "$SYS/lima@.service" "$AGENT"
analyze_clean "systemd-analyze verify limad.service lima@dev.service (system, --root)" \
        verify --root="$ROOT" limad.service lima@dev.service

# The check itself catches mistakes: the same verify with one unknown key must complain.
cp -r "$ROOT" "$TMP/bad"
echo 'NoSuchSetting=yes' >>"$TMP/bad/etc/systemd/system/lima@.service"
out=$(systemd-analyze verify --root="$TMP/bad" lima@dev.service 2>&1)
if [[ $out == *NoSuchSetting* ]]; then
        ok "verify reports an unknown key (the check can fail)"
else
        not_ok "verify reports an unknown key (the check can fail)" "$out"
fi
rm -rf "$TMP/bad/etc/systemd/system/limad.service"
out=$(systemd-analyze verify --root="$TMP/bad" limad.service 2>&1)
if [[ -n $out ]]; then ok "verify reports a missing unit"; else not_ok "verify reports a missing unit"; fi
rm -rf "$TMP/bad"

# --- user units (systemd-analyze has no --root for --user: point ExecStart at a copy) ---------
mkdir -p "$TMP/bin"
cp "$LIMAD" "$TMP/bin/limad"
cp "$AGENT" "$TMP/bin/lima-hostagent"
for unit in limad.service lima@.service; do
        path=$(exec_path "$USR/$unit")
        sed "s|^ExecStart=$path|ExecStart=$TMP/bin/${path##*/}|" "$USR/$unit" >"$TMP/user/$unit"
done
cp "$TMP/user/lima@.service" "$TMP/user/lima@dev.service"
XDG_RUNTIME_DIR=$TMP/runtime analyze_clean "systemd-analyze --user verify limad.service lima@dev.service" \
        --user verify "$TMP/user/limad.service" "$TMP/user/lima@dev.service"

# --- what the design depends on ---------------------------------------------------------------
has() { # has FILE LINE: FILE has exactly this line
        grep -qxF -- "$2" "$1" || { echo "$1 lacks: $2"; return 1; }
}
for dir in "$SYS" "$USR"; do
        kind=system
        mode=--system
        [[ $dir == "$USR" ]] && kind=user mode=--user
        check "$kind limad.service: Type=dbus, BusName=io.lima.lima1, limad $mode" \
                bash -c "$(declare -f has); has '$dir/limad.service' Type=dbus &&
                has '$dir/limad.service' BusName=io.lima.lima1 &&
                grep -qE '^ExecStart=/[^ ]*/limad $mode\$' '$dir/limad.service'"
        check "$kind lima@.service: Type=notify, KillMode=mixed, lima-hostagent $mode %i" \
                bash -c "$(declare -f has); has '$dir/lima@.service' Type=notify &&
                has '$dir/lima@.service' KillMode=mixed &&
                grep -qE '^ExecStart=/[^ ]*/lima-hostagent $mode %i\$' '$dir/lima@.service'"
        # The agent gives the guest LIMA_AGENT_POWERDOWN_TIMEOUT_SEC to power off; systemd must
        # wait longer than that before it kills anything.
        powerdown=$(sed -n 's/^#define LIMA_AGENT_POWERDOWN_TIMEOUT_SEC \([0-9]*\)$/\1/p' \
                "$SRC/daemon/hostagent/lima-hostagent.c")
        stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)$/\1/p' "$dir/lima@.service")
        if [[ -n $powerdown && -n $stop ]] && ((stop >= powerdown + 30)); then
                ok "$kind lima@.service: TimeoutStopSec=$stop leaves room for the ${powerdown} s powerdown"
        else
                not_ok "$kind lima@.service: TimeoutStopSec leaves room for the powerdown" \
                        "TimeoutStopSec=${stop:-unset}, agent powerdown timeout ${powerdown:-unknown}"
        fi
done

# Each hardening exception is commented: a No… comment for every setting left out on purpose.
for setting in ProtectHome PrivateTmp PrivateDevices MemoryDenyWriteExecute NoNewPrivileges; do
        check "system lima@.service: $setting is left out with a comment saying why" \
                grep -q "^# No $setting=: " "$SYS/lima@.service"
done
# The agent's bounds (issue 9): a small capability set without CAP_SYS_ADMIN, only /dev/kvm,
# only the namespaces virtiofsd's launcher makes, a system call deny list.
check "system lima@.service: CapabilityBoundingSet without CAP_SYS_ADMIN, with CAP_SETUID" \
        bash -c "grep -qxE 'CapabilityBoundingSet=[A-Z_ ]*' '$SYS/lima@.service' &&
        grep '^CapabilityBoundingSet=' '$SYS/lima@.service' | grep -qw CAP_SETUID &&
        ! grep '^CapabilityBoundingSet=' '$SYS/lima@.service' | grep -qw CAP_SYS_ADMIN"
check "system lima@.service: DevicePolicy=closed, DeviceAllow=/dev/kvm rw" \
        bash -c "$(declare -f has); has '$SYS/lima@.service' DevicePolicy=closed &&
        has '$SYS/lima@.service' 'DeviceAllow=/dev/kvm rw'"
check "system lima@.service: RestrictNamespaces=user mnt net ipc uts cgroup (virtiofsd's launcher, bwrap)" \
        bash -c "$(declare -f has); has '$SYS/lima@.service' 'RestrictNamespaces=user mnt net ipc uts cgroup'"
check "system lima@.service: a SystemCallFilter= deny list, EPERM" \
        bash -c "grep -qE '^SystemCallFilter=~@' '$SYS/lima@.service' &&
        $(declare -f has); has '$SYS/lima@.service' SystemCallErrorNumber=EPERM"
# newuidmap is setuid root: no-new-privileges (set or implied) would stop it.
check "user lima@.service: nothing that implies NoNewPrivileges (newuidmap must run)" \
        bash -c "! grep -qE '^(NoNewPrivileges=yes|LockPersonality|RestrictRealtime|RestrictSUIDSGID|RestrictNamespaces|SystemCallFilter|MemoryDenyWriteExecute)' '$USR/lima@.service'"

# --- D-Bus activation files -------------------------------------------------------------------
for pair in "system:$BUILD/dbus/system-services/io.lima.lima1.service:$SYS" \
        "session:$BUILD/dbus/io.lima.lima1.service:$USR"; do
        IFS=: read -r bus file units <<<"$pair"
        check "$bus bus activation: Name=io.lima.lima1, SystemdService=limad.service" \
                bash -c "$(declare -f has); has '$file' Name=io.lima.lima1 &&
                has '$file' SystemdService=limad.service && test -f '$units/limad.service'"
        exec_line=$(sed -n 's/^Exec=//p' "$file")
        unit_line=$(sed -n 's/^ExecStart=//p' "$units/limad.service")
        if [[ -n $exec_line && $exec_line == "$unit_line" ]]; then
                ok "$bus bus activation runs what limad.service runs ($exec_line)"
        else
                not_ok "$bus bus activation runs what limad.service runs" \
                        "Exec=$exec_line, ExecStart=$unit_line"
        fi
done

# --- tmpfiles.d -------------------------------------------------------------------------------
out=$(systemd-tmpfiles --root="$ROOT" --create "$SRC/units/limad.tmpfiles" 2>&1)
rc=$?
if ((rc == 0)) && [[ -z $out && -d $ROOT/var/lib/lima && $(stat -c '%a %U' "$ROOT/var/lib/lima") == "755 root" ]]; then
        ok "tmpfiles.d creates /var/lib/lima 0755 root"
else
        not_ok "tmpfiles.d creates /var/lib/lima 0755 root" "exit $rc: $out; $(stat -c '%a %U' "$ROOT/var/lib/lima" 2>&1)"
fi

echo "1..$n"
exit $failed
