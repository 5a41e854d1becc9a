#!/usr/bin/python3
"""The peer's input pipeline on the same folder: torchvision's ImageFolder (PIL decode, convert("RGB"))
and a DataLoader with W worker processes, the transforms DeepCluster's reference uses at 224 px.

  train:   RandomResizedCrop(224) + RandomHorizontalFlip + ToTensor + Normalize (ImageNet statistics)
  cluster: Resize(256) + CenterCrop(224) + ToTensor + Normalize

Each worker process runs with torch.set_num_threads(1), so "images/s per worker" means per process as
ours means per thread. Prints one JSON line per (pass, workers), the median of --repeats rounds:

  /usr/bin/python3 benchmarks/bench_input_torch.py FOLDER [--workers 1,2] [--passes train,cluster]
      [--images 2048] [--batch-size 64] [--repeats 3]
"""
import argparse, json, statistics, time
import torch
import torchvision
import torchvision.transforms as T
from torch.utils.data import DataLoader, Subset

parser = argparse.ArgumentParser()
parser.add_argument("folder")
parser.add_argument("--workers", default="1,2")
parser.add_argument("--passes", default="train,cluster")
parser.add_argument("--images", type=int, default=2048)
parser.add_argument("--batch-size", type=int, default=64)
parser.add_argument("--repeats", type=int, default=3)
parser.add_argument("--size", type=int, default=224)
args = parser.parse_args()
torch.set_num_threads(1)

normalize = T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
transforms = {
    "train": T.Compose([T.RandomResizedCrop(args.size), T.RandomHorizontalFlip(), T.ToTensor(), normalize]),
    "cluster": T.Compose([T.Resize(args.size * 8 // 7), T.CenterCrop(args.size), T.ToTensor(), normalize]),
}

def one_thread(_):
    torch.set_num_threads(1)

for p in args.passes.split(","):
    dataset = torchvision.datasets.ImageFolder(args.folder, transform=transforms[p])
    n = min(args.images, len(dataset)) // args.batch_size * args.batch_size
    subset = Subset(dataset, range(n))
    for w in [int(x) for x in args.workers.split(",")]:
        rates = []
        for _ in range(args.repeats):
            loader = DataLoader(subset, batch_size=args.batch_size, shuffle=False, num_workers=w,
                                worker_init_fn=one_thread if w > 0 else None, persistent_workers=False)
            t0 = time.perf_counter()
            seen = sum(x.shape[0] for x, _ in loader)   # worker start-up included, as a DataLoader epoch pays it
            rates.append(seen / (time.perf_counter() - t0))
        rate = statistics.median(rates)
        print(json.dumps({"bench": "input", "peer": "torchvision", "torch": torch.__version__, "torchvision": torchvision.__version__,
                          "pass": p, "workers": w, "images": n, "images_per_s": rate, "images_per_s_per_worker": rate / max(w, 1),
                          "images_per_s_range": [min(rates), max(rates)], "repeats": args.repeats, "size": args.size}), flush=True)
