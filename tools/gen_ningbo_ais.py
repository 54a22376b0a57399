#!/usr/bin/env python3
"""Generates the synthetic AIS sample of the demo scenario: data/scenario/ais/ningbo.nmea.

There is no real capture of Ningbo-Zhoushan traffic that the project may ship, so this script
writes one: NMEA 0183 !AIVDM sentences (types 1 and 5 for Class A, 18 and 24 for Class B) with
NMEA 4.0 tag blocks (s: station, c: Unix time, g: sentence groups), encoded by the script's own
AIVDM encoder. Vessels, names and MMSIs are invented; positions follow plausible water routes
around Beilun and Daxie (Ningbo-Zhoushan port), with a port call at Bandar Abbas three weeks
earlier for one of them.

Usage (from the project root):
    python3 tools/gen_ningbo_ais.py > data/scenario/ais/ningbo.nmea

The output is deterministic (fixed random seed): running it again gives the same file.
"""
import math
import random
import sys

STATION = "portsight-sim"
T0 = 1795478400  # 2026-11-24T00:00:00Z
HOUR = 3600
NM_KM = 1.852

# ---- the AIVDM encoder ----


class Bits:
    def __init__(self):
        self.bits = []

    def uint(self, value, width):
        value = int(value)
        assert 0 <= value < (1 << width), (value, width)
        self.bits += [(value >> (width - 1 - i)) & 1 for i in range(width)]

    def int(self, value, width):
        value = int(value)
        assert -(1 << (width - 1)) <= value < (1 << (width - 1)), (value, width)
        self.uint(value & ((1 << width) - 1), width)

    def text(self, s, chars):
        s = s.upper()[:chars].ljust(chars, "@")
        for c in s:
            o = ord(c)
            if 64 <= o < 96:
                self.uint(o - 64, 6)
            elif 32 <= o < 64:
                self.uint(o, 6)
            else:
                self.uint(0, 6)

    def armor(self):
        fill = (-len(self.bits)) % 6
        bits = self.bits + [0] * fill
        out = []
        for i in range(0, len(bits), 6):
            v = 0
            for b in bits[i:i + 6]:
                v = (v << 1) | b
            out.append(chr(v + 48 if v < 40 else v + 56))
        return "".join(out), fill


def checksum(s):
    c = 0
    for ch in s:
        c ^= ord(ch)
    return "%02X" % c


def lonlat(b, lon, lat):
    b.int(round(lon * 600000), 28)
    b.int(round(lat * 600000), 27)


def type1(mmsi, lat, lon, sog, cog, heading, status, second):
    b = Bits()
    b.uint(1, 6); b.uint(0, 2); b.uint(mmsi, 30); b.uint(status, 4)
    b.int(-128, 8)  # rate of turn not available
    b.uint(min(1022, round(sog * 10)), 10); b.uint(1, 1)
    lonlat(b, lon, lat)
    b.uint(round(cog * 10) % 3600, 12); b.uint(heading % 360, 9); b.uint(second, 6)
    b.uint(0, 2); b.uint(0, 3); b.uint(0, 1); b.uint(0, 19)
    return b


def type5(mmsi, imo, callsign, name, shiptype, dims, eta, draught, dest):
    b = Bits()
    b.uint(5, 6); b.uint(0, 2); b.uint(mmsi, 30); b.uint(0, 2); b.uint(imo, 30)
    b.text(callsign, 7); b.text(name, 20); b.uint(shiptype, 8)
    b.uint(dims[0], 9); b.uint(dims[1], 9); b.uint(dims[2], 6); b.uint(dims[3], 6)
    b.uint(1, 4)  # GPS
    b.uint(eta[0], 4); b.uint(eta[1], 5); b.uint(eta[2], 5); b.uint(eta[3], 6)
    b.uint(round(draught * 10), 8); b.text(dest, 20); b.uint(0, 1); b.uint(0, 1)
    return b


