#!/bin/bash
# The translated UI: every catalogue passes `msgfmt --check`; each one's share of the strings
# in the sources today (a fresh xgettext run over po/POTFILES, so a new untranslated string
# shows) is printed and must reach MIN_PERCENT; and German reaches a person: `limactl --help`,
# a limactl error, and limad's own messages (an AddMount refusal sent over D-Bus, in limad's
# locale as other system daemons do). The extension's German menu is the
# extension-gnome-shell-de test. Prints TAP.
#
#   tests/desktop/test-translation.sh BUILD_DIR [MIN_PERCENT]
set -u
build=$(cd "$1" && pwd)
min=${2:-100}
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/limad-i18n-XXXXXX)
limactl=$build/client/limactl
export LIMAD_LOCALEDIR=$build/po

pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }

# --- the catalogues ----------------------------------------------------------------------
(cd "$src" && xgettext --from-code=UTF-8 --keyword=_ --keyword=N_ --keyword=C_:1c,2 \
        --keyword=NC_:1c,2 --keyword=g_dngettext:2,3 --add-comments \
        -o "$work/fresh.pot" -f po/POTFILES 2>"$work/xgettext.log")
total=$(msgattrib --no-obsolete "$work/fresh.pot" 2>/dev/null | grep -c '^msgid ')
total=$((total - 1)) # the header
for po in "$src"/po/*.po; do
        lang=$(basename "$po" .po)
        if out=$(msgfmt --check --check-accelerators -o /dev/null "$po" 2>&1); then
                ok "$lang.po passes msgfmt --check"
        else
                not_ok "$lang.po: $out"
        fi
        msgmerge --quiet --no-fuzzy-matching -o "$work/$lang.po" "$po" "$work/fresh.pot" 2>/dev/null
        stats=$(LC_ALL=C msgfmt --statistics -o /dev/null "$work/$lang.po" 2>&1)
        done_=$(echo "$stats" | sed -n 's/^\([0-9]*\) translated.*/\1/p')
        pct=$((100 * ${done_:-0} / (total > 0 ? total : 1)))
        echo "# $lang: $done_ of $total strings translated ($pct %)"
        [ "$pct" -ge "$min" ] && ok "$lang is $pct % translated (at least $min %)" ||
                not_ok "$lang is $pct % translated, below $min %: $stats"
done
grep -q '^de$' "$src/po/LINGUAS" && [ -f "$build/po/de/LC_MESSAGES/limad.mo" ] &&
        ok "LINGUAS lists de and the build made limad.mo" || not_ok "no de catalogue built"

# --- limactl -----------------------------------------------------------------------------
out=$(LANGUAGE=de "$limactl" --help 2>&1)
if [[ "$out" == *"Aufruf: limactl [--system] BEFEHL"* ]] && [[ "$out" == *"Befehle:"* ]] &&
        [[ "$out" == *"Eine Instanz anhalten"* ]]; then
        ok "LANGUAGE=de limactl --help is German"
else
        not_ok "limactl --help: $out"
fi
out=$(LANGUAGE=de "$limactl" frobnicate 2>&1)
[[ "$out" == *"unbekannter Befehl „frobnicate“"* ]] && ok "a limactl error in German: $out" ||
        not_ok "limactl error: $out"
out=$(LANGUAGE=de env -u DBUS_SESSION_BUS_ADDRESS XDG_RUNTIME_DIR=$work "$limactl" list 2>&1)
[[ "$out" == *"kein Sitzungsbus"* ]] && ok "limactl without a bus says so in German: $out" ||
        not_ok "no bus: $out"
out=$(LANGUAGE=en "$limactl" --help 2>&1)
[[ "$out" == *"Usage: limactl"* ]] && ok "LANGUAGE=en stays English" || not_ok "en: $out"

# --- limad, in its own locale ------------------------------------------------------------
out=$(LANGUAGE=de "$build/daemon/limad" --help 2>&1)
[[ "$out" == *"Den Sitzungsbus bedienen"* ]] && ok "limad --help in German" || not_ok "limad --help: $out"
. "$src/tests/vm/private-bus.sh"
trap 'private_bus_stop; rm -rf "$work"' EXIT
# The activated limad runs in German; limactl stays English, so the German text is limad's.
sed -i "s|exec env |exec env LANGUAGE=de LIMAD_LOCALEDIR=$LIMAD_LOCALEDIR |" \
        "$work/services/io.lima.lima1.service"
echo 'images: [{location: /nonexistent/limad-i18n.qcow2, arch: x86_64}]' >"$work/dev.yaml"
"$limactl" create --name dev "$work/dev.yaml" >/dev/null 2>&1
out=$(LANGUAGE=en "$limactl" mount add dev /nonexistent/limad-i18n-dir:/mnt/x 2>&1)
if [[ "$out" == *"Ort „/nonexistent/limad-i18n-dir“ ist kein vorhandenes Verzeichnis"* ]]; then
        ok "limad's refusal arrives in limad's locale (German): ${out%%$'\n'*}"
else
        not_ok "limad message: $out"
fi
echo "1..$((pass + fail))"
[ $fail -eq 0 ]
