#!/usr/bin/python3
"""Makes interop.json: proof that a model.safetensors written by deepcluster loads into the PyTorch
reference model unchanged and gives the same features.

    swift build && /usr/bin/python3 Tests/DeepClusterTests/Fixtures/make_interop_fixture.py

1. runs `.build/debug/deepcluster diagnose export-model` (fmnist-alexnet, seed 7, see InteropModel.swift);
2. parses the safetensors file by hand (Debian's torch 1.13 has no safetensors package) and loads it
   with `load_state_dict(strict=True)` into the PyTorch fmnist-alexnet whose keys follow the reference
   (`features.N.*`, `classifier.N.*`, `top_layer.*`; Sobel under `sobel.1.*`);
3. records the file's CRC-32 and the eval-mode features (classifier.4 output, before its ReLU) of a
   fixed batch. The Swift test rebuilds the same bytes (same CRC) and compares its features to 1e-4.
"""
import json
import os
import struct
import subprocess
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.abspath(os.path.join(here, "..", "..", ".."))
path = "/tmp/interop_model.safetensors"
subprocess.run([os.path.join(root, ".build/debug/deepcluster"), "diagnose", "export-model", "--out", path], check=True)
raw = open(path, "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
meta = header.pop("__metadata__", {})
state = {}
for name, t in header.items():
    b, e = t["data_offsets"]
    dtype = {"F32": np.float32, "I64": np.int64}[t["dtype"]]
    state[name] = torch.from_numpy(np.frombuffer(raw[8 + n + b:8 + n + e], dtype=dtype).reshape(t["shape"]).copy())


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.sobel = nn.Sequential(nn.Identity(), nn.Conv2d(1, 2, 3, padding=1))
        self.features = nn.Sequential(
            nn.Conv2d(2, 32, 5, padding=2), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(32, 64, 5, padding=2), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
            nn.Conv2d(128, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.classifier = nn.Sequential(nn.Dropout(0.5), nn.Linear(576, 256), nn.ReLU(),
                                        nn.Dropout(0.5), nn.Linear(256, 256), nn.ReLU())
        self.top_layer = nn.Linear(256, 10)

    def features_pre_relu(self, x):
        x = self.features(self.sobel(x)).flatten(1)
        return self.classifier[:5](x)


net = Net()
net.load_state_dict(state, strict=True)
net.eval()
x = torch.from_numpy(((np.arange(4 * 784) * 53 % 256) / 255.0 - 0.2860) / 0.3530).float().view(4, 1, 28, 28)
with torch.no_grad():
    f = net.features_pre_relu(x)
out = {"crc32": zlib.crc32(raw), "bytes": len(raw), "keys": sorted(state), "metadata": meta,
       "features": f.flatten().double().tolist()}
json.dump(out, open(os.path.join(here, "interop.json"), "w"), separators=(",", ":"))
print("features[0:4]", f.flatten()[:4].tolist(), "crc", out["crc32"])