def type18(mmsi, lat, lon, sog, cog, heading, second):
    b = Bits()
    b.uint(18, 6); b.uint(0, 2); b.uint(mmsi, 30); b.uint(0, 8)
    b.uint(min(1022, round(sog * 10)), 10); b.uint(1, 1)
    lonlat(b, lon, lat)
    b.uint(round(cog * 10) % 3600, 12); b.uint(heading % 360, 9); b.uint(second, 6)
    b.uint(0, 2); b.uint(1, 1); b.uint(0, 1); b.uint(1, 1); b.uint(1, 1); b.uint(0, 1)
    b.uint(0, 1); b.uint(0, 1); b.uint(0, 20)
    return b


def type24a(mmsi, name):
    b = Bits()
    b.uint(24, 6); b.uint(0, 2); b.uint(mmsi, 30); b.uint(0, 2); b.text(name, 20)
    return b


def type24b(mmsi, shiptype, callsign, dims):
    b = Bits()
    b.uint(24, 6); b.uint(0, 2); b.uint(mmsi, 30); b.uint(1, 2); b.uint(shiptype, 8)
    b.text("SIM", 3); b.uint(1, 4); b.uint(1, 20); b.text(callsign, 7)
    b.uint(dims[0], 9); b.uint(dims[1], 9); b.uint(dims[2], 6); b.uint(dims[3], 6)
    b.uint(0, 6)
    return b


group_id = [0]


def sentences(t, bits, channel="A"):
    """The lines of one message: one sentence, or a group of up to 60 characters each."""
    payload, fill = bits.armor()
    parts = [payload[i:i + 60] for i in range(0, len(payload), 60)]
    lines = []
    if len(parts) > 1:
        group_id[0] = group_id[0] % 9 + 1
    for n, part in enumerate(parts, 1):
        body = "AIVDM,%d,%d,%s,%s,%s,%d" % (len(parts), n,
                                           group_id[0] if len(parts) > 1 else "", channel, part,
                                           fill if n == len(parts) else 0)
        sentence = "!%s*%s" % (body, checksum(body))
        if len(parts) > 1:
            tag = "g:%d-%d-%d" % (n, len(parts), 1000 + group_id[0])
            if n == 1:
                tag = "s:%s,c:%d,%s" % (STATION, t, tag)
        else:
            tag = "s:%s,c:%d" % (STATION, t)
        lines.append("\\%s*%s\\%s" % (tag, checksum(tag), sentence))
    return lines


# ---- tracks ----


def dist_km(a, b):
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0088 * math.asin(math.sqrt(h))


def bearing(a, b):
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dl = math.radians(b[1] - a[1])
    y = math.sin(dl) * math.cos(p2)
    x = math.cos(p1) * math.sin(p2) - math.sin(p1) * math.cos(p2) * math.cos(dl)
    return (math.degrees(math.atan2(y, x)) + 360) % 360


