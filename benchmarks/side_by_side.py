"""Medians of benchmarks/side_by_side.sh's rounds as a Markdown table (stdout).

    python3 benchmarks/side_by_side.py benchmarks/results/side_by_side
"""
import glob
import json
import os
import statistics
import sys


def lines(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip().startswith("{")]


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values):
    values = [v for v in values if v is not None]
    return (min(values), max(values)) if values else (None, None)


def main(folder):
    def files(pattern):
        return sorted(glob.glob(os.path.join(folder, pattern)))

    steps = lines(os.path.join(folder, "ours_step.jsonl"))
    extracts = lines(os.path.join(folder, "ours_extract.jsonl"))
    epochs = lines(os.path.join(folder, "ours_epoch.jsonl")) if os.path.exists(os.path.join(folder, "ours_epoch.jsonl")) else []

    def ours(rows, ranks, kernels="onednn", precision="fp32", key="images_per_s"):
        return [r[key] for r in rows if r["ranks"] == ranks and r.get("kernels") == kernels
                and r.get("precision") == precision]

    peer_tuned = [lines(p)[0] for p in files("peer_step_tuned_*.json")]
    peer_as_set = [lines(p)[0] for p in files("peer_step_as_set_*.json")]
    peer_ddp = [lines(p)[0] for p in files("peer_ddp_*.json")]
    # A run still in progress (or killed) has no finished epoch yet: skipped.
    peer_epochs = [r for p in files("peer_epoch_*.jsonl") for r in lines(p)[:] if "t_epoch" in r][:]

    def kb(pattern):
        out = []
        for p in files(pattern):
            try:
                out.append(int(open(p).read().split()[-1]) * 1024)
            except (ValueError, IndexError):
                pass
        return out

    rows = []

    def row(what, ours_values, peer_values, peer_label, unit="img/s", higher_is_better=True):
        o, p = median(ours_values), median(peer_values)
        ratio = None
        if o and p:
            ratio = o / p if higher_is_better else p / o
        lo, hi = spread(ours_values)
        plo, phi = spread(peer_values)
        fmt = (lambda v: "–" if v is None else ("%.0f" % v if v >= 100 else "%.2f" % v))
        rows.append("| %s | %s (%s–%s, n=%d) | %s: %s (%s–%s, n=%d) | %s |" % (
            what, fmt(o), fmt(lo), fmt(hi), len([v for v in ours_values if v is not None]), peer_label, fmt(p),
            fmt(plo), fmt(phi), len([v for v in peer_values if v is not None]),
            "–" if ratio is None else "%.2f×" % ratio))

    best_step = [max(t["train_img_s"], d["ddp2x1"]["img_s"]) for t, d in zip(peer_tuned, peer_ddp)]
    row("training step, 2 ranks × 1 thread", ours(steps, 2), [d["ddp2x1"]["img_s"] for d in peer_ddp], "DDP 2 × 1 tuned")
    row("training step, 1 rank × 2 threads", ours(steps, 1), [t["train_img_s"] for t in peer_tuned], "1 × 2 tuned")
    row("training step, best of ours vs best of peer", [max(a, b) for a, b in zip(ours(steps, 1), ours(steps, 2))],
        best_step, "best tuned")
    row("training step, peer as set", ours(steps, 2), [t["train_img_s"] for t in peer_as_set], "1 × 2 as set")
    row("training step, reference kernels 2 × 1", ours(steps, 2, kernels="reference"),
        [d["ddp2x1"]["img_s"] for d in peer_ddp], "DDP 2 × 1 tuned")
    bf16 = ours(steps, 2, precision="bf16")
    row("training step, bf16 2 × 1", bf16, best_step, "best tuned (fp32)")
    row("extraction, 2 ranks × 1 thread", ours(extracts, 2), [t["eval_img_s"] for t in peer_tuned], "1 × 2 tuned")
    row("extraction, 1 rank × 2 threads", ours(extracts, 1), [t["eval_img_s"] for t in peer_tuned], "1 × 2 tuned")
    row("extraction, peer as set", ours(extracts, 2), [t["eval_img_s"] for t in peer_as_set], "1 × 2 as set")
    if epochs:
        images = epochs[0]["images"]
        row("one DeepCluster epoch on %d images (s, lower is better)" % images,
            [e["seconds"]["total"] for e in epochs], [p["t_epoch"] for p in peer_epochs], "deepcluster.py 2 threads tuned",
            unit="s", higher_is_better=False)
        for stage, peer_key in (("extract", "t_features"), ("kmeans", "t_kmeans"), ("train", "t_train")):
            row("  epoch: %s (s)" % stage, [e["seconds"][stage] for e in epochs], [p[peer_key] for p in peer_epochs],
                peer_key, unit="s", higher_is_better=False)
    print("| figure | ours: median (range, runs) | peer: median (range, runs) | ours ÷ peer |")
    print("|---|---|---|---|")
    for r in rows:
        print(r)
    print()
    gb = lambda v: "–" if v is None else "%.2f GB" % (v / 1e9)
    print("Peak resident set per rank (median): ours step 2 × 1 %s, ours step 1 × 2 %s, ours epoch 2 × 1 %s; "
          "peer step 1 × 2 %s, peer epoch %s." % (
              gb(median(ours(steps, 2, key="peak_rss_bytes"))), gb(median(ours(steps, 1, key="peak_rss_bytes"))),
              gb(median([e.get("peak_rss_bytes") for e in epochs])), gb(median(kb("peer_step_tuned_rss_*.txt"))),
              gb(median(kb("peer_epoch_rss_*.txt")))))
    fraction = median(ours(steps, 2, key="fraction_of_fma_peak"))
    peak = median(ours(steps, 2, key="fma_peak_gflops"))
    peer_gflops = median([d["ddp2x1"]["img_s"] for d in peer_ddp])
    flops = steps[0]["gflops"] / steps[0]["images_per_s"] if steps else None
    print("Fraction of the machine's measured FMA peak (%s GFLOP/s on the job's cores): ours step 2 × 1 %s; "
          "the peer's best step %s." % (
              "–" if peak is None else "%.0f" % peak, "–" if fraction is None else "%.2f" % fraction,
              "–" if not (peak and flops and best_step) else "%.2f" % (median(best_step) * flops / peak)))
    refusals = set()
    for p in files("ours_bf16_*.txt"):
        for l in open(p):
            if "bf16" in l:
                refusals.add(l.strip())
    if not bf16 and refusals:
        print("bf16: not run on this CPU; the command said: %s" % "; ".join(sorted(refusals)))
    isa = {r.get("isa") for r in steps if r.get("isa")}
    core = {r.get("openblas_core") for r in steps if r.get("openblas_core")}
    print("oneDNN dispatched to %s; OpenBLAS kernel %s." % (", ".join(sorted(isa)) or "?", ", ".join(sorted(core)) or "?"))


if __name__ == "__main__":
    main(sys.argv[1])
