# Development prototype: spectral clustering (Ng-Jordan-Weiss on the symmetric 0/1 k-NN graph, 10 or 20
# eigenvectors) beside k-means, on extracted features of Fashion-MNIST's first N training images.
#   /usr/bin/python3 benchmarks/prototypes/spectral_on_knn_graph.py features.npy [PCA_DIM]
import sys, gzip, numpy as np, time
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.manifold import SpectralEmbedding
from sklearn.metrics import normalized_mutual_info_score as nmi
from sklearn.neighbors import NearestNeighbors
from scipy.optimize import linear_sum_assignment
from scipy import sparse
from scipy.sparse.linalg import eigsh

def labels(n, split="train"):
    with gzip.open(f"/usr/share/datasets/fashion-mnist/{split}-labels-idx1-ubyte.gz") as f:
        return np.frombuffer(f.read()[8:], np.uint8)[:n].astype(int)

def acc(y, c):
    k = max(y.max(), c.max()) + 1
    m = np.zeros((k, k)); np.add.at(m, (c, y), 1)
    r, cc = linear_sum_assignment(-m); return m[r, cc].sum() / len(y)

def km(x, k=10, restarts=10, seed=0):
    return KMeans(k, n_init=restarts, random_state=seed).fit(x)

def report(name, y, c, t):
    print(f"{name:40s} NMI {nmi(y, c):.3f} acc {acc(y, c):.3f}  ({t:.1f}s)", flush=True)

x = np.load(sys.argv[1]).astype(np.float64); x = x.reshape(len(x), -1)
if len(sys.argv) > 2:
    from sklearn.decomposition import PCA; x = PCA(int(sys.argv[2]), random_state=0).fit_transform(x / np.linalg.norm(x, axis=1, keepdims=True))
n = x.shape[0]; y = labels(n)
x /= np.linalg.norm(x, axis=1, keepdims=True)
t = time.time(); c = km(x).labels_; report("kmeans", y, c, time.time() - t)

def knn_graph(x, m):
    nn = NearestNeighbors(n_neighbors=m + 1).fit(x)
    d, i = nn.kneighbors(x)
    return d[:, 1:], i[:, 1:]

for m in (10, 20, 40):
    t = time.time()
    d, i = knn_graph(x, m)
    rows = np.repeat(np.arange(n), m)
    a = sparse.csr_matrix((np.ones(n * m), (rows, i.ravel())), shape=(n, n))
    a = ((a + a.T) > 0).astype(float)   # binary symmetric
    deg = np.asarray(a.sum(1)).ravel()
    dinv = sparse.diags(1 / np.sqrt(deg))
    s = dinv @ a @ dinv
    for dims in (10, 20):
        vals, vecs = eigsh(s, k=dims, which="LA")
        u = vecs[:, ::-1]
        u2 = u / np.linalg.norm(u, axis=1, keepdims=True)
        c = km(u2).labels_
        report(f"spectral knn={m} dims={dims} (NJW)", y, c, time.time() - t)
