#!/usr/bin/env python3
"""train_detector.py: trains the text-region detector of ocr/ (ocr/det.c) on generated frames
and writes it as C: ocr/det_weights.c (exact float32 values), ocr/det_shapes.h (the layer sizes,
from DetNet below: the one place they are written) and tests/ocr/det_reference.txt (a few small
frames and this network's heat maps for them, which tests/ocr/test_det.c compares with the C
inference).

    nice -n 10 /usr/bin/python3 tools/train_detector.py --synth build/tools/ocr-synth

`--from ocr/det_weights.c` skips training: it loads those weights and writes the three files
again.

The detector is a small fully convolutional network in the manner of the segmentation-based
text detectors (a per-pixel "inside a code character" probability, as DBNet's probability map
or CRAFT's region score, without their link or threshold maps): the frame in gray, shrunk by
an integer factor to about 480 px on its longer side (det_factor() below, ocr__det_factor() in
C), standardized (zero mean, unit deviation), then two stride-2 convolutions and three at a
quarter of that resolution, the last two dilated for context (a code's characters beside other
markings), and a 1x1 convolution to one logit per 4 x 4 input pixels. The target of an output
cell is the share of it covered by the ink boxes of the code's and the size/type's characters
(`ocr-synth frames` writes them in boxes.csv); distractor markings, plates and clutter are
background. The recognizer reads the regions this map proposes (ocr/detect.c).

Data: `ocr-synth frames` only (seeds 7000+ for training at 960x540 and 540x720, 7900 for
validation); the real photos in ../shared/data are never read. One CPU thread
(torch.set_num_threads(1)), fixed seeds. Needs python3-torch, python3-pil
(tools/install-train-deps.sh).
"""
import argparse
import csv
import os
import re
import subprocess
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image

from c_weights import read_c_weights, write_c_weights

LONG_SIDE = 480  # the network's input is about this long on the frame's longer side
OUT_STRIDE = 4   # input pixels per output cell, each way


