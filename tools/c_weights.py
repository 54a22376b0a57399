"""Network weights as C arrays, shared by the training scripts (train_ocr.py, train_detector.py,
train_ctc.py): written with 9 significant digits, which give every float32 back exactly, and
read back rounded to float32 as the C compiler rounds them."""

import os
import re

import numpy as np
import torch


def write_c_weights(net, params, path, prefix, header, shapes_h):
    """Writes each (name, attribute) of @params as `const float PREFIXname[] = {...};` under the
    comment @header, then includes @shapes_h: it declares each array with the length the layer
    sizes give, so an array of another length does not compile (conflicting types)."""
    with open(path + ".tmp", "w") as f:
        f.write(header)
        for name, attr in params:
            vals = net.get_parameter(attr).detach().to(torch.float32).flatten().tolist()
            f.write(f"const float {prefix}{name}[] = {{\n")
            for i in range(0, len(vals), 6):
                f.write("    " + ", ".join(f"{v:.9g}f" for v in vals[i:i + 6]) + ",\n")
            f.write("};\n")
        f.write(f'\n#include "{shapes_h}"\n')
    os.replace(path + ".tmp", path)


def read_c_weights(path, net, params, prefix_re):
    """Loads arrays `float PREFIXname[...] = {...}` (@prefix_re matches the prefix) into @net."""
    text = open(path).read()
    arrays = dict(re.findall(r"float\s+" + prefix_re + r"(\w+)\s*\[[^]]*\]\s*=\s*\{([^}]*)\}",
                             text))
    with torch.no_grad():
        for name, attr in params:
            if name not in arrays:
                raise SystemExit(f"{path}: no array {prefix_re}{name} "
                                 "(weights of another network?)")
            vals = [float(v.rstrip("f")) for v in arrays[name].replace("\n", " ").split(",")
                    if v.strip()]
            p = net.get_parameter(attr)
            if len(vals) != p.numel():
                raise SystemExit(f"{path}: {name} has {len(vals)} values, the network {p.numel()}")
            p.copy_(torch.tensor(np.array(vals, dtype=np.float32)).reshape(p.shape))
