#!/bin/bash
# The man pages and bash completion as a user meets them: `meson install` (into a DESTDIR)
# puts limactl(1), lima(1), limad(8) and lima-hostagent(8) where `man` finds them, and the
# completion where bash-completion looks; in a real bash, `complete -p` shows it registered
# and it completes commands, flags, flag values and instance names read from limad.
#
#   tests/cli/test-cli-docs.sh BUILD_DIR     (prints TAP)
set -u
build=$(cd "$1" && pwd)
src=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/limad-docs-XXXXXX)
. "$src/tests/vm/private-bus.sh"
trap 'private_bus_stop; rm -rf "$work"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $((pass + fail)) - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok $((pass + fail)) - ${1//$'\n'/ | }"; }

dest=$work/dest
if out=$(meson install -C "$build" --no-rebuild --destdir "$dest" --tags man,completion 2>&1); then
        ok "meson install --tags man,completion"
else
        not_ok "meson install: $out"
fi
mandir=$(dirname "$(find "$dest" -name limactl.1 | head -1)")
mandir=${mandir%/man1}
for page in limactl:1 lima:1 limad:8 lima-hostagent:8; do
        name=${page%:*}
        sec=${page#*:}
        out=$(MANPATH=$mandir MANWIDTH=80 LC_ALL=C.UTF-8 man "$sec" "$name" 2>&1 | col -b)
        if [[ "$out" == *NAME* && "$out" == *"$name"* && "$out" == *"SEE ALSO"* ]]; then
                ok "man $sec $name shows the installed page"
        else
                not_ok "man $sec $name: $(head -c 300 <<<"$out")"
        fi
done
out=$(MANPATH=$mandir MANWIDTH=100 LC_ALL=C man 1 limactl 2>/dev/null | col -b)
[[ "$out" == *"--mount-type"* && "$out" == *".mounts[0].writable"* ]] &&
        ok "limactl(1) documents start's flags and --set's forms" || not_ok "limactl(1) content"

comp=$(find "$dest" -path '*bash-completion/completions/limactl' | head -1)
[ -f "$comp" ] && [ -L "$(dirname "$comp")/lima" ] &&
        ok "completion installed for limactl and lima" || not_ok "completion not installed: $comp"

# An instance for the names: created by limactl, read back by the completion through limad.
mkdir -p "$LIMA_HOME/_config"
printf 'images:\n- location: /nonexistent.qcow2\n  arch: x86_64\n' >"$LIMA_HOME/_config/override.yaml"
"$build/client/limactl" create --name devbox template:default >/dev/null 2>&1
complete_line() { # WORDS... : prints COMPREPLY for the last word
        PATH=$build/client:$PATH bash --norc --noprofile -c '
                source "$1"; shift
                COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
                _limactl; printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
}
out=$(PATH=$build/client:$PATH bash --norc --noprofile -c "source '$comp'; complete -p limactl lima")
[[ "$out" == *"-F _limactl limactl"* && "$out" == *"-F _lima lima"* ]] &&
        ok "complete -p shows limactl and lima registered" || not_ok "complete -p: $out"
out=$(complete_line limactl st | sort | tr '\n' ' ')
[ "$out" = "start stop " ] && ok "completes commands (st → start stop)" || not_ok "commands: $out"
out=$(complete_line limactl start --mount-t | tr '\n' ' ')
[ "$out" = "--mount-type " ] && ok "completes a command's flags from its --help" ||
        not_ok "flags: $out"
out=$(complete_line limactl start --mount-type "" | sort | tr '\n' ' ')
[ "$out" = "9p reverse-sshfs virtiofs " ] && ok "completes --mount-type's values" ||
        not_ok "values: $out"
out=$(complete_line limactl stop dev | tr '\n' ' ')
[ "$out" = "devbox " ] && ok "completes instance names from limad" || not_ok "names: $out"
out=$(complete_line limactl start template:deb | sort | tr '\n' ' ')
[[ "$out" == *"template:debian-12-local"* ]] && ok "completes template:NAME for start" ||
        not_ok "templates: $out"
out=$(complete_line limactl copy devb | tr '\n' ' ')
[[ "$out" == *"devbox:"* ]] && ok "completes NAME: for copy" || not_ok "copy: $out"

# The lima wrapper: `lima CMD` is `limactl shell --instance $LIMA_INSTANCE CMD`.
fake=$work/fake-limactl
printf '#!/bin/sh\nprintf "%%s\\n" "$@"\n' >"$fake"
chmod +x "$fake"
out=$(LIMACTL=$fake "$build/client/lima" uname -a | tr '\n' ' ')
[ "$out" = "shell --instance default uname -a " ] && ok "lima CMD runs limactl shell default CMD" ||
        not_ok "lima: $out"
out=$(LIMACTL=$fake LIMA_INSTANCE=dev LIMA_SHELL=/bin/bash LIMA_WORKDIR=/w "$build/client/lima" ls |
        tr '\n' ' ')
[ "$out" = "shell --shell /bin/bash --workdir /w --instance dev ls " ] &&
        ok "lima honours LIMA_INSTANCE, LIMA_SHELL, LIMA_WORKDIR" || not_ok "lima env: $out"
out=$("$build/client/lima" --help)
[[ "$out" == *"LIMA_INSTANCE"* ]] && ok "lima --help" || not_ok "lima --help: $out"
# A stopped instance: shell refuses with Lima's message, and says how to start it.
out=$(PATH=$build/client:$PATH "$build/client/lima" true 2>&1 </dev/null)
[[ $? = 1 && "$out" == *'instance "default" does not exist'* ]] &&
        ok "lima on a missing instance: Lima's message" || not_ok "lima missing: $out"
out=$(PATH=$build/client:$PATH LIMA_INSTANCE=devbox "$build/client/lima" true 2>&1 </dev/null)
[[ $? = 1 && "$out" == *"limactl start devbox"* && "$out" == *"--start"* ]] &&
        ok "lima on a stopped instance says how to start it, without asking" ||
        not_ok "lima stopped: $out"
out=$("$build/client/limactl" copy devbox:/etc/hostname "$work/x" 2>&1)
[[ $? = 1 && "$out" == *'instance "devbox" is stopped, run `limactl start devbox`'* ]] &&
        ok "copy from a stopped instance: Lima's message" || not_ok "copy stopped: $out"
out=$("$build/client/limactl" copy a:b:c "$work/x" 2>&1)
[[ $? = 2 && "$out" == *"multiple colons"* ]] && ok "copy refuses NAME:PATH:MORE" ||
        not_ok "copy colons: $out"

echo "1..$((pass + fail))"
[ "$fail" = 0 ]
