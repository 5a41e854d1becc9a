#!/usr/bin/env python3
"""Mean and spread over seeds of `eval --baselines --json` files (benchmarks/recipe_eval.sh's eval.json):
   python3 benchmarks/seed_summary.py RUN_DIR [RUN_DIR ...]
For the trained network, the random network and the pixels: the headline k = 10 clustering (the
method's own: `kmeans_headline`), the UMAP-layout clusterings, the spectral merge and the linear
probe; mean ± standard deviation (n − 1), then each run's value."""
import json, statistics, sys

runs = [json.load(open(f"{d}/eval.json")) for d in sys.argv[1:]]
headline = runs[0]["kmeans_headline"].split()[-1]   # "trunk pca64_whitened" → pca64_whitened
clusterings = [headline, "umap", "umap_balanced"]

def scores(e, who):
    """(name, value) pairs for one run: who = '' (trained), 'random_init' or 'pixels'."""
    d = e if who == "" else e["baseline_" + who]
    get = (lambda c: e["kmeans_" + c]) if who == "" else (lambda c: d[c])
    out = []
    for c in clusterings:
        if (who == "" and "kmeans_" + c in e) or (who != "" and c in d):
            out += [(f"{c} NMI", get(c)["nmi"]), (f"{c} acc", get(c)["acc"])]
    spectral = (e["spectral_nmi"], e["spectral_acc"]) if who == "" else (d["spectral"]["nmi"], d["spectral"]["acc"])
    out += [("spectral NMI", spectral[0]), ("spectral acc", spectral[1]), ("probe", d["probe_top1"])]
    return out

def cell(values):
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f} ({' / '.join(f'{v:.3f}' for v in values)})"

print(f"{len(runs)} run(s) of {runs[0]['images']} images; headline clustering: {headline}; probe on {runs[0]['probe_test']}")
for name, who in [("trained", ""), ("random network", "random_init"), ("pixels", "pixels")]:
    per_run = [dict(scores(e, who)) for e in runs]
    keys = [k for k, _ in scores(runs[0], who)]
    print(f"{name}:")
    for k in keys:
        print(f"  {k:22s} {cell([r[k] for r in per_run])}")
