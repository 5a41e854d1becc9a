#!/usr/bin/python3
"""Makes umap.json: umap-learn's neighbour graph for the ManifoldClustering tests.

Run with Debian's python3 and umap-learn 0.5.5 (pip install --break-system-packages umap-learn==0.5.5
numba==0.58.1 pynndescent==0.5.11; not needed by the tests themselves):
    /usr/bin/python3 Tests/ClusteringTests/Fixtures/make_umap_fixture.py

300 points in 8-D (three overlapping Gaussian groups, some points duplicated so that distances of 0
occur); their exact 10 nearest neighbours (scikit-learn, brute force, each point first) and what
umap-learn's fuzzy_simplicial_set makes of them with its defaults: ρ and σ of every point
(smooth_knn_dist) and the symmetric graph (fuzzy union), as (row, column, weight) triples.
"""
import json
import os

import numpy as np
import umap
from sklearn.neighbors import NearestNeighbors
from umap.umap_ import fuzzy_simplicial_set, smooth_knn_dist

K = 10
rng = np.random.default_rng(3)
x = np.concatenate([rng.normal(c, 1.0, size=(100, 8)) for c in (0.0, 1.5, 3.0)]).astype(np.float32)
x[250:255] = x[10]                     # duplicates: distance 0 to more than the point itself
dist, idx = NearestNeighbors(n_neighbors=K, algorithm="brute").fit(x).kneighbors(x)
# Each point first (the duplicates of x[10] may come in another order): put i itself at position 0.
for i in range(len(x)):
    where = int(np.nonzero(idx[i] == i)[0][0])
    if where != 0:
        idx[i, [0, where]] = idx[i, [where, 0]]
        dist[i, [0, where]] = dist[i, [where, 0]]
dist = dist.astype(np.float32)
sigmas, rhos = smooth_knn_dist(dist, float(K))
graph, _, _ = fuzzy_simplicial_set(x, K, np.random.RandomState(0), "euclidean", knn_indices=idx, knn_dists=dist)
graph = graph.tocoo()
order = np.lexsort((graph.col, graph.row))
out = {"umap_version": umap.__version__ if hasattr(umap, "__version__") else "0.5.5", "k": K, "n": len(x), "d": x.shape[1],
       "points": x.flatten().tolist(), "indices": idx.flatten().tolist(), "distances": dist.flatten().tolist(),
       "rho": rhos.tolist(), "sigma": sigmas.tolist(),
       "rows": graph.row[order].tolist(), "columns": graph.col[order].tolist(), "weights": graph.data[order].tolist()}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "umap.json"), "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("edges", graph.nnz, "weight sum", float(graph.data.sum()))
