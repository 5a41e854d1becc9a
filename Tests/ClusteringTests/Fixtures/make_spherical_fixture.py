#!/usr/bin/python3
"""Makes spherical.json: DeepCluster-v2's spherical k-means, run by PyTorch as the SwAV repository
writes it (`main_deepclusterv2.py` cluster_memory, lines 345-413, on one process), for the Clustering
tests.

Run with Debian's PyTorch:  /usr/bin/python3 Tests/ClusteringTests/Fixtures/make_spherical_fixture.py

500 unit vectors in 8-D around 5 directions, k = 40 from the points at `init_index`; ten points
are exact copies of others and both copies start a centroid, so those clusters empty out (the argmax
takes the first) and keep their previous centroid, 10 iterations
plus the final assignment.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(3)
dirs = rng.normal(size=(5, 8))
x = np.concatenate([d + rng.normal(0, 0.35, size=(100, 8)) for d in dirs]).astype(np.float32)
x[490:] = x[:10]   # ten exact duplicates: a centroid started on the second copy of a pair owns nothing
emb = F.normalize(torch.from_numpy(x), dim=1, p=2)
k, iters = 40, 10
init_index = np.concatenate([np.arange(490, 500), np.arange(0, 10), rng.choice(np.arange(10, 490), k - 20, replace=False)])

centroids = emb[torch.from_numpy(init_index)].clone()
empty_per_iteration = []
for n_iter in range(iters + 1):
    dot_products = torch.mm(emb, centroids.t())
    # SwAV takes dot_products.max(dim=1); exact duplicates make ties that BLAS rounding breaks either
    # way, so ties within 1e-6 go to the lowest index here, as the trainer's k-means does.
    distances = (centroids * centroids).sum(dim=1)[None, :] - 2 * dot_products
    tolerance = 1e-6 * (1 + (centroids * centroids).sum(dim=1).max())
    assignments = torch.argmax((distances <= distances.min(dim=1, keepdim=True).values + tolerance).int(), dim=1)
    if n_iter == iters:
        break
    counts = torch.zeros(k).int()
    sums = torch.zeros(k, emb.shape[1])
    for c in range(k):
        where = (assignments == c).nonzero().flatten()
        if len(where) > 0:
            sums[c] = torch.sum(emb[where], dim=0)
            counts[c] = len(where)
    empty_per_iteration.append(int((counts == 0).sum()))
    mask = counts > 0
    centroids[mask] = sums[mask] / counts[mask].unsqueeze(1)
    centroids = F.normalize(centroids, dim=1, p=2)

out = {"torch_version": torch.__version__, "points": emb.flatten().tolist(), "n": len(x), "d": 8, "k": k,
       "iterations": iters, "init_index": init_index.tolist(), "labels": assignments.tolist(),
       "centroids": centroids.flatten().tolist(), "empty": sum(empty_per_iteration)}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "spherical.json"), "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("empty clusters met", empty_per_iteration, "torch", torch.__version__)
