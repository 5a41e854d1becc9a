#!/usr/bin/env python3
"""How far PyTorch's own bf16 autocast moves one training step's gradient from fp32, on the network, weights
and batch of fmnist_alexnet.json: per parameter tensor, the cosine between the bf16 and the fp32 gradient on
the entries that fixture keeps, for autocast in NCHW and in channels_last. PyTorchParityTests holds our bf16
step to these (bf16's rounding of the backward through BatchNorm moves the convolutions' gradients well
away from fp32's at this batch of 8; the test asks that ours moves no further than PyTorch's).
    /usr/bin/python3 Tests/NNTests/Fixtures/make_bf16_gradient_fixture.py    (PyTorch 1.13 on an AVX512-BF16 CPU)"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

from make_fmnist_fixture import initialised, sampled_index


def gradients(bf16, channels_last):
    net, params, x, y = initialised()
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        loss = F.cross_entropy(net(x).float(), y)
    loss.backward()
    return {name: p.grad.detach().flatten().double().numpy() for name, p in params}


def main():
    fp32 = gradients(False, False)
    out = {"torch": torch.__version__, "cosines": {}}
    for mode, channels_last in (("nchw", False), ("channels_last", True)):
        bf16 = gradients(True, channels_last)
        for name, g in fp32.items():
            index = sampled_index(g.size)
            a, b = bf16[name][index], g[index]
            norms = np.linalg.norm(a) * np.linalg.norm(b)
            out["cosines"].setdefault(name, {})[mode] = float(a @ b / norms) if norms > 0 else 0.0
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bf16_gradient_cosines.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    print("wrote", path)


if __name__ == "__main__":
    main()
