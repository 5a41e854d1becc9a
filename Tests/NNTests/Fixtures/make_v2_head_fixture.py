#!/usr/bin/python3
"""Makes v2_head.json: what PyTorch computes for DeepCluster-v2's head and loss on one fixed batch.

Run with Debian's torch:  /usr/bin/python3 Tests/NNTests/Fixtures/make_v2_head_fixture.py

The head of `swav/src/resnet50.py` (projection_head Linear-BatchNorm1d-ReLU-Linear, F.normalize,
prototypes without bias) on a batch of 6 trunk features of width 16, hidden 12, embedding 8, two heads
of 3 and 4 prototypes; the loss of `main_deepclusterv2.py:271-276`, the mean over heads of
cross_entropy(scores / 0.1, labels). Train mode. Values come from the integer hash of
FixtureValues.swift; the fixture stores the loss, the embedding, and every gradient.
"""
import json
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

N, FEAT, HID, D, HEADS, T = 6, 16, 12, 8, [3, 4], 0.1


def hashed(n, tag, scale, shift=0.0):
    i = np.arange(n, dtype=np.uint64)
    h = (i * np.uint64(2654435761) + np.uint64(tag) * np.uint64(40503)) % np.uint64(2**32)
    return ((h.astype(np.float64) / 4294967296.0 - 0.5) * scale + shift).astype(np.float32)


proj = nn.Sequential(nn.Linear(FEAT, HID), nn.BatchNorm1d(HID), nn.ReLU(), nn.Linear(HID, D))
prototypes = nn.Linear(D, sum(HEADS), bias=False)
values = {"projection_head.0.weight": (2, 0.5, 0.0), "projection_head.0.bias": (3, 0.2, 0.0),
          "projection_head.1.weight": (4, 0.2, 1.0), "projection_head.1.bias": (5, 0.2, 0.0),
          "projection_head.3.weight": (6, 0.5, 0.0), "projection_head.3.bias": (7, 0.2, 0.0),
          "prototypes.weight": (8, 1.0, 0.0)}
params = dict(("projection_head." + k, v) for k, v in proj.named_parameters())
params["prototypes.weight"] = prototypes.weight
with torch.no_grad():
    for name, (tag, scale, shift) in values.items():
        p = params[name]
        p.copy_(torch.from_numpy(hashed(p.numel(), tag, scale, shift)).reshape(p.shape))
x = torch.from_numpy(hashed(N * FEAT, 1, 2.0)).reshape(N, FEAT).requires_grad_()
labels = [[i % 3, (2 * i + 1) % 4] for i in range(N)]

z = F.normalize(proj(x), dim=1, p=2)
scores = prototypes(z)
loss = 0
start = 0
for h, k in enumerate(HEADS):
    y = torch.tensor([row[h] for row in labels])
    loss = loss + F.cross_entropy(scores[:, start:start + k] / T, y)
    start += k
loss = loss / len(HEADS)
loss.backward()

out = {"torch_version": torch.__version__, "n": N, "features": FEAT, "hidden": HID, "dimension": D, "heads": HEADS,
       "temperature": T, "values": {k: list(v) for k, v in values.items()}, "labels": labels,
       "loss": loss.item(), "embedding": z.detach().flatten().tolist(), "input_grad": x.grad.flatten().tolist(),
       "gradients": {k: params[k].grad.flatten().tolist() for k in values}}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "v2_head.json"), "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("loss", loss.item(), "torch", torch.__version__)
