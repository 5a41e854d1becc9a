#!/usr/bin/python3
"""Makes balanced.json: k-means held to equal cluster sizes by Sinkhorn-Knopp, in NumPy/SciPy, for the
BalancedKMeans test. Run with Debian's python3:
    /usr/bin/python3 Tests/ClusteringTests/Fixtures/make_balanced_fixture.py

600 points in 2-D: a crowded group of 300 (two classes of 150 side by side), a group of 150, and a
group of 150 drawn as two far-apart halves; k = 4. Plain k-means keeps the crowded group whole and
splits the halved one; held to 150 points each, the clusters split the crowded group instead. From
the given start centroids: ε = 0.3 × the mean squared distance of the points to their nearest start
centroid, then 20 iterations of (log-domain Sinkhorn, 100 iterations, on squared distances;
centroids = the plan's weighted means), then the argmax assignment. As BalancedKMeans does, each
plan starts from the previous plan's column potentials (rows first); the fixture runs all 100
Sinkhorn iterations (the test sets the Swift tolerance to 0), so the two agree to rounding on any
machine rather than stopping one iteration apart near the tolerance.
"""
import json
import os

import numpy as np
from scipy.special import logsumexp

rng = np.random.default_rng(5)
x = np.concatenate([rng.normal((0, 0), 1.0, (150, 2)), rng.normal((3, 0), 1.0, (150, 2)),
                    rng.normal((20, 0), 1.0, (150, 2)),
                    rng.normal((0, 20), 1.0, (75, 2)), rng.normal((0, 30), 1.0, (75, 2))]).astype(np.float32)
start = x[[0, 300, 450, 525]].astype(np.float64)   # one point in each of the groups k-means would keep
u = x.astype(np.float64)


def plan(d2, eps, b, iters=100):
    """The plan and the column potentials to start the next plan from."""
    L = -d2 / eps
    n, k = L.shape
    a = -np.log(n) - logsumexp(L + b[None, :], axis=1)
    for _ in range(iters):
        b = -np.log(k) - logsumexp(L + a[:, None], axis=0)
        a = -np.log(n) - logsumexp(L + b[None, :], axis=1)
    return np.exp(L + a[:, None] + b[None, :]) * n, b


c = start.copy()
b = np.zeros(4)
eps = 0.3 * ((u[:, None, :] - c[None]) ** 2).sum(-1).min(1).mean()
for _ in range(20):
    q, b = plan(((u[:, None, :] - c[None]) ** 2).sum(-1), eps, b)
    c = (q.T @ u) / q.sum(0)[:, None]
assignments = plan(((u[:, None, :] - c[None]) ** 2).sum(-1), eps, b)[0].argmax(1)
out = {"points": x.flatten().tolist(), "n": len(x), "k": 4, "start": start.flatten().tolist(), "epsilon": eps,
       "centroids": c.flatten().tolist(), "assignments": assignments.tolist()}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "balanced.json"), "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("sizes", np.bincount(assignments).tolist())
