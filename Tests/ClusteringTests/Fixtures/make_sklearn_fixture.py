#!/usr/bin/python3
"""Makes sklearn.json: scikit-learn's answers for the Clustering tests.

Run with Debian's scikit-learn:  /usr/bin/python3 Tests/ClusteringTests/Fixtures/make_sklearn_fixture.py

- kmeans: 600 points in 6-D (3 overlapping Gaussian groups, so Lloyd has work to do), k = 12, the
  initial centroids = the points at `init_index`; KMeans(lloyd, n_init=1, max_iter=20, tol=0) inertia.
- metrics: pairs of labelings (random, with unequal cluster counts, and partly agreeing) with
  normalized_mutual_info_score (arithmetic) and adjusted_rand_score.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

rng = np.random.default_rng(7)
x = np.concatenate([rng.normal(c, 1.5, size=(200, 6)) for c in (0.0, 2.0, 4.0)]).astype(np.float32)
init_index = rng.choice(len(x), 12, replace=False)
km = KMeans(n_clusters=12, init=x[init_index], n_init=1, max_iter=20, tol=0.0, algorithm="lloyd").fit(x)

metrics = []
for n, ka, kb, agree in [(500, 10, 10, 0.0), (500, 7, 13, 0.5), (1000, 100, 10, 0.3), (300, 2, 3, 0.9), (50, 5, 5, 1.0)]:
    a = rng.integers(0, ka, n)
    b = rng.integers(0, kb, n)
    keep = rng.random(n) < agree
    b[keep] = a[keep] % kb
    metrics.append({"a": a.tolist(), "b": b.tolist(),
                    "nmi": normalized_mutual_info_score(a, b), "ari": adjusted_rand_score(a, b)})

out = {"sklearn_version": sklearn.__version__,
       "kmeans": {"points": x.flatten().tolist(), "n": len(x), "d": 6, "k": 12, "iterations": 20,
                  "init_index": init_index.tolist(), "inertia": float(km.inertia_),
                  "labels": km.labels_.tolist()},
       "metrics": metrics}
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "sklearn.json"), "w") as f:
    json.dump(out, f, separators=(",", ":"))
print("inertia", km.inertia_, "sklearn", sklearn.__version__)
