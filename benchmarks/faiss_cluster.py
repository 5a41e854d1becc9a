"""faiss's side of `deepcluster bench cluster`: k-means on the array that bench wrote (--write-npy),
as DeepCluster's run_kmeans does it (faiss.Clustering, nredo 1, no subsampling, IndexFlatL2, then
one search for the final assignment), on T OpenMP threads. Prints one JSON line with the same
fields as ours: kmeans_seconds, seconds_per_iteration (= kmeans_seconds / (niter + 1) assignment
passes, as ours), objective, peak_rss_bytes; plus faiss's own per-iteration times.
Usage: /usr/bin/python3 benchmarks/faiss_cluster.py X.npy --k 10000 --iterations 20 [--threads 2]
"""
import argparse
import json
import resource
import time

import faiss
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("npy")
    ap.add_argument("--k", type=int, default=10000)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    faiss.omp_set_num_threads(a.threads)
    # faiss's flat search calls sgemm: its BLAS gets the same threads (as the peer's bench_kmeans.py).
    from threadpoolctl import threadpool_limits
    threadpool_limits(limits={"openmp": a.threads, "blas": a.threads})
    x = np.load(a.npy, mmap_mode="r")
    x = np.ascontiguousarray(x, dtype=np.float32)
    n, d = x.shape
    clus = faiss.Clustering(d, a.k)
    clus.seed = a.seed
    clus.niter = a.iterations
    clus.nredo = 1
    clus.max_points_per_centroid = 10000000
    index = faiss.IndexFlatL2(d)
    t0 = time.perf_counter()
    clus.train(x, index)
    _, assign = index.search(x, 1)
    seconds = time.perf_counter() - t0
    stats = clus.iteration_stats
    times = [stats.at(i).time for i in range(stats.size())]
    out = {
        "bench": "faiss_cluster", "points": n, "dim": d, "k": a.k, "iterations": a.iterations,
        "threads": a.threads, "faiss": faiss.__version__,
        "kmeans_seconds": seconds, "seconds_per_iteration": seconds / (a.iterations + 1),
        "faiss_iteration_seconds": times,
        "objective": float(stats.at(stats.size() - 1).obj) if stats.size() else float("nan"),
        "smallest_cluster": int(np.bincount(assign.ravel(), minlength=a.k).min()),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
