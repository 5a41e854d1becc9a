#!/usr/bin/python3
"""Makes fmnist_alexnet.json: what PyTorch computes for fmnist-alexnet on one fixed batch.

Run with Debian's torch:  /usr/bin/python3 Tests/NNTests/Fixtures/make_fmnist_fixture.py

Weights, input and labels come from an integer hash that the Swift test recomputes bit for bit
(FixtureValues.swift), so the fixture stores only results: logits, loss, gradients (every element
of small tensors; 1024 sampled elements plus two full-tensor projections of large ones), and the
parameters and BatchNorm running statistics after two SGD steps (lr 0.05, momentum 0.9, wd 1e-5)
on the same batch. Train mode, dropout off, batch 8, k = 10.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

B, K = 8, 10
torch.set_num_threads(1)


def hashed(n, tag, scale, shift=0.0):
    i = np.arange(n, dtype=np.uint64)
    h = (i * np.uint64(2654435761) + np.uint64(tag) * np.uint64(40503)) % np.uint64(2**32)
    return ((h.astype(np.float64) / 4294967296.0 - 0.5) * scale + shift).astype(np.float32)


def projection(n):
    """The fixed direction gradients are projected on: hashed values with tag 999."""
    return hashed(n, 999, 2.0).astype(np.float64)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        sob = torch.tensor([[[1., 0., -1.], [2., 0., -2.], [1., 0., -1.]],
                            [[1., 2., 1.], [0., 0., 0.], [-1., -2., -1.]]]).unsqueeze(1)
        self.register_buffer("sobel_w", sob)
        self.features = nn.Sequential(
            nn.Conv2d(2, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 64, 5, padding=2), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.classifier = nn.Sequential(nn.Dropout(0.0), nn.Linear(576, 256), nn.ReLU(),
                                        nn.Dropout(0.0), nn.Linear(256, 256), nn.ReLU())
        self.top_layer = nn.Linear(256, K)

    def forward(self, x):
        x = F.conv2d(x, self.sobel_w, padding=1)
        x = self.features(x).flatten(1)
        return self.top_layer(self.classifier(x))


def initialised():
    """The fixture's network with its hashed parameters, the input batch and the labels."""
    net = Net().train()
    params = [(n, p) for n, p in net.named_parameters()]
    # Scales: conv weights as the reference's init, linear 0.01, BN affine around 1 / 0, biases small.
    for t, (name, p) in enumerate(params):
        n = p.numel()
        if name.endswith("weight") and p.dim() == 4:
            scale, shift = math.sqrt(2.0 / (p.shape[2] * p.shape[3] * p.shape[0])) * math.sqrt(12), 0.0
        elif name.endswith("weight") and p.dim() == 2:
            scale, shift = 0.01 * math.sqrt(12), 0.0
        elif name.endswith("weight"):          # BN gamma
            scale, shift = 0.2, 1.0
        else:                                  # biases, BN beta
            scale, shift = 0.1, 0.0
        with torch.no_grad():
            p.copy_(torch.from_numpy(hashed(n, t + 1, scale, shift)).view_as(p))
    x = torch.from_numpy(((np.arange(B * 28 * 28) * 37 % 256) / 255.0 - 0.2860) / 0.3530).float().view(B, 1, 28, 28)
    y = torch.arange(B) % K
    return net, params, x, y


def sampled_index(size):
    """The entries of a gradient the fixture keeps: all of a small one, 1,024 spread over a large one."""
    return list(range(size)) if size <= 1024 else [int(j * 7919 % size) for j in range(1024)]


def main():
    net, params, x, y = initialised()

    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-5)
    logits = net(x)
    loss = F.cross_entropy(logits, y)
    opt.zero_grad()
    loss.backward()
    out = {"batch": B, "k": K, "loss": loss.item(), "logits": logits.detach().flatten().tolist(),
           "parameters": [], "gradients": {}}
    for t, (name, p) in enumerate(params):
        g = p.grad.detach().flatten().double().numpy()
        entry = {"tag": t + 1, "count": int(g.size), "l2": float(np.linalg.norm(g)),
                 "dot": float(g @ projection(g.size))}
        entry["index"] = sampled_index(g.size)
        entry["values"] = [float(g[j]) for j in entry["index"]]
        out["gradients"][name] = entry
        out["parameters"].append(name)
    opt.step()
    loss2 = F.cross_entropy(net(x), y)
    opt.zero_grad()
    loss2.backward()
    opt.step()
    out["loss_after_one_step"] = loss2.item()
    after = {}
    for name, p in params:
        v = p.detach().flatten().double().numpy()
        idx = out["gradients"][name]["index"]
        after[name] = [float(v[j]) for j in idx]
    out["after_two_steps"] = after
    bn = {}
    for name, b in net.named_buffers():
        if "running" in name:
            bn[name] = b.flatten().double().tolist()
    out["running_stats_after_two_steps"] = bn
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fmnist_alexnet.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print("wrote", path, "loss", out["loss"])


if __name__ == "__main__":
    main()
