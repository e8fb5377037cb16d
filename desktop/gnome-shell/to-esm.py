#!/usr/bin/env python3
# Turns a GNOME 43 module (top-level `var`/`function`, names in its /* exported */ comment)
# into the ES module GNOME 45+ loads, by appending an export list. One source, two forms.
import re
import sys

src, dst = sys.argv[1], sys.argv[2]
text = open(src, encoding="utf-8").read()
m = re.search(r"/\*\s*exported\s+(.*?)\*/", text, re.S)
if m is None:
    sys.exit(f"{src}: no /* exported */ comment to build the export list from")
names = [n for n in re.split(r"[\s,]+", m.group(1)) if n]
with open(dst, "w", encoding="utf-8") as out:
    out.write(text.replace("'use strict';\n", "", 1))
    out.write("\nexport {%s};\n" % ", ".join(names))
