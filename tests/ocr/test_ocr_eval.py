#!/usr/bin/env python3
"""tools/ocr_eval.py on a set of its own: generated once and reused, read by bench-ocr both
ways of a BENCH_COMPARE stage, its counts those of the frames bench-ocr printed, kept and read
again against what was kept; bad arguments and a set folder of another seed refused by name.

  test_ocr_eval.py BUILD_ROOT
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("PS_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
TOOL = os.path.join(SRC, "tools", "ocr_eval.py")
# A seed of this test's own (not a tuning or evaluation seed), 4 small frames: seconds.
SET = "tiny=20261206:4:480x270"


def run(build, *args):
    r = subprocess.run([sys.executable, TOOL, "--build", build, *args], capture_output=True,
                       text=True, timeout=300)
    print(f"$ ocr_eval.py {' '.join(args)} -> exit {r.returncode}\n{r.stdout}{r.stderr}")
    return r


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)


def main():
    build = os.path.abspath(sys.argv[1])
    tmp = tempfile.mkdtemp(prefix="ps-ocr-eval-")
    try:
        sets, kept = os.path.join(tmp, "sets"), os.path.join(tmp, "kept")
        r = run(build, "--sets", sets, "--extra", SET, "--only", "tiny", "--compare", "wide-off",
                "--save", kept)
        check(r.returncode == 0, "the first run exits 0")
        check("generating tiny: seed 20261206, 4 frames at 480x270" in r.stdout,
              "the missing set is generated")
        check(os.path.exists(os.path.join(sets, "tiny", "labels.csv")), "the set is kept")
        m = re.search(r"^tiny \(seed 20261206, 480x270\): with wide-off: ([\d,]+) / ([\d,]+) / "
                      r"([\d,]+) .*; this: ([\d,]+) / ([\d,]+) / ([\d,]+) ", r.stdout, re.M)
        check(m is not None, "a line for the set with both readings")
        ref, this = [int(g) for g in m.groups()[:3]], [int(g) for g in m.groups()[3:]]
        check(sum(ref) == 4 and sum(this) == 4, "each reading counts the 4 frames")
        # The counts are those of bench-ocr's own lines for the frames.
        out = open(os.path.join(kept, "tiny.txt")).read()
        lines = [l for l in out.splitlines() if re.match(r"^synth-\d{4}\.jpg ", l)]
        check(len(lines) == 4, "bench-ocr's output is kept, a line per frame")
        ok = sum(l.endswith(" ok") for l in lines)
        check(this[0] == ok, f"right codes {this[0]} are bench-ocr's {ok}")

        # Again: the set is reused, and compared with what was kept (the same reader: no
        # frame changed).
        r = run(build, "--sets", sets, "--extra", SET, "--only", "tiny", "--against", kept)
        check(r.returncode == 0 and "generating" not in r.stdout, "the set is reused")
        check("no frame changed" in r.stdout, "the same reader changes no frame")

        # A kept output that differs: a frame's outcome edited shows as a change.
        edited = os.path.join(tmp, "edited")
        os.makedirs(edited)
        first = lines[0]
        changed = re.sub(r" (ok|WRONG)$", " none", first) if not first.endswith(" none") \
            else first[:-len(" none")] + " ok"
        with open(os.path.join(edited, "tiny.txt"), "w") as f:
            f.write(out.replace(first, changed))
        r = run(build, "--sets", sets, "--extra", SET, "--only", "tiny", "--against", edited)
        check(r.returncode == 0 and "1 frame(s) changed (kept -> this):" in r.stdout,
              "an edited kept output shows one frame changed")
        check(re.search(r"^  tiny synth-0000\.jpg ", r.stdout, re.M) is not None,
              "the changed frame is named")

        # Refusals, each naming what is wrong.
        r = run(build, "--sets", sets, "--extra", "tiny=12:x:480x270", "--only", "tiny")
        check(r.returncode == 2 and "expected NAME=SEED:COUNT:WIDTHxHEIGHT" in r.stderr,
              "a malformed --extra is refused")
        r = run(build, "--sets", sets, "--only", "nosuch")
        check(r.returncode == 2 and "no set nosuch" in r.stderr, "an unknown set is refused")
        r = run(build, "--sets", sets, "--extra", "tiny=20261207:4:480x270", "--only", "tiny")
        check(r.returncode != 0 and "holds 4 frames of seed 20261206, not 4 of seed 20261207" in (r.stdout + r.stderr),
              "a set folder of another seed is refused, not read as this one")
        print("ok")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
