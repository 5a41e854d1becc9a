#!/usr/bin/env python3
"""The README's table of `--preset recommended` runs, from the folders recipe_eval.sh writes:
    python3 benchmarks/recommended_table.py DIR...   (e.g. benchmarks/results/recommended/*-seed*)
One Markdown row per folder: epochs and training seconds (the sum of the epochs' `seconds.total` in
m.jsonl), then k = classes NMI / accuracy of eval.json: the headline (equal sizes on the UMAP layout),
k-means on the layout, plain k-means on the features (the best of PCA-64, whitened, none, by NMI), the
raw pixels' best plain k-means and their equal-size UMAP clustering, the random network's, and the
linear probe's top-1 for the trained network and the pixels."""
import json
import os
import sys


def cell(d, key):
    return f"{d[key]['nmi']:.3f} / {d[key]['acc']:.3f}" if key in d else "–"


def plain(d):
    keys = [k for k in d if k.startswith("pca") or k == "no_pca"]
    return max(keys, key=lambda k: d[k]["nmi"])


for folder in sys.argv[1:]:
    e = json.load(open(os.path.join(folder, "eval.json")))
    rows = [json.loads(line) for line in open(os.path.join(folder, "m.jsonl"))]
    seconds = sum(r["seconds"]["total"] for r in rows)
    trained = {k[7:]: v for k, v in e.items() if k.startswith("kmeans_") and isinstance(v, dict)}
    pixels, random = e["baseline_pixels"], e["baseline_random_init"]
    cells = [os.path.basename(folder.rstrip("/")), f"{e['images']:,}", f"{len(rows)}, {seconds:,.0f} s",
             f"**{e['kmeans_nmi']:.3f} / {e['kmeans_acc']:.3f}**", cell(trained, "umap"),
             cell(trained, plain(trained)), cell(pixels, plain(pixels)), cell(pixels, "umap_balanced"),
             cell(random, "umap_balanced"), f"{e['probe_top1']:.3f} / {pixels['probe_top1']:.3f}"]
    print("| " + " | ".join(cells) + " |")
