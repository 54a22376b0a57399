#!/usr/bin/env python3
"""train_ctc.py: trains a line reader of ocr/ (ocr/ctc.c), a convolutional network read out
with CTC over a strip of a line of characters, and writes it as C: ocr/NAME_weights.c (exact
float32 values), ocr/NAME_shapes.h (the layer sizes, from LineNet below: the one place they are
written) and tests/ocr/NAME_reference.txt (a few strips and this network's outputs for them,
which tests/ocr/test_ctc.c compares with the C inference). NAME (--name) is ctc, the line
reader, or ctc_wide, the second one the reader runs where the first gave no code:

    nice -n 10 /usr/bin/python3 tools/train_ctc.py --synth build/tools/ocr-synth
    nice -n 10 /usr/bin/python3 tools/train_ctc.py --synth build/tools/ocr-synth \
        --name ctc_wide --more --channels 16,32,64,96,96 --epochs 10

`--from ocr/NAME_weights.c` skips training: it loads those weights and writes the three files
again. `--more` adds the seeds of MORE (25,000 strips more), `--init WEIGHTS` starts from
trained weights instead of at random, `--max-lr` sets the schedule's peak and `--channels` the
5 convolutions' widths (LineNet's when not given).

The line reader reads what the character reader cannot cut apart: characters that touch, or
that paint, rust or light break into pieces. Its input is a strip cut along a line the
detector proposes (ocr__line_crop(): 32 rows, characters about 20 of them high, the gray
standardized to zero mean and unit deviation); conv 3x3 + max pool 2 twice, conv 3x3 + max
pool 2 across only twice, a 2x3 convolution that closes the height, a 1-D convolution of
dilation 2 along the line for context, and a 1x1 convolution to 37 outputs per 4 columns of
the strip: 0-9, A-Z and the CTC blank (the character network's "not a character" index).

Data: `ocr-synth lines` strips only (seeds 8000-8201 for training, 8900-8901 for validation;
they are the code's and size/type's rows with jittered ends and the lines the detector finds
in the frame, labelled with the characters they show); the real photos in ../shared/data are
never read. One CPU thread, fixed seeds. Needs python3-torch (tools/install-train-deps.sh).
"""
import argparse
import os
import re
import subprocess
import tempfile
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from c_weights import read_c_weights, write_c_weights

LINE_H = 32
N_OUT = 37
BLANK = 36
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

TRAIN = [(8000, 600, 960, 540), (8001, 600, 960, 540), (8002, 600, 960, 540),
         (8003, 600, 960, 540), (8100, 400, 1920, 1080), (8101, 400, 1920, 1080),
         (8102, 400, 1920, 1080), (8103, 400, 1920, 1080), (8200, 200, 540, 720),
         (8201, 200, 540, 720)]
# --more: the seeds added on 6 December 2026, most of them 960x540 where small characters are
MORE = [(8004, 600, 960, 540), (8005, 600, 960, 540), (8006, 600, 960, 540),
        (8007, 600, 960, 540), (8008, 600, 960, 540), (8009, 600, 960, 540),
        (8104, 400, 1920, 1080), (8105, 400, 1920, 1080), (8106, 400, 1920, 1080),
        (8202, 200, 540, 720), (8203, 200, 540, 720)]
# The line readers ocr/ctc.c runs (files ocr/NAME_weights.c, C names ocr__NAME_*) and the
# widths of their 5 convolutions (None: LineNet's own)
WIDTHS = {"ctc": None, "ctc_wide": [16, 32, 64, 96, 96]}
VAL = [(8900, 100, 960, 540), (8901, 60, 1920, 1080)]


class LineNet(nn.Module):
    """The network ocr/ctc.c runs."""

    def __init__(self, c1=16, c2=32, c3=48, c4=64, c5=96):
        super().__init__()
        self.c1 = nn.Conv2d(1, c1, 3, padding=1)
        self.c2 = nn.Conv2d(c1, c2, 3, padding=1)
        self.c3 = nn.Conv2d(c2, c3, 3, padding=1)
        self.c4 = nn.Conv2d(c3, c4, 3, padding=1)
        self.c5 = nn.Conv2d(c4, c5, (2, 3), padding=(0, 1))
        self.c6 = nn.Conv1d(c5, c5, 3, padding=2, dilation=2)
        self.head = nn.Conv1d(c5, N_OUT, 1)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.max_pool2d(F.relu(self.c2(x)), 2)
        x = F.max_pool2d(F.relu(self.c3(x)), (2, 1))
        x = F.max_pool2d(F.relu(self.c4(x)), (2, 1))
        x = F.relu(self.c5(x)).squeeze(2)
        x = F.relu(self.c6(x))
        return self.head(x)  # batch x N_OUT x (width / 4)


