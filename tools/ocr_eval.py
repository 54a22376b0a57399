#!/usr/bin/env python3
"""ocr_eval.py: the OCR's tuning sets read by bench-ocr, with what changed frame by frame.

Changes to the reader are chosen on generated frames only (docs/ocr.md, "Figures"): these seven
sets, 4,900 frames of the seeds every step so far was tuned on. The script generates the sets it
does not find (`ocr-synth frames`, a few minutes each), reads each with
`BENCH_VERBOSE=1 bench-ocr`, two sets at once by default, and prints per set right / wrong /
none, then every frame whose outcome or code differs between the two readings compared.

  tools/ocr_eval.py [--build build] [--sets DIR] [--compare wide-off] [--save DIR]
                    [--against DIR] [--only t61010,...] [--extra NAME=SEED:COUNT:WxH]

--compare STAGE-off reads every frame also with that stage off (BENCH_COMPARE, one process: the
same load for both) and compares the two; --save DIR keeps each set's bench output, and
--against DIR compares this run with outputs kept earlier (another commit's reader).
--extra adds a set, e.g. a seed never used before, generated after the choice
(NAME=99941:1000:1920x1080). Python 3 alone; exit 0 when every set was read, 1 otherwise.
"""
import argparse
import os
import re
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

# name: (seed, frames, width, height)
TUNING = {
    "t61000": (61000, 300, 1920, 1080),
    "t61010": (61010, 300, 960, 540),
    "t61020": (61020, 300, 600, 800),
    "e93101": (93101, 1000, 1920, 1080),
    "e93102": (93102, 1000, 960, 540),
    "e93201": (93201, 1000, 1920, 1080),
    "e93202": (93202, 1000, 960, 540),
}

# A frame's line of BENCH_VERBOSE output: [ref ]file layout code best confidence ok|WRONG|none
# (best is empty when the frame gave no code).
FRAME = re.compile(r"^(ref )?(\S+)\s+(\S+)\s+(\S+)\s+(\S*?)\s*(\d+\.\d+) (ok|WRONG|none)$")


def parse_set(spec):
    m = re.fullmatch(r"([A-Za-z0-9_-]+)=(\d+):(\d+):(\d+)x(\d+)", spec)
    if not m:
        raise argparse.ArgumentTypeError(
            f"{spec!r}: expected NAME=SEED:COUNT:WIDTHxHEIGHT")
    return m.group(1), tuple(int(g) for g in m.groups()[1:])


def generate(build, sets_dir, name, spec):
    seed, count, w, h = spec
    out = os.path.join(sets_dir, name)
    labels = os.path.join(out, "labels.csv")
    if os.path.exists(labels):
        with open(labels) as f:
            text = f.read()
        rows = text.count("\n") - 1
        m = re.search(r"seed (\d+);", text)
        if rows == count and m and int(m.group(1)) == seed:
            return out
        sys.exit(f"ocr_eval: {out} holds {rows} frames of seed {m.group(1) if m else '?'}, not "
                 f"{count} of seed {seed}: remove it or give another --sets")
    synth = os.path.join(build, "tools", "ocr-synth")
    if not os.access(synth, os.X_OK):
        sys.exit(f"ocr_eval: {synth} not found (build with cairo, pango and leptonica first)")
    tmp = out + ".part"
    print(f"generating {name}: seed {seed}, {count} frames at {w}x{h} ...", flush=True)
    subprocess.run([synth, "frames", "--seed", str(seed), "--count", str(count), "--width",
                    str(w), "--height", str(h), "--out", tmp], check=True,
                   stdout=subprocess.DEVNULL)
    os.rename(tmp, out)
    return out


