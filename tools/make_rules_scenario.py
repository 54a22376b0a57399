#!/usr/bin/env python3
"""Writes data/scenario/events.jsonl: the MQTT inputs of the rules demo scenario.

A rail-sea train (T-2611-A, yard Y1) brings nine containers; customs, seal, radiation, gate and
camera feeds report on them, partly out of order; a few inputs are malformed. One line per
input: {"topic": ..., "payload": {...}}, or "payload_text" (a raw string that is not JSON) or
"payload_base64" (raw bytes, for invalid UTF-8). Every container number carries its ISO 6346
check digit, computed here. The scenario is invented for portsight; no real cargo or vessel.

Usage: tools/make_rules_scenario.py [OUT]   (default data/scenario/events.jsonl)
"""
import base64
import json
import os
import sys


def check_digit(first10):
    values = {}
    v = 10
    for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        if v % 11 == 0:
            v += 1
        values[c] = v
        v += 1
    for d in "0123456789":
        values[d] = int(d)
    total = sum(values[c] << i for i, c in enumerate(first10))
    return total % 11 % 10


def cn(first10):
    return first10 + str(check_digit(first10))


C = {i: cn("PSTU%06d" % (200100 + i)) for i in range(1, 10)}
C[10] = cn("PSTU200200")  # on a sea-rail declaration: the rail-sea policy says nothing
VESSEL = {"name": "PS DEMO STAR", "imo": 9700005, "mmsi": 413000001, "voyage": "026W"}


def ts(minute, second=0):
    return "2026-11-26T08:%02d:%02dZ" % (minute, second)


events = []


def add(topic, payload):
    events.append({"topic": topic, "payload": payload})


def customs(eid, t, decl, status, containers, flow="rail-sea"):
    add("port/customs/status", {
        "id": eid, "ts": t, "declaration": decl, "status": status, "containers": containers,
        "flow": flow, "origin": "Chongqing", "destination": "Hamburg",
        "goods": "machine parts", "consignee": "Demo Consignee GmbH", "vessel": VESSEL})


def seal(eid, t, sid, c, state, battery=90):
    add("port/seal/" + sid, {"id": eid, "ts": t, "seal": sid, "container": c, "state": state,
                             "battery": battery})


def radiation(eid, t, c, result, ratio):
    add("port/radiation/RP1", {"id": eid, "ts": t, "portal": "RP1", "container": c,
                               "result": result, "category": "gamma", "ratio": ratio})


def gate_in(eid, t, c):
    add("port/gate/RG1", {"id": eid, "ts": t, "gate": "RG1", "direction": "in", "mode": "rail",
                          "container": c, "size_type": "45G1", "plate": None, "seal": None})


def ocr(eid, t, camera, c, conf):
    add("port/ocr/" + camera, {"id": eid, "ts": t, "camera": camera, "container": c,
                               "size_type": "45G1", "confidence": conf,
                               "bbox": [412, 208, 360, 64]})


# Declarations lodged before the train: most released, one under inspection, one pending.
customs("cus-001", ts(0), "DEC-26-0001", "released", [C[1], C[2]])
customs("cus-002", ts(0, 30), "DEC-26-0002", "released", [C[4], C[5]])
customs("cus-003", ts(1), "DEC-26-0003", "released", [C[6]])
customs("cus-004", ts(1, 30), "DEC-26-0004", "released", [C[7]])
customs("cus-005", ts(2), "DEC-26-0005", "inspect", [C[8]])
customs("cus-006", ts(2, 30), "DEC-26-0006", "released", [C[9]])
customs("cus-007", ts(3), "DEC-26-0007", "released", [C[10]], flow="sea-rail")
# Electronic seals armed at the origin.
for i in range(1, 10):
    seal("seal-%03d" % i, ts(4, i), "ES-%d" % i, C[i], "sealed")
# The train arrives.
add("port/rail/Y1/arrival", {
    "id": "rail-001", "ts": ts(10), "yard": "Y1", "train": "T-2611-A",
    "wagons": [{"wagon": "W01", "containers": [C[1], C[2]]},
               {"wagon": "W02", "containers": [C[3], C[4]]},
               {"wagon": "W03", "containers": [C[5], C[6]]},
               {"wagon": "W04", "containers": [C[7], C[8]]},
               {"wagon": "W05", "containers": [C[9], C[10]]}]})
# Radiation portal at the rail gate: one alarm.
for i in range(1, 11):
    radiation("rad-%03d" % i, ts(11, 5 * i), C[i], "alarm" if i == 6 else "clear",
              3.8 if i == 6 else 1.02)
# Seal 7 reports tampering on the way in; seal 9 a tamper alarm too (the crew re-seals it, but
# that report comes in last).
seal("seal-107", ts(11, 55), "ES-7", C[7], "tampered", 71)
seal("seal-109", ts(11, 58), "ES-9", C[9], "tampered", 64)
# Seen in the yard: rail gate-in for most, camera reads for some.
for i in (1, 2, 5, 6, 7, 8, 10):
    gate_in("gate-%03d" % i, ts(12, 5 * i), C[i])
ocr("ocr-cam3-0001", ts(12, 40), "cam3", C[4], 0.97)
ocr("ocr-cam3-0002", ts(12, 45), "cam3", C[9], 0.95)
# Malformed inputs: each is dead-lettered with its reason, nothing else is disturbed.
events.append({"topic": "port/seal/ES-3", "payload_text": "ES-3 sealed 90%"})
add("port/gate/RG1", {"id": "gate-bad-1", "ts": ts(13, 20), "gate": "RG1", "direction": "in",
                      "mode": "rail", "container": C[3][:10] + str((int(C[3][10]) + 1) % 10)})
add("port/radiation/RP1", {"id": "rad-bad-1", "ts": ts(13, 25), "portal": "RP1",
                           "container": C[3], "result": "maybe"})
add("port/seal/ES-3", {"id": "seal-bad-1", "ts": ts(13, 30), "seal": "ES-3", "container": C[3]})
events.append({"topic": "port/ocr/cam3", "payload_base64": base64.b64encode(
    b'{"id":"ocr-bad-1","ts":"2026-11-26T08:13:35Z","camera":"cam3","container":"\xff\xfe"}'
).decode()})
add("port/weather/quay", {"id": "wx-1", "ts": ts(13, 40), "wind": 12})
# A resent event (same id): a duplicate, ignored.
gate_in("gate-001", ts(12, 5), C[1])
# Container 3's declaration was lodged late, after the train: released as soon as it is seen.
customs("cus-008", ts(14), "DEC-26-0008", "released", [C[3]])
gate_in("gate-003", ts(14, 30), C[3])
# Seal 9's re-seal (done at 08:13:50 by the terminal crew) reaches the engine last.
seal("seal-209", ts(13, 50), "ES-9", C[9], "sealed", 64)
# An operator selects container 6 on the wall.
add("port/cmd/select", {"id": "sel-1", "ts": ts(15), "camera": "cam3", "container": C[6]})

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), "..", "data", "scenario", "events.jsonl")
with open(out, "w") as f:
    for e in events:
        f.write(json.dumps(e, separators=(",", ":")) + "\n")
print("%s: %d inputs; containers %s" % (out, len(events), " ".join(C[i] for i in sorted(C))))
