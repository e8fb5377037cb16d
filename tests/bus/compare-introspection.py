#!/usr/bin/env python3
"""Compares an interface in a dbus/*.xml contract with what the running daemon introspects.

  compare-introspection.py CONTRACT.xml LIVE.xml

LIVE.xml is `busctl --xml-interface introspect io.lima.lima1 PATH`. Every interface the
contract declares must be in LIVE with the same methods (argument names, types and
directions, in order), signals (argument names and types) and properties (type, access),
and nothing more. Prints each difference; exits 1 when there is one.
"""
import sys
import xml.etree.ElementTree as ET


def describe(iface):
    methods, signals, props = {}, {}, {}
    for m in iface.findall("method"):
        methods[m.get("name")] = [
            (a.get("name"), a.get("type"), a.get("direction", "in")) for a in m.findall("arg")
        ]
    for s in iface.findall("signal"):
        signals[s.get("name")] = [(a.get("name"), a.get("type")) for a in s.findall("arg")]
    for p in iface.findall("property"):
        props[p.get("name")] = (p.get("type"), p.get("access"))
    return {"method": methods, "signal": signals, "property": props}


def compare(contract_path, live_path):
    contract = ET.parse(contract_path).getroot()
    live = {i.get("name"): i for i in ET.parse(live_path).getroot().findall("interface")}
    problems = []
    for iface in contract.findall("interface"):
        name = iface.get("name")
        if name not in live:
            problems.append(f"{name}: not served by the daemon")
            continue
        want, got = describe(iface), describe(live[name])
        for kind in ("method", "signal", "property"):
            for member in sorted(set(want[kind]) | set(got[kind])):
                if member not in got[kind]:
                    problems.append(f"{name}.{member}: {kind} in the contract, not served")
                elif member not in want[kind]:
                    problems.append(f"{name}.{member}: {kind} served, not in the contract")
                elif want[kind][member] != got[kind][member]:
                    problems.append(
                        f"{name}.{member}: contract has {want[kind][member]}, "
                        f"daemon has {got[kind][member]}"
                    )
    return problems


if __name__ == "__main__":
    found = compare(sys.argv[1], sys.argv[2])
    for p in found:
        print(p)
    sys.exit(1 if found else 0)