class Vessel:
    def __init__(self, mmsi, name, callsign, imo, shiptype, dims, draught, dest, eta,
                 class_b=False):
        self.mmsi, self.name, self.callsign, self.imo = mmsi, name, callsign, imo
        self.shiptype, self.dims, self.draught, self.dest = shiptype, dims, draught, dest
        self.eta, self.class_b = eta, class_b
        self.fixes = []  # (t, lat, lon, sog, cog, status)

    def sail(self, t, waypoints, knots, step, slow_last_km=0.0):
        """Sails through @waypoints from time @t; the last @slow_last_km at 3 kn then 1 kn.
        Returns the arrival time."""
        pos = waypoints[0]
        for wp in waypoints[1:]:
            course = bearing(pos, wp)
            while True:
                left = dist_km(pos, wp)
                to_end = left + sum(dist_km(waypoints[i], waypoints[i + 1])
                                    for i in range(waypoints.index(wp), len(waypoints) - 1))
                v = knots
                if slow_last_km and to_end < slow_last_km:
                    v = 3.0 if to_end > 0.4 else 1.0
                v_obs = max(0.0, v + random.uniform(-0.2, 0.2))
                self.fixes.append((t, pos[0], pos[1], v_obs, course, 0))
                km = v * NM_KM * step / 3600.0
                if km >= left:
                    # Reach the waypoint; carry on from there at the next report.
                    pos = wp
                    t += step
                    break
                f = km / left
                pos = (pos[0] + f * (wp[0] - pos[0]), pos[1] + f * (wp[1] - pos[1]))
                t += step
        return t

    def moor(self, t, pos, hours, step, status=5):
        """Moored (or at anchor, status 1) at @pos for @hours; GPS noise of a few metres."""
        end = t + int(hours * HOUR)
        while t < end:
            jitter = (pos[0] + random.uniform(-3e-5, 3e-5), pos[1] + random.uniform(-3e-5, 3e-5))
            self.fixes.append((t, jitter[0], jitter[1], random.choice([0.0, 0.0, 0.1]),
                               random.uniform(0, 359.9), status))
            t += step
        return t

    def messages(self, static_every):
        out = []
        last_static = None
        for (t, lat, lon, sog, cog, status) in self.fixes:
            if last_static is None or t - last_static >= static_every:
                last_static = t
                if self.class_b:
                    out.append((t, sentences(t, type24a(self.mmsi, self.name), "B")))
                    out.append((t, sentences(t, type24b(self.mmsi, self.shiptype, self.callsign,
                                                         self.dims), "B")))
                else:
                    out.append((t, sentences(t, type5(self.mmsi, self.imo, self.callsign,
                                                      self.name, self.shiptype, self.dims,
                                                      self.eta, self.draught, self.dest))))
            heading = int(round(cog)) if sog > 0.5 else int(cog) % 360
            if self.class_b:
                b = type18(self.mmsi, lat, lon, sog, cog, heading, t % 60)
            else:
                b = type1(self.mmsi, lat, lon, sog, cog, heading, status, t % 60)
            out.append((t, sentences(t, b, "A" if t % 2 else "B")))
        return out


