#!/usr/bin/env python3
"""Writes each image of a labelled folder as a HEIF grid of tiles, as phones store photos.

    /usr/bin/python3 tools/heif_grid.py SRC_DIR OUT_DIR [--tile 512] [--quality 60]

Each JPEG or PNG of SRC_DIR is cut into tiles of --tile pixels (the last row and column padded
black), each tile coded by `heif-enc` (libheif-examples), and the tiles laid out as one HEIF
file (ISO/IEC 23008-12): a primary grid item with its output size, one hvc1 item per tile, iref
dimg from the grid to its tiles in rows. libheif 1.15's encoder writes no grids. The file keeps
its name (so labels.csv, copied along, still names it); `bench-ocr OUT_DIR` reads the set.
Needs PIL (Debian's python3-pil) and heif-enc.
"""
import argparse
import os
import shutil
import struct
import subprocess
import tempfile

from PIL import Image


def box(kind, body, full=None):
    if full is not None:
        body = struct.pack('>I', full) + body
    return struct.pack('>I', 8 + len(body)) + kind + body


def find(data, kind):
    at = 0
    while at + 8 <= len(data):
        size, = struct.unpack('>I', data[at:at + 4])
        if size < 8:
            return None
        if data[at + 4:at + 8] == kind:
            return data[at + 8:at + size]
        skip = {b'meta': 12, b'iprp': 8, b'ipco': 8}.get(data[at + 4:at + 8])
        found = find(data[at + skip:at + size], kind) if skip else None
        if found is not None:
            return found
        at += size
    return None


def hevc_parts(path):
    """The hvcC body and coded data of a one-image file as heif-enc writes it."""
    data = open(path, 'rb').read()
    iloc = find(data, b'iloc')
    if iloc is None or iloc[0] != 0 or iloc[4:6] != b'\x44\x40' or iloc[6:8] != b'\0\x01':
        raise SystemExit(f'{path}: not an iloc box as heif-enc 1.15 writes it')
    base, = struct.unpack('>I', iloc[12:16])
    off, length = struct.unpack('>II', iloc[18:26])
    return find(data, b'hvcC'), data[base + off:base + off + length]


def grid_file(items):
    """items: dicts of type, data, w, h and config (hvcC body) or dimg (item ids); id 1 first."""
    def meta(data_at):
        m = box(b'hdlr', b'\0' * 4 + b'pict' + b'\0' * 13, 0) + box(b'pitm', b'\0\x01', 0)
        m += box(b'iinf', struct.pack('>H', len(items)) + b''.join(
            box(b'infe', struct.pack('>HH', i + 1, 0) + it['type'] + b'\0', 2 << 24)
            for i, it in enumerate(items)), 0)
        m += box(b'iref', b''.join(
            box(b'dimg', struct.pack('>HH', i + 1, len(it['dimg'])) +
                b''.join(struct.pack('>H', d) for d in it['dimg']))
            for i, it in enumerate(items) if it.get('dimg')), 0)
        iloc, at = struct.pack('>HH', 0x4400, len(items)), data_at
        for i, it in enumerate(items):
            iloc += struct.pack('>HHHII', i + 1, 0, 1, at, len(it['data']))
            at += len(it['data'])
        m += box(b'iloc', iloc, 0)
        ipco, ipma, index = b'', struct.pack('>I', len(items)), 0
        for i, it in enumerate(items):
            props = []
            if it.get('config') is not None:
                ipco += box(b'hvcC', it['config'])
                index += 1
                props.append(0x8000 | index)
            ipco += box(b'ispe', struct.pack('>II', it['w'], it['h']), 0)
            index += 1
            props.append(index)
            ipma += struct.pack('>HB', i + 1, len(props)) + b''.join(
                struct.pack('>H', p) for p in props)
        m += box(b'iprp', box(b'ipco', ipco) + box(b'ipma', ipma, 1))
        return box(b'meta', m, 0)
    ftyp = box(b'ftyp', b'heic\0\0\0\0mif1heic')
    first = meta(0)
    return ftyp + meta(len(ftyp) + len(first) + 8) + box(b'mdat', b''.join(
        it['data'] for it in items))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('src')
    ap.add_argument('out')
    ap.add_argument('--tile', type=int, default=512)
    ap.add_argument('--quality', type=int, default=60)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    if os.path.exists(os.path.join(a.src, 'labels.csv')):
        shutil.copy(os.path.join(a.src, 'labels.csv'), a.out)
    names = sorted(n for n in os.listdir(a.src) if n.lower().endswith(('.jpg', '.jpeg', '.png')))
    with tempfile.TemporaryDirectory() as tmp:
        for k, name in enumerate(names):
            img = Image.open(os.path.join(a.src, name)).convert('RGB')
            w, h, t = img.width, img.height, a.tile
            cols, rows = (w + t - 1) // t, (h + t - 1) // t
            tiles = []
            for r in range(rows):
                for c in range(cols):
                    tile = Image.new('RGB', (t, t))
                    tile.paste(img.crop((c * t, r * t, min(w, c * t + t), min(h, r * t + t))))
                    png, heic = os.path.join(tmp, 't.png'), os.path.join(tmp, 't.heic')
                    tile.save(png)
                    subprocess.run(['heif-enc', '-q', str(a.quality), '-o', heic, png],
                                   check=True, capture_output=True)
                    config, data = hevc_parts(heic)
                    tiles.append(dict(type=b'hvc1', config=config, data=data, w=t, h=t))
            grid = dict(type=b'grid', data=struct.pack('>BBBBHH', 0, 0, rows - 1, cols - 1, w, h),
                        w=w, h=h, dimg=list(range(2, 2 + len(tiles))))
            with open(os.path.join(a.out, name), 'wb') as f:
                f.write(grid_file([grid] + tiles))
            print(f'{k + 1}/{len(names)} {name}: {cols} x {rows} tiles', flush=True)


if __name__ == '__main__':
    main()