def read_set(build, folder, compare):
    env = dict(os.environ, BENCH_VERBOSE="1")
    env.pop("BENCH_COMPARE", None)
    if compare:
        env["BENCH_COMPARE"] = compare
    bench = os.path.join(build, "bench", "ocr", "bench-ocr")
    r = subprocess.run([bench, folder], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        return None, f"bench-ocr {folder}: exit {r.returncode}: {r.stderr.strip()[-500:]}"
    return r.stdout, None


def frames_of(text):
    """{file: (layout, code, best, confidence, outcome)} for the main reading and the
    reference (BENCH_COMPARE's, lines starting 'ref ')."""
    main, ref = {}, {}
    for line in text.splitlines():
        m = FRAME.match(line.rstrip())
        if not m:
            continue
        is_ref, f, layout, code, best, conf, outcome = m.groups()
        (ref if is_ref else main)[f] = (layout, code, best, float(conf), outcome)
    return main, ref


def counts(frames):
    return Counter(v[4] for v in frames.values())


def fmt(c):
    n = sum(c.values())
    if not n:
        return "no frames"
    return (f"{c['ok']:,} / {c['WRONG']:,} / {c['none']:,} "
            f"({100.0 * c['ok'] / n:.1f}% right, {100.0 * c['WRONG'] / n:.1f}% wrong)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default="build", help="meson build folder (default: build)")
    ap.add_argument("--sets", default=os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "portsight-ocr-sets"),
        help="where the generated sets are kept (default: ~/.cache/portsight-ocr-sets)")
    ap.add_argument("--jobs", type=int, default=2, help="sets read at once (default 2)")
    ap.add_argument("--compare", metavar="STAGE-off",
                    help="read each frame also this way (BENCH_COMPARE) and compare")
    ap.add_argument("--save", metavar="DIR", help="keep each set's bench output in DIR")
    ap.add_argument("--against", metavar="DIR", help="compare with outputs --save kept")
    ap.add_argument("--only", help="comma-separated set names")
    ap.add_argument("--extra", action="append", default=[], type=parse_set,
                    metavar="NAME=SEED:COUNT:WxH",
                    help="another set (a never-used seed, say); may be repeated")
    args = ap.parse_args()
    if args.compare and args.against:
        ap.error("--compare and --against compare two different things: give one")

    sets = dict(TUNING)
    sets.update(args.extra)
    if args.only:
        wanted = args.only.split(",")
        unknown = [n for n in wanted if n not in sets]
        if unknown:
            ap.error(f"--only: no set {', '.join(unknown)} (sets: {', '.join(sets)})")
        sets = {n: sets[n] for n in wanted}
    os.makedirs(args.sets, exist_ok=True)
    folders = {n: generate(args.build, args.sets, n, s) for n, s in sets.items()}
    if args.save:
        os.makedirs(args.save, exist_ok=True)

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = dict(zip(folders, pool.map(
            lambda n: read_set(args.build, folders[n], args.compare), folders)))

    failed = False
    tot_main, tot_ref = Counter(), Counter()
    changes = []
    label = "with " + args.compare if args.compare else "kept" if args.against else None
    for name, (text, err) in results.items():
        seed, count, w, h = sets[name]
        if err:
            print(f"{name}: {err}", file=sys.stderr)
            failed = True
            continue
        if args.save:
            with open(os.path.join(args.save, name + ".txt"), "w") as f:
                f.write(text)
        main_f, ref_f = frames_of(text)
        if args.against:
            path = os.path.join(args.against, name + ".txt")
            if not os.path.exists(path):
                print(f"{name}: nothing kept in {args.against}", file=sys.stderr)
                failed = True
                continue
            ref_f, _ = frames_of(open(path).read())
        if len(main_f) != count:
            print(f"{name}: bench-ocr printed {len(main_f)} frames of {count}", file=sys.stderr)
            failed = True
        cm = counts(main_f)
        tot_main += cm
        compared = ""
        if ref_f:
            cr = counts(ref_f)
            tot_ref += cr
            compared = f"{label}: {fmt(cr)}; this: "
            for f in sorted(main_f):
                a, b = ref_f.get(f), main_f[f]
                if a and (a[2] != b[2] or a[4] != b[4]):
                    changes.append(f"  {name} {f} {b[0]} {b[1]}: {a[2] or '-'} {a[3]:.3f} "
                                   f"{a[4]} -> {b[2] or '-'} {b[3]:.3f} {b[4]}")
        print(f"{name} (seed {seed}, {w}x{h}): {compared}{fmt(cm)}")
    if tot_ref:
        print(f"all: {label}: {fmt(tot_ref)}; this: {fmt(tot_main)}")
    else:
        print(f"all: {fmt(tot_main)}")
    if changes:
        print(f"{len(changes)} frame(s) changed ({label} -> this):")
        print("\n".join(changes))
    elif tot_ref:
        print("no frame changed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
