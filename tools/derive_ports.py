#!/usr/bin/env python3
"""Derives data/ports/ports.csv (the port list the vessel side loads) from the GFW copy of the
NGA World Port Index, and adds the Ningbo-Zhoushan port areas it does not list separately.

Usage (from the project root):
    python3 tools/derive_ports.py ../shared/data/ports/gfw_WPI_ports.csv data/ports/ports.csv

Input columns: iso3,label,sublabel,latitude,longitude. Output columns: iso3,name,lat,lon
(coordinates rounded to 6 decimals, rows in input order, then the added rows).
"""
import csv
import sys

# Port areas of Ningbo-Zhoushan that the World Port Index folds into NINGBO / ZHEN HAI /
# ZHOUSHAN. Sources are in data/ports/SOURCE.md.
ADDED = [
    # China MSA port information, "Beilun Port District: Lat. 29 56'8.6" N, Long. 121 51'05" E"
    ("CHN", "BEILUN", 29 + 56 / 60 + 8.6 / 3600, 121 + 51 / 60 + 5 / 3600),
    # Centroid of the 9 GFW anchorage points labelled NINGBO in 29.885-29.905 N,
    # 121.94-122.00 E, along the west and north shore of Daxie Island.
    ("CHN", "DAXIE", 29.89407, 121.97002),
]


def main(src, dst):
    rows = []
    names = set()
    with open(src, newline="") as f:
        for r in csv.DictReader(f):
            name = (r["label"] + (" " + r["sublabel"] if r["sublabel"] else "")).strip()
            rows.append((r["iso3"], name, float(r["latitude"]), float(r["longitude"])))
            names.add((r["iso3"], name))
    for a in ADDED:
        if (a[0], a[1]) not in names:
            rows.append(a)
    with open(dst, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["iso3", "name", "lat", "lon"])
        for iso3, name, lat, lon in rows:
            w.writerow([iso3, name, "%.6f" % lat, "%.6f" % lon])
    print("%s: %d ports" % (dst, len(rows)))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
