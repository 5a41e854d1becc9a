# Diagnostics of extracted features against the labels (development only): k-means k=10 (best of 10
# by inertia), 20-NN purity. Usage: diag.py features.npy N [split]
import sys, gzip, numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import normalized_mutual_info_score as nmi
from sklearn.neighbors import NearestNeighbors
from scipy.optimize import linear_sum_assignment
def labels(n, split="train"):
    with gzip.open(f"/usr/share/datasets/fashion-mnist/{split}-labels-idx1-ubyte.gz") as f:
        return np.frombuffer(f.read()[8:], np.uint8)[:n].astype(int)
def acc(y, c):
    m = np.zeros((10, 10)); np.add.at(m, (c, y), 1)
    r, cc = linear_sum_assignment(-m); return m[r, cc].sum() / len(y)
x = np.load(sys.argv[1]).astype(np.float32); x = x.reshape(len(x), -1)
y = labels(len(x), sys.argv[2] if len(sys.argv) > 2 else "train")
x /= np.linalg.norm(x, axis=1, keepdims=True) + 1e-12
c = KMeans(10, n_init=10, random_state=0).fit(x).labels_
_, i = NearestNeighbors(n_neighbors=21).fit(x).kneighbors(x)
print(f"kmeans NMI {nmi(y, c):.3f} acc {acc(y, c):.3f}  20NN purity {(y[i[:, 1:]] == y[:, None]).mean():.3f}")
