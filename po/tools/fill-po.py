#!/usr/bin/env python3
# Writes LANG.po from the POT and a translation table (po/tools/LANG-table.py), keeping the
# header; entries the table lacks stay untranslated (msgmerge then msgfmt --statistics say
# how many). Usage: fill-po.py POT TABLE.py OUT.po LANG
import re
import sys

pot, table_py, out, lang = sys.argv[1:5]
ns = {}
exec(open(table_py, encoding="utf-8").read(), ns)
table = ns["T"]


def unquote(lines):
    s = "".join(re.match(r'^(?:msgid |msgstr )?"(.*)"$', l).group(1) for l in lines)
    return bytes(s, "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")


def quote(s):
    s = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return '"%s"' % s


entries = open(pot, encoding="utf-8").read().split("\n\n")
res = []
used = 0
for i, e in enumerate(entries):
    lines = e.strip("\n").split("\n")
    if i == 0:
        e = e.replace("charset=CHARSET", "charset=UTF-8").replace(
            "Language: ", "Language: " + lang).replace(
            "Plural-Forms: nplurals=INTEGER; plural=EXPRESSION;",
            "Plural-Forms: nplurals=2; plural=(n != 1);")
        e = e.replace("#, fuzzy\n", "")
        e = e.replace("PO-Revision-Date: YEAR-MO-DA HO:MI+ZONE",
                      "PO-Revision-Date: 2026-12-03 19:45+0000")
        e = e.replace("Last-Translator: FULL NAME <EMAIL@ADDRESS>",
                      "Last-Translator: limad project")
        e = e.replace("Language-Team: LANGUAGE <LL@li.org>", "Language-Team: German")
        res.append(e)
        continue
    try:
        a = next(k for k, l in enumerate(lines) if l.startswith("msgid "))
        b = next(k for k, l in enumerate(lines) if l.startswith(("msgstr ", "msgid_plural ")))
    except StopIteration:
        res.append(e)
        continue
    if lines[b].startswith("msgid_plural "):
        # Plural entries: the table holds (singular, plural) for msgstr[0] and msgstr[1].
        c = next(k for k, l in enumerate(lines) if l.startswith("msgstr[0]"))
        forms = table.get(unquote(lines[a:b]), ("", ""))
        used += 1 if forms[0] else 0
        res.append("\n".join(lines[:c] + ["msgstr[0] " + quote(forms[0]),
                                           "msgstr[1] " + quote(forms[1])]))
        continue
    msgid = unquote(lines[a:b])
    msgstr = table.get(msgid, "")
    if msgstr:
        used += 1
    res.append("\n".join(lines[:b] + ["msgstr " + quote(msgstr)]))
open(out, "w", encoding="utf-8").write("\n\n".join(res).rstrip("\n") + "\n")
print(f"{out}: {used} of {len(entries) - 1} entries translated from the table")