PARAMS = [("c1_w", "c1.weight"), ("c1_b", "c1.bias"), ("c2_w", "c2.weight"), ("c2_b", "c2.bias"),
          ("c3_w", "c3.weight"), ("c3_b", "c3.bias"), ("c4_w", "c4.weight"), ("c4_b", "c4.bias"),
          ("c5_w", "c5.weight"), ("c5_b", "c5.bias"), ("c6_w", "c6.weight"), ("c6_b", "c6.bias"),
          ("head_w", "head.weight"), ("head_b", "head.bias")]


def standardize(strip):
    """The network's input for a strip of bytes (LINE_H x W): zero mean, unit deviation (at
    least 4 grey levels), as ocr__ctc_probs() computes it."""
    g = strip.astype(np.float64)
    m = g.mean()
    sd = max(np.sqrt(((g - m) ** 2).mean()), 4.0)
    return ((g - m) / sd).astype(np.float32)


def read_strips(path):
    d = open(path, "rb").read()
    out, i = [], 0
    while i < len(d):
        n = d[i]
        label = d[i + 1:i + 1 + n].decode()
        i += 1 + n
        w = d[i] | (d[i + 1] << 8)
        i += 2
        px = np.frombuffer(d, np.uint8, LINE_H * w, i).reshape(LINE_H, w)
        i += LINE_H * w
        out.append((label, px))
    return out


def strips(synth, spec, tmp):
    seed, count, w, h = spec
    path = os.path.join(tmp, f"lines-{seed}.bin")
    if not os.path.exists(path):
        subprocess.run([synth, "lines", "--seed", str(seed), "--count", str(count), "--out", path,
                        "--width", str(w), "--height", str(h)], check=True,
                       stdout=subprocess.DEVNULL)
    return read_strips(path)


def batches(items, size, rng):
    """Batches of strips of like widths (sorted, then cut), in random order."""
    order = sorted(range(len(items)), key=lambda i: items[i][1].shape[1] + rng.random())
    bs = [order[i:i + size] for i in range(0, len(order), size)]
    rng.shuffle(bs)
    return bs


