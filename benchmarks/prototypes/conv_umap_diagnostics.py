# conv5 features of a checkpoint: 20-NN purity, k-means (PCA-256), UMAP(10 nn, 10 d)+k-means. Dev only; run with /tmp/uvenv python + torch path.
import sys, numpy as np, time
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import torch
from tmodel import load, fmnist
import umap
from sklearn.decomposition import PCA
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors
from sklearn.metrics import normalized_mutual_info_score as nmi
from scipy.optimize import linear_sum_assignment
def acc(y, c):
    m = np.zeros((10, 10)); np.add.at(m, (c, y), 1)
    r, cc = linear_sum_assignment(-m); return m[r, cc].sum() / len(y)
torch.set_num_threads(2)
n = int(sys.argv[2]); split = sys.argv[3] if len(sys.argv) > 3 else "train"
x, y = fmnist(split, n)
if sys.argv[1] == "pixels": f = x.reshape(len(x), -1).astype(np.float32)
else:
    m = load(sys.argv[1]).eval()
    t = (torch.from_numpy(x.copy()).float()[:, None] / 255 - 0.2860) / 0.3530
    with torch.no_grad(): f = torch.cat([m.features(t[i:i+2000]).flatten(1) for i in range(0, len(t), 2000)]).numpy()
f /= np.linalg.norm(f, axis=1, keepdims=True) + 1e-12
p = PCA(min(256, f.shape[1]), random_state=0).fit_transform(f)
_, i = NearestNeighbors(n_neighbors=21).fit(p).kneighbors(p)
pur = (y[i[:, 1:]] == y[:, None]).mean()
pn = p / np.linalg.norm(p, axis=1, keepdims=True)
c = KMeans(10, n_init=10, random_state=0).fit(pn).labels_
u = umap.UMAP(n_neighbors=10, n_components=10, min_dist=0.0, random_state=0).fit_transform(p)
cu = KMeans(10, n_init=10, random_state=0).fit(u).labels_
print(f"conv5 purity {pur:.3f} kmeans {nmi(y, c):.3f}/{acc(y, c):.3f} umap {nmi(y, cu):.3f}/{acc(y, cu):.3f}")