def det_factor(w, h):
    """The integer shrink factor of a w x h frame (ocr__det_factor() in C)."""
    return max(1, (max(w, h) + LONG_SIDE // 2) // LONG_SIDE)


def det_input(gray, k):
    """The network's input for a gray frame (uint8, h x w) shrunk by k: k x k means (the
    remainder rows and columns dropped), padded to a multiple of 4 by repeating the last row and
    column, standardized over the unpadded part. Exactly what ocr__det_input() computes."""
    h, w = gray.shape
    ih, iw = h // k, w // k
    g = gray[:ih * k, :iw * k].astype(np.float64).reshape(ih, k, iw, k).sum(axis=(1, 3))
    g = np.floor(g / (k * k) + 0.5)  # rounded means, as integers (C: (sum + k*k/2) / (k*k))
    mean = g.mean()
    std = max(np.sqrt(((g - mean) ** 2).mean()), 4.0)
    x = ((g - mean) / std).astype(np.float32)
    ph, pw = (ih + 3) // 4 * 4, (iw + 3) // 4 * 4
    x = np.pad(x, ((0, ph - ih), (0, pw - iw)), mode="edge")
    return x


class DetNet(nn.Module):
    """The network ocr/det.c runs: conv 3x3 stride 2, conv 3x3 stride 2, conv 3x3, conv 3x3
    dilation 2, conv 3x3 dilation 4 (each padded to keep the size, ReLU), conv 1x1 to a logit."""

    def __init__(self, c1=8, c2=12):
        super().__init__()
        self.d1 = nn.Conv2d(1, c1, 3, stride=2, padding=1)
        self.d2 = nn.Conv2d(c1, c2, 3, stride=2, padding=1)
        self.d3 = nn.Conv2d(c2, c2, 3, padding=1)
        self.d4 = nn.Conv2d(c2, c2, 3, padding=2, dilation=2)
        self.d5 = nn.Conv2d(c2, c2, 3, padding=4, dilation=4)
        self.head = nn.Conv2d(c2, 1, 1)

    def forward(self, x):
        x = F.relu(self.d1(x))
        x = F.relu(self.d2(x))
        x = F.relu(self.d3(x))
        x = F.relu(self.d4(x))
        x = F.relu(self.d5(x))
        return self.head(x)


PARAMS = [("d1_w", "d1.weight"), ("d1_b", "d1.bias"), ("d2_w", "d2.weight"), ("d2_b", "d2.bias"),
          ("d3_w", "d3.weight"), ("d3_b", "d3.bias"), ("d4_w", "d4.weight"), ("d4_b", "d4.bias"),
          ("d5_w", "d5.weight"), ("d5_b", "d5.bias"), ("head_w", "head.weight"),
          ("head_b", "head.bias")]


def frames(synth, seed, count, w, h, tmp):
    """Renders @count frames; returns a list of (gray uint8 array, boxes [(x0,y0,x1,y1)] of the
    code's and size/type's characters)."""
    out = os.path.join(tmp, f"f{seed}-{w}x{h}")
    subprocess.run([synth, "frames", "--seed", str(seed), "--count", str(count), "--out", out,
                    "--width", str(w), "--height", str(h)], check=True,
                   stdout=subprocess.DEVNULL)
    boxes = {}
    with open(os.path.join(out, "boxes.csv")) as f:
        for row in csv.DictReader(f):
            if row["kind"] in ("code", "size_type"):
                boxes.setdefault(row["file"], []).append(
                    tuple(float(row[k]) for k in ("x0", "y0", "x1", "y1")))
    res = []
    for name in sorted(os.listdir(out)):
        if name.endswith(".jpg"):
            gray = np.asarray(Image.open(os.path.join(out, name)).convert("L"))
            res.append((gray, boxes.get(name, [])))
            os.unlink(os.path.join(out, name))
    return res


def target(boxes, k, ph, pw):
    """The share of each output cell covered by the boxes (frame pixels), for an input of
    ph x pw shrunk by k."""
    m = np.zeros((ph, pw), np.float32)
    for x0, y0, x1, y1 in boxes:
        a, b = max(0, int(round(x0 / k))), min(pw, int(round(x1 / k)) + 1)
        c, d = max(0, int(round(y0 / k))), min(ph, int(round(y1 / k)) + 1)
        if a < b and c < d:
            m[c:d, a:b] = 1.0
    return m.reshape(ph // 4, 4, pw // 4, 4).mean(axis=(1, 3))


def prepare(items):
    xs, ts = [], []
    for gray, boxes in items:
        k = det_factor(gray.shape[1], gray.shape[0])
        x = det_input(gray, k)
        xs.append(x)
        ts.append(target(boxes, k, *x.shape))
    return xs, ts


def size_expr(name):
    c = {"d1": ("1", "C1"), "d2": ("C1", "C2"), "d3": ("C2", "C2"), "d4": ("C2", "C2"),
         "d5": ("C2", "C2")}
    layer, kind = name.rsplit("_", 1)
    if layer == "head":
        return "OCR__DET_C2" if kind == "w" else "1"
    cin, cout = c[layer]
    cin = cin if cin == "1" else f"OCR__DET_{cin}"
    return f"OCR__DET_{cout} * {cin} * 9" if kind == "w" else f"OCR__DET_{cout}"


def write_shapes(net, path):
    with open(path + ".tmp", "w") as f:
        f.write("/* det_shapes.h: generated by tools/train_detector.py from its DetNet. Do not edit.\n"
                " * The layer sizes of the detector and its weight arrays (det_weights.c) with their\n"
                " * lengths, which the compiler checks against the arrays' initializers. */\n"
                "#pragma once\n\n")
        f.write(f"#define OCR__DET_LONG_SIDE {LONG_SIDE}\n#define OCR__DET_STRIDE {OUT_STRIDE}\n")
        f.write(f"#define OCR__DET_C1 {net.d1.out_channels}\n#define OCR__DET_C2 {net.d2.out_channels}\n")
        for conv, (s, d) in (("D1", (2, 1)), ("D2", (2, 1)), ("D3", (1, 1)), ("D4", (1, 2)),
                             ("D5", (1, 4))):
            layer = getattr(net, conv.lower())
            assert layer.stride == (s, s) and layer.dilation == (d, d) and layer.padding == (d, d)
            f.write(f"#define OCR__DET_{conv}_STRIDE {s}\n#define OCR__DET_{conv}_DILATION {d}\n")
        f.write("\n")
        for name, _ in PARAMS:
            f.write(f"extern const float ocr__det_{name}[{size_expr(name)}];\n")
    os.replace(path + ".tmp", path)


def write_weights(net, path, note):
    header = (f"/* det_weights.c: generated by tools/train_detector.py. Do not edit.\n * {note};\n"
              " * exact float32 values (9 significant digits). det_shapes.h, included at the end,\n"
              " * declares each array with the length the layer sizes give: a different"
              " number of\n * values here does not compile. */\n\n")
    write_c_weights(net, PARAMS, path, "ocr__det_", header, "det_shapes.h")


def read_weights(path, net):
    read_c_weights(path, net, PARAMS, "ocr__det_")


def write_fixture(net, synth, path, seed=3001):
    """Three 128 x 98 pieces of a frame of a seed training never uses (at 256 x 192, shrink
    factor 2) and this network's probabilities for them: tests/ocr/test_det.c runs ocr/det.c on
    the same pixels and compares."""
    with tempfile.TemporaryDirectory() as tmp:
        gray, boxes = frames(synth, seed, 1, 960, 540, tmp)[0]
    # Pieces around the code and away from it, of the frame shrunk to about 256 wide.
    x0 = int(min(b[0] for b in boxes)) if boxes else 0
    y0 = int(min(b[1] for b in boxes)) if boxes else 0
    pieces = [(max(0, min(960 - 128, x0 - 20)), max(0, min(540 - 98, y0 - 20))), (0, 0),
              (960 - 130, 540 - 98)]
    net.eval()
    with open(path + ".tmp", "w") as f:
        f.write(f"# generated by tools/train_detector.py: 128x98 pieces of `ocr-synth frames --seed {seed}\n"
                "# --width 960 --height 540` (frame 0), each read with shrink factor 2, and the trained\n"
                "# network's probabilities (PyTorch, float32). Per piece: 'frame W H K', H lines of W\n"
                "# gray bytes in hex, 'heat W H' and H lines of W probabilities.\n")
        for px, py in pieces:
            g = gray[py:py + 98, px:px + 128]
            x = det_input(g, 2)
            with torch.no_grad():
                p = torch.sigmoid(net(torch.from_numpy(x)[None, None]))[0, 0].numpy()
            f.write(f"frame {g.shape[1]} {g.shape[0]} 2\n")
            for row in g:
                f.write("".join(f"{v:02x}" for v in row) + "\n")
            f.write(f"heat {p.shape[1]} {p.shape[0]}\n")
            for row in p:
                f.write(" ".join(f"{v:.9g}" for v in row) + "\n")
    os.replace(path + ".tmp", path)


def metrics(net, xs, ts, thr=0.5):
    net.eval()
    hit = pos = on_n = on_t = 0
    with torch.no_grad():
        for x, t in zip(xs, ts):
            p = torch.sigmoid(net(torch.from_numpy(x)[None, None]))[0, 0].numpy()
            on = p > thr
            hit += int((on & (t >= 0.5)).sum())
            pos += int((t >= 0.5).sum())
            on_n += int(on.sum())
            on_t += int((on & (t > 0)).sum())
    return hit / max(pos, 1), on_t / max(on_n, 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--synth", required=True, help="path of the built ocr-synth")
    ap.add_argument("--out", default="ocr/det_weights.c",
                    help="the weights as C; det_shapes.h is written beside it")
    ap.add_argument("--fixture", default="tests/ocr/det_reference.txt")
    ap.add_argument("--from", dest="from_c", metavar="WEIGHTS")
    ap.add_argument("--frames", type=int, default=2800, help="training frames")
    ap.add_argument("--steps", type=int, default=8000)
    ap.add_argument("--batch", type=int, default=12)
    ap.add_argument("--crop", type=int, default=192)
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(1)
    t0 = time.time()
    net = DetNet()
    out_dir = os.path.dirname(args.out) or "."
    if args.from_c:
        read_weights(args.from_c, net)
        m = re.search(r"\* (trained .*?);\n \* exact", open(args.from_c).read(1200), re.S)
        note = m.group(1) if m else "training not recorded"
        write_shapes(net, os.path.join(out_dir, "det_shapes.h"))
        write_weights(net, args.out, note)
        write_fixture(net, args.synth, args.fixture)
        print(f"wrote {args.out}, det_shapes.h and {args.fixture} from {args.from_c}")
        return
    items = []
    with tempfile.TemporaryDirectory() as tmp:
        n_land = args.frames * 6 // 7
        per = 400
        for i in range(0, n_land, per):
            items += frames(args.synth, 7000 + i // per, min(per, n_land - i), 960, 540, tmp)
        items += frames(args.synth, 7100, args.frames - n_land, 540, 720, tmp)
        val = frames(args.synth, 7900, 140, 960, 540, tmp) + frames(args.synth, 7901, 70, 480, 270, tmp)
    xs, ts = prepare(items)
    del items
    vx, vt = prepare(val)
    print(f"data {len(xs)} train {len(vx)} val frames in {time.time() - t0:.0f} s", flush=True)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=4e-3, total_steps=args.steps)
    rng = np.random.default_rng(3)
    cs = args.crop
    for step in range(args.steps):
        net.train()
        bx = np.zeros((args.batch, 1, cs, cs), np.float32)
        bt = np.zeros((args.batch, 1, cs // 4, cs // 4), np.float32)
        for b in range(args.batch):
            i = int(rng.integers(len(xs)))
            x, t = xs[i], ts[i]
            # Crops at multiples of 4 (so the target's cells stay aligned); two thirds of them
            # over the code, the others anywhere (the background is most of a frame).
            ph, pw = x.shape
            hy, hx = max(1, (ph - cs) // 4 + 1), max(1, (pw - cs) // 4 + 1)
            if rng.random() < 0.67 and t.max() > 0:
                ys, xs_ = np.nonzero(t > 0)
                j = int(rng.integers(len(ys)))
                oy = int(np.clip(ys[j] - rng.integers(cs // 4), 0, hy - 1))
                ox = int(np.clip(xs_[j] - rng.integers(cs // 4), 0, hx - 1))
            else:
                oy, ox = int(rng.integers(hy)), int(rng.integers(hx))
            xc = x[oy * 4:oy * 4 + cs, ox * 4:ox * 4 + cs]
            tc = t[oy:oy + cs // 4, ox:ox + cs // 4]
            bx[b, 0, :xc.shape[0], :xc.shape[1]] = xc
            bt[b, 0, :tc.shape[0], :tc.shape[1]] = tc
        logit = net(torch.from_numpy(bx))
        tt = torch.from_numpy(bt)
        p = torch.sigmoid(logit)
        bce = F.binary_cross_entropy_with_logits(logit, tt, pos_weight=torch.tensor(3.0))
        dice = 1 - (2 * (p * tt).sum() + 1) / (p.sum() + tt.sum() + 1)
        loss = bce + dice
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % 500 == 0 or step + 1 == args.steps:
            rec, prec = metrics(net, vx, vt)
            note = (f"trained on ocr-synth frames (seeds 7000-{7000 + (n_land - 1) // per}, 7100), "
                    f"{step + 1} steps;\n * validation (seeds 7900-7901): cell recall {rec:.3f}, "
                    f"precision {prec:.3f} at 0.5")
            write_shapes(net, os.path.join(out_dir, "det_shapes.h"))
            write_weights(net, args.out, note)
            print(f"step {step + 1}: loss {loss.item():.4f} val recall {rec:.3f} precision "
                  f"{prec:.3f} {time.time() - t0:.0f} s", flush=True)
    write_fixture(net, args.synth, args.fixture)
    print(f"wrote {args.out}, det_shapes.h and {args.fixture} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