def tensors(items, idx, flip=None):
    w = max(items[i][1].shape[1] for i in idx)
    x = np.zeros((len(idx), 1, LINE_H, w), np.float32)
    targets, tl, il = [], [], []
    for b, i in enumerate(idx):
        label, px = items[i]
        s = standardize(px)
        if flip is not None and flip[b]:
            s = -s
        x[b, 0, :, :s.shape[1]] = s
        x[b, 0, :, s.shape[1]:] = s[:, -1:]  # the last column repeated
        targets += [ALPHABET.index(c) for c in label]
        tl.append(len(label))
        il.append(s.shape[1] // 4)
    return (torch.from_numpy(x), torch.tensor(targets, dtype=torch.long),
            torch.tensor(il, dtype=torch.long), torch.tensor(tl, dtype=torch.long))


def greedy(logp):
    """Best path: the most probable output per column, repeats merged, blanks dropped."""
    best = logp.argmax(0).tolist()
    out, prev = [], BLANK
    for k in best:
        if k != prev and k != BLANK:
            out.append(ALPHABET[k])
        prev = k
    return "".join(out)


def evaluate(net, items):
    net.eval()
    right = code_right = codes = 0
    with torch.no_grad():
        for label, px in items:
            x = torch.from_numpy(standardize(px))[None, None]
            s = greedy(F.log_softmax(net(x)[0], 0))
            right += s == label
            if len(label) == 11:
                codes += 1
                code_right += s == label
    return right / max(len(items), 1), code_right / max(codes, 1), codes


def size_expr(name, prefix):
    layers = {"c1": ("1", "C1", "9"), "c2": ("C1", "C2", "9"), "c3": ("C2", "C3", "9"),
              "c4": ("C3", "C4", "9"), "c5": ("C4", "C5", "6"), "c6": ("C5", "C5", "3"),
              "head": ("C5", "OUT", "1")}
    layer, kind = name.rsplit("_", 1)
    cin, cout, taps = layers[layer]
    m = lambda c: c if c == "1" else f"{prefix}{c}"
    return f"{m(cout)} * {m(cin)} * {taps}" if kind == "w" else m(cout)


def write_shapes(net, path, name):
    with open(path + ".tmp", "w") as f:
        f.write(f"/* {name}_shapes.h: generated by tools/train_ctc.py from its LineNet. Do not "
                "edit.\n * The layer sizes of a line reader and its weight arrays "
                f"({name}_weights.c) with\n * their lengths, which the compiler checks against "
                "the arrays' initializers. */\n#pragma once\n\n")
        up = f"OCR__{name.upper()}_"
        f.write(f"#define {up}IN_H {LINE_H}\n#define {up}OUT {N_OUT}\n#define {up}BLANK {BLANK}\n")
        for i in range(1, 6):
            f.write(f"#define {up}C{i} {getattr(net, f'c{i}').out_channels}\n")
        assert net.c5.kernel_size == (2, 3) and net.c6.dilation == (2,) and net.c6.padding == (2,)
        f.write("\n")
        for param, _ in PARAMS:
            f.write(f"extern const float ocr__{name}_{param}[{size_expr(param, up)}];\n")
    os.replace(path + ".tmp", path)


def write_weights(net, path, note, name):
    header = (f"/* {name}_weights.c: generated by tools/train_ctc.py. Do not edit.\n * {note};\n"
              f" * exact float32 values (9 significant digits). {name}_shapes.h, included at the "
              "end,\n * declares each array with the length the layer sizes give: a different"
              " number of\n * values here does not compile. */\n\n")
    write_c_weights(net, PARAMS, path, f"ocr__{name}_", header, f"{name}_shapes.h")


def write_fixture(net, items, path, count=4):
    """A few validation strips and the network's probabilities for them (softmax per column):
    tests/ocr/test_ctc.c runs ocr/ctc.c on the same bytes and compares."""
    net.eval()
    picked = [it for it in items if len(it[0]) == 11][:count - 1] + [it for it in items
                                                                       if not it[0]][:1]
    with open(path + ".tmp", "w") as f:
        f.write("# generated by tools/train_ctc.py: validation strips of `ocr-synth lines` and the\n"
                "# trained network's probabilities (PyTorch, float32). Per strip: 'strip W LABEL',\n"
                "# 32 lines of W bytes in hex, 'probs T' and T lines of 37 probabilities.\n")
        for label, px in picked:
            with torch.no_grad():
                p = F.softmax(net(torch.from_numpy(standardize(px))[None, None])[0], 0).numpy()
            f.write(f"strip {px.shape[1]} {label or '-'}\n")
            for row in px:
                f.write("".join(f"{v:02x}" for v in row) + "\n")
            f.write(f"probs {p.shape[1]}\n")
            for t in range(p.shape[1]):
                f.write(" ".join(f"{v:.9g}" for v in p[:, t]) + "\n")
    os.replace(path + ".tmp", path)


def weights_of(path):
    """The C prefix of the arrays of weights file @path (ocr__NAME_) and the widths of its 5
    convolutions, from the shapes header it includes, beside it."""
    text = open(path).read()
    prefix = re.search(r"float\s+(ocr__\w+?_)c1_w\s*\[", text)
    header = re.search(r'#include "(\w+_shapes\.h)"', text)
    if not prefix or not header:
        raise SystemExit(f"{path}: not a line reader's weights (no ocr__*_c1_w, no *_shapes.h)")
    shapes_of = os.path.join(os.path.dirname(path), header.group(1))
    try:
        found = dict(re.findall(r"#define OCR__\w+?_C(\d) (\d+)", open(shapes_of).read()))
    except OSError as e:
        raise SystemExit(f"{shapes_of}: {e.strerror}: the widths of {path} are written there")
    if sorted(found) != ["1", "2", "3", "4", "5"]:
        raise SystemExit(f"{shapes_of}: not the 5 widths OCR__*_C1 .. C5")
    return prefix.group(1), [int(found[str(i)]) for i in range(1, 6)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--synth", required=True, help="path of the built ocr-synth")
    ap.add_argument("--name", default="ctc", choices=list(WIDTHS),
                    help="which of ocr/'s line readers: ctc (the first) or ctc_wide (the second, "
                         "16,32,64,96,96 wide, trained with --more --epochs 10)")
    ap.add_argument("--out", help="the weights' file (default ocr/NAME_weights.c)")
    ap.add_argument("--fixture", help="default tests/ocr/NAME_reference.txt, or beside --out")
    ap.add_argument("--from", dest="from_c", metavar="WEIGHTS")
    ap.add_argument("--data", help="folder for (and of already made) strip files")
    ap.add_argument("--epochs", type=int, default=24)
    ap.add_argument("--batch", type=int, default=24)
    ap.add_argument("--more", action="store_true",
                    help="train on the seeds of MORE too (8004-8203)")
    ap.add_argument("--init", metavar="WEIGHTS",
                    help="start from these weights (ocr/NAME_weights.c) instead of at random")
    ap.add_argument("--max-lr", type=float, default=3e-3)
    ap.add_argument("--channels",
                    help="the channels of the 5 convolutions, comma-separated (multiples of 4, "
                         "at most 96; default: those of the weights of --from or --init, else "
                         "the network's of --name)")
    args = ap.parse_args()
    name = args.name
    if not args.fixture:
        args.fixture = (os.path.join(os.path.dirname(args.out), f"{name}_reference.txt")
                        if args.out else f"tests/ocr/{name}_reference.txt")
    args.out = args.out or f"ocr/{name}_weights.c"
    shapes = f"{name}_shapes.h"
    torch.set_num_threads(1)
    torch.manual_seed(1)
    rng = np.random.default_rng(5)
    t0 = time.time()
    channels = []
    if args.channels:
        try:
            channels = [int(c) for c in args.channels.split(",")]
        except ValueError:
            pass
        if len(channels) != 5 or any(c <= 0 or c % 4 or c > 96 for c in channels):
            raise SystemExit(f"--channels {args.channels}: 5 widths, multiples of 4 up to 96")
    read_prefix = f"ocr__{name}_"
    if args.from_c or args.init:
        read_prefix, widths = weights_of(args.from_c or args.init)
        channels = channels or widths
    channels = channels or WIDTHS[name] or []
    net = LineNet(*channels)
    widths = [getattr(net, f"c{i}").out_channels for i in range(1, 6)]
    if widths != [getattr(LineNet(), f"c{i}").out_channels for i in range(1, 6)]:
        how_wide = ", channels " + ",".join(str(c) for c in widths)
    else:
        how_wide = ""
    out_dir = os.path.dirname(args.out) or "."
    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or tmp
        val = [it for spec in VAL for it in strips(args.synth, spec, data)]
        if args.from_c:
            read_c_weights(args.from_c, net, PARAMS, read_prefix)
            m = re.search(r"\* (trained .*?);\n \* exact", open(args.from_c).read(1500), re.S)
            note = m.group(1) if m else "training not recorded"
            write_shapes(net, os.path.join(out_dir, shapes), name)
            write_weights(net, args.out, note, name)
            write_fixture(net, val, args.fixture)
            print(f"wrote {args.out}, {shapes} and {args.fixture} from {args.from_c}")
            return
        specs = TRAIN + (MORE if args.more else [])
        train = [it for spec in specs for it in strips(args.synth, spec, data)]
    if args.init:
        read_c_weights(args.init, net, PARAMS, read_prefix)
    train = [it for it in train if it[1].shape[1] // 4 >= 2 * len(it[0]) + 1]
    print(f"data: {len(train)} training strips, {len(val)} validation, "
          f"{time.time() - t0:.0f} s", flush=True)
    n_batches = (len(train) + args.batch - 1) // args.batch
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.max_lr,
                                                total_steps=args.epochs * n_batches)
    ctc = nn.CTCLoss(blank=BLANK, zero_infinity=True)
    for epoch in range(args.epochs):
        net.train()
        total = 0.0
        for idx in batches(train, args.batch, rng):
            flip = rng.random(len(idx)) < 0.2  # the other polarity now and then
            x, y, il, tl = tensors(train, idx, flip)
            logp = F.log_softmax(net(x), 1).permute(2, 0, 1)  # T x batch x classes
            loss = ctc(logp, y, il, tl)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item()
        acc, code_acc, codes = evaluate(net, val)
        train_acc = evaluate(net, train[::25])[0]
        seeds = "8000-8203" if args.more else "8000-8201"
        how = (f", from {os.path.basename(args.init)}" if args.init else "") + how_wide
        note = (f"trained on ocr-synth lines (seeds {seeds}{how}), {epoch + 1} epochs;\n"
                f" * validation (seeds 8900-8901): {acc:.3f} of strips read exactly, "
                f"{code_acc:.3f} of the {codes} showing a whole code")
        write_shapes(net, os.path.join(out_dir, shapes), name)
        write_weights(net, args.out, note, name)
        print(f"epoch {epoch + 1}: loss {total / n_batches:.4f} val {acc:.3f} codes {code_acc:.3f}"
              f" ({codes}) train {train_acc:.3f} {time.time() - t0:.0f} s", flush=True)
    write_fixture(net, val, args.fixture)
    print(f"wrote {args.out}, {shapes} and {args.fixture} in {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main()
