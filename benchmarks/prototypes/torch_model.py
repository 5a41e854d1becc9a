# Development prototype: fmnist-alexnet with DeepCluster-v2's head in PyTorch, loaded from one of this
# trainer's checkpoints (model.safetensors, PyTorch's names and layouts), and Fashion-MNIST from its Debian package.
import json, struct, gzip, numpy as np, torch, torch.nn as nn, torch.nn.functional as F

def load_safetensors(path):
    b = open(path, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n]); out = {}
    for k, v in h.items():
        if k == "__metadata__": continue
        s, e = v["data_offsets"]; dt = {"F32": np.float32, "I64": np.int64}[v["dtype"]]
        out[k] = torch.from_numpy(np.frombuffer(b[8 + n + s: 8 + n + e], dt).reshape(v["shape"]).copy())
    return out

def block(i, o, k, p): return [nn.Conv2d(i, o, k, padding=p), nn.BatchNorm2d(o), nn.ReLU(inplace=True)]

class Net(nn.Module):
    def __init__(self, heads=(30, 30, 30), hidden=256, dim=128):
        super().__init__()
        self.features = nn.Sequential(*block(1, 32, 5, 2), nn.MaxPool2d(2), *block(32, 64, 5, 2), nn.MaxPool2d(2),
                                      *block(64, 128, 3, 1), *block(128, 128, 3, 1), *block(128, 64, 3, 1), nn.MaxPool2d(2))
        self.classifier = nn.Sequential(nn.Dropout(0), nn.Linear(576, 256), nn.ReLU(inplace=True), nn.Dropout(0), nn.Linear(256, 256), nn.ReLU(inplace=True))
        self.projection_head = nn.Sequential(nn.Linear(256, hidden), nn.BatchNorm1d(hidden), nn.ReLU(inplace=True), nn.Linear(hidden, dim))
        self.prototypes = nn.Linear(dim, sum(heads), bias=False)
    def trunk(self, x): return self.classifier(self.features(x).flatten(1))
    def embed(self, x): return F.normalize(self.projection_head(self.trunk(x)), dim=1)

def load(ckdir):
    sd = load_safetensors(f"{ckdir}/model.safetensors")
    k = sd["prototypes.weight"].shape[0]
    m = Net(heads=(k,)); m.prototypes = nn.Linear(sd["prototypes.weight"].shape[1], k, bias=False)
    m.load_state_dict(sd); return m

def fmnist(split="train", n=None):
    with gzip.open(f"/usr/share/datasets/fashion-mnist/{split}-images-idx3-ubyte.gz") as f: x = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 28, 28)
    with gzip.open(f"/usr/share/datasets/fashion-mnist/{split}-labels-idx1-ubyte.gz") as f: y = np.frombuffer(f.read()[8:], np.uint8).astype(int)
    return x[:n], y[:n]