def main():
    random.seed(20261124)
    # Places (lat, lon). Berths lie within 1.5 km of the port coordinates of data/ports.
    sea_se = (29.80, 122.45)        # East China Sea, south-east of Zhoushan
    xiazhimen = (29.895, 122.10)    # the deep-water channel between the islands
    daxie_n = (29.922, 122.000)     # north of Daxie Island
    beilun_app = (29.934, 121.924)  # approach to the Beilun terminals
    beilun_berth = (29.941, 121.855)
    daxie_anch = (29.921, 121.999)  # anchorage north of Daxie
    daxie_berth = (29.9005, 121.985)
    jintang = (30.02, 121.90)       # towards Jintang and Hangzhou Bay

    vessels = []

    # 1. EAST STAR 7: container ship, Beilun for 6 h.
    v = Vessel(413000101, "EAST STAR 7", "BQAB7", 9700101, 71, (300, 66, 24, 24), 13.5,
               "CNNGB BEILUN", (11, 24, 4, 0))
    t = v.sail(T0 + 1 * HOUR, [sea_se, xiazhimen, daxie_n, beilun_app, beilun_berth], 12, 60,
               slow_last_km=3)
    t = v.moor(t, beilun_berth, 6, 180)
    v.sail(t, [beilun_berth, beilun_app, daxie_n, xiazhimen, sea_se], 12, 60)
    vessels.append(v)

    # 2. JADE HORIZON: container ship, waits at anchor north of Daxie, then berths at Daxie.
    v = Vessel(477000202, "JADE HORIZON", "VRJH2", 9700202, 70, (200, 50, 16, 16), 11.0,
               "CNNGB DAXIE", (11, 24, 14, 0))
    t = v.sail(T0 + 6 * HOUR, [sea_se, xiazhimen, daxie_anch], 11, 60, slow_last_km=2)
    t = v.moor(t, daxie_anch, 3, 180, status=1)
    t = v.sail(t, [daxie_anch, daxie_berth], 3, 60, slow_last_km=0.5)
    t = v.moor(t, daxie_berth, 10, 180)
    v.sail(t, [daxie_berth, daxie_anch, xiazhimen, sea_se], 11, 60)
    vessels.append(v)

    # 3. NORDIC TERN: tanker passing Daxie 4 km off at 12 kn, no stop.
    v = Vessel(257000303, "NORDIC TERN", "LAXN3", 9700303, 80, (180, 70, 16, 16), 10.2,
               "CNSHA", (11, 25, 6, 0))
    v.sail(T0 + 10 * HOUR, [sea_se, xiazhimen, daxie_n, jintang], 12, 60)
    vessels.append(v)

    # 4. GULF PEARL: called at Bandar Abbas three weeks earlier (reports as a satellite AIS
    # provider would relay them: every 10 min under way, 30 min in port), then Beilun.
    v = Vessel(636000404, "GULF PEARL", "D5GP4", 9700404, 70, (220, 40, 16, 16), 12.0,
               "CNNGB", (11, 25, 2, 0))
    bandar_berth = (27.137, 56.200)
    t = v.sail(T0 - 20 * 24 * HOUR, [(26.95, 56.45), (27.08, 56.30), bandar_berth], 12, 600,
               slow_last_km=3)
    t = v.moor(t, bandar_berth, 20, 1800)
    v.sail(t, [bandar_berth, (27.08, 56.30), (26.95, 56.45), (26.55, 56.80)], 13, 600)
    t = v.sail(T0 + 20 * HOUR, [sea_se, xiazhimen, daxie_n, beilun_app,
                                (beilun_berth[0] - 0.003, beilun_berth[1] + 0.004)], 13, 60,
               slow_last_km=3)
    t = v.moor(t, (beilun_berth[0] - 0.003, beilun_berth[1] + 0.004), 8, 180)
    v.sail(t, [(beilun_berth[0] - 0.003, beilun_berth[1] + 0.004), beilun_app, daxie_n,
               xiazhimen, sea_se], 13, 60)
    vessels.append(v)

    # 5. MIN HAI 18: Class B coaster, Beilun for 4 h.
    v = Vessel(412000505, "MIN HAI 18", "BZMH8", 0, 79, (60, 12, 6, 6), 0, "", (0, 0, 24, 60),
               class_b=True)
    t = v.sail(T0 + 26 * HOUR, [jintang, beilun_app, (29.944, 121.870)], 9, 60,
               slow_last_km=1.5)
    t = v.moor(t, (29.944, 121.870), 4, 180)
    v.sail(t, [(29.944, 121.870), beilun_app, jintang], 9, 60)
    vessels.append(v)

    msgs = []
    for v in vessels:
        msgs += v.messages(static_every=1800)
    msgs.sort(key=lambda m: m[0])  # stable: a message's sentences stay together

    print("# Synthetic AIS sample around Ningbo-Zhoushan (Beilun, Daxie) for `portsight demo`.")
    print("# Not a real capture: made by tools/gen_ningbo_ais.py (see data/scenario/ais/README.md).")
    bad_done = False
    for t, lines in msgs:
        for line in lines:
            print(line)
        if not bad_done and t > T0 + 12 * HOUR:
            # One damaged sentence (a flipped character), as real feeds have: the decoder
            # rejects it with its reason and goes on.
            bad = lines[-1]
            i = bad.index(",A,") + 3 if ",A," in bad else bad.index(",B,") + 3
            print(bad[:i] + ("1" if bad[i] != "1" else "2") + bad[i + 1:])
            bad_done = True


if __name__ == "__main__":
    main()
