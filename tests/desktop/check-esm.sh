#!/bin/bash
# The GNOME 45+ (ES module) form of the extension, as far as this GNOME 43 host can check it:
# gjs parses every module; model.js and indicator.js import nothing, so they also load and run
# their top level; extension.js imports the Shell's 45+ modules, which are not here, so it is
# checked to parse and to fail only at resolving those imports. Prints TAP.
#   tests/desktop/check-esm.sh EXTENSION_45_BUILD_DIR
set -u
dir=$1
n=0
fail=0
for f in model.js indicator.js extension.js; do
        n=$((n + 1))
        err=$(cd "$dir" && gjs -m "./$f" 2>&1)
        rc=$?
        if [[ "$err" == *"Failed to parse"* || "$err" == *SyntaxError* ]]; then
                fail=$((fail + 1))
                echo "not ok $n - $f does not parse as an ES module: $err"
        elif [ $rc -eq 0 ]; then
                echo "ok $n - $f parses and loads as an ES module"
        elif [ "$f" = extension.js ] && [[ "$err" == *"Failed to resolve imports"* ]] &&
                [[ "$err" == *"resource:///org/gnome/shell/"* ]]; then
                echo "ok $n - $f parses as an ES module (its Shell 45+ imports are not on this host)"
        else
                fail=$((fail + 1))
                echo "not ok $n - $f: $err"
        fi
done
n=$((n + 1))
if grep -q '"45"' "$dir/metadata.json" && ! grep -q '"43"' "$dir/metadata.json"; then
        echo "ok $n - metadata.json claims Shell 45+ only"
else
        fail=$((fail + 1))
        echo "not ok $n - metadata.json: $(cat "$dir/metadata.json")"
fi
echo "1..$n"
[ $fail -eq 0 ]
