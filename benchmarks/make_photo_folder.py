#!/usr/bin/python3
"""A folder of real-size colour JPEGs (about 500 × 375, ImageNet's typical size) cut from the real
photographs that Debian's python3-skimage and python3-sklearn ship (astronaut, coffee, chelsea, rocket,
hubble_deep_field, immunohistochemistry, retina, china, flower), for `deepcluster bench input` and
benchmarks/bench_input_torch.py. Each image: a random crop of 55–100% of the photo's shorter side, resized
(PIL bicubic) to 500 × 375 or 375 × 500, maybe mirrored, saved at JPEG quality 75–95 (4:2:0), one class
folder per photo. The same images also as WebDataset tar shards (KEY.jpg + KEY.cls), 500 per shard.

  /usr/bin/python3 benchmarks/make_photo_folder.py OUT [COUNT=2000] [--side 500] [--seed 0]

writes OUT/folder/<photo>/NNNNNN.jpg and OUT/shards/shard-NNNNNN.tar. --side 1600 makes camera-sized
images (1600 × 1200) for measuring JPEG draft decoding. Nothing is downloaded.
"""
import argparse, io, os, tarfile
import numpy as np
from PIL import Image
import skimage.data
from sklearn.datasets import load_sample_images

parser = argparse.ArgumentParser()
parser.add_argument("out")
parser.add_argument("count", nargs="?", type=int, default=2000)
parser.add_argument("--side", type=int, default=500, help="longer side (the shorter is 3/4 of it)")
parser.add_argument("--seed", type=int, default=0)
parser.add_argument("--per-shard", type=int, default=500)
args = parser.parse_args()

photos = {n: getattr(skimage.data, n)() for n in ["astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field",
                                                 "immunohistochemistry", "retina"]}
sample = load_sample_images()
for name, im in zip(["china", "flower"], sample.images): photos[name] = im
names = sorted(photos)
rng = np.random.default_rng(args.seed)
long, short = args.side, args.side * 3 // 4
folder = os.path.join(args.out, "folder")
shards = os.path.join(args.out, "shards")
os.makedirs(shards, exist_ok=True)
tar, written = None, 0
for i in range(args.count):
    label = i % len(names)
    photo = Image.fromarray(photos[names[label]][..., :3])
    w, h = photo.size
    side = int(min(w, h) * rng.uniform(0.55, 1.0))
    x, y = rng.integers(0, w - side + 1), rng.integers(0, h - side + 1)
    crop = photo.crop((x, y, x + side, y + side))
    size = (long, short) if rng.random() < 0.7 else (short, long)
    crop = crop.resize(size, Image.BICUBIC)
    if rng.random() < 0.5: crop = crop.transpose(Image.FLIP_LEFT_RIGHT)
    buffer = io.BytesIO()
    crop.save(buffer, "JPEG", quality=int(rng.integers(75, 96)))
    data = buffer.getvalue()
    sub = os.path.join(folder, names[label])
    os.makedirs(sub, exist_ok=True)
    open(os.path.join(sub, f"{i:06d}.jpg"), "wb").write(data)
    if i % args.per_shard == 0:
        if tar: tar.close()
        tar = tarfile.open(os.path.join(shards, f"shard-{i // args.per_shard:06d}.tar"), "w", format=tarfile.GNU_FORMAT)
    for ext, payload in [("jpg", data), ("cls", str(label).encode())]:
        info = tarfile.TarInfo(f"{names[label]}/{i:06d}.{ext}")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    written += len(data)
tar.close()
print(f"wrote {args.count} JPEGs ({written / args.count / 1024:.0f} KB each on average, {long}×{short}) in {len(names)} classes to {folder} and {shards}")
