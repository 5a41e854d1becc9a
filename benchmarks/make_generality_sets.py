#!/usr/bin/python3
"""Makes the small image sets `--preset recommended` is checked on besides Fashion-MNIST (none of them
was used to choose its settings). Needs Debian's python3-sklearn and python3-skimage:
    /usr/bin/python3 benchmarks/make_generality_sets.py OUT
Writes, each as images .npy (uint8, N×H×W or N×H×W×3) and labels .npy (int64):
- OUT/digits28: scikit-learn's handwritten digits (UCI, 1,797 images of 8×8 in 17 grey levels, 10
  classes), enlarged to 28×28 bilinearly: a small grey set of another kind than clothing.
- OUT/photo-patches: 32×32 colour patches cut at random places and scales (a side of 48 to 160 pixels,
  resized) out of ten real photographs shipped with scikit-image and scikit-learn (astronaut, cat,
  coffee, rocket, motorcycle, Hubble deep field, retina, immunohistochemistry, a Chinese temple, a
  flower), 600 each; the label is the photograph. What tells the classes apart is colour and texture
  more than shape.
- OUT/lfw-faces: scikit-image's 200 grey 25×25 images from Labeled Faces in the Wild, 100 faces and
  100 other patches (2 classes), enlarged to 28×28: a very small set.
- OUT/fmnist-imbalanced: Fashion-MNIST training images, class c keeping its first ⌊3000 × 0.7^c⌉
  (3,000 T-shirts down to 121 ankle boots, 9,717 in all): for checking what the equal-size
  clustering of eval does to classes of very different sizes.
"""
import gzip
import os
import sys

import numpy as np
from PIL import Image
from skimage import data as skdata
from sklearn.datasets import load_digits, load_sample_image

out = sys.argv[1]


def save(name, images, labels):
    os.makedirs(os.path.join(out, name), exist_ok=True)
    np.save(os.path.join(out, name, "images.npy"), images)
    np.save(os.path.join(out, name, "labels.npy"), labels.astype(np.int64))
    print(name, images.shape, "classes", len(np.unique(labels)))


def resized(a, size):
    return np.asarray(Image.fromarray(a).resize((size, size), Image.BILINEAR))


digits = load_digits()
d = (digits.images * (255.0 / 16.0)).round().astype(np.uint8)
save("digits28", np.stack([resized(x, 28) for x in d]), digits.target)

photos = [skdata.astronaut(), skdata.chelsea(), skdata.coffee(), skdata.rocket(), skdata.stereo_motorcycle()[0],
          skdata.hubble_deep_field(), skdata.retina(), skdata.immunohistochemistry(),
          load_sample_image("china.jpg"), load_sample_image("flower.jpg")]
rng = np.random.default_rng(0)
patches, labels = [], []
for c, photo in enumerate(photos):
    h, w = photo.shape[:2]
    for _ in range(600):
        side = int(rng.integers(48, min(161, h, w)))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        patches.append(resized(np.ascontiguousarray(photo[y:y + side, x:x + side, :3]), 32))
        labels.append(c)
order = rng.permutation(len(patches))
save("photo-patches", np.stack(patches)[order], np.array(labels)[order])

lfw = np.load(os.path.join(os.path.dirname(skdata.__file__), "lfw_subset.npy"))
lfw = (lfw * 255).round().astype(np.uint8) if lfw.dtype != np.uint8 else lfw
save("lfw-faces", np.stack([resized(x, 28) for x in lfw]), np.array([0] * 100 + [1] * 100))

with gzip.open("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz") as f:
    fx = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 28, 28)
with gzip.open("/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz") as f:
    fy = np.frombuffer(f.read()[8:], np.uint8).astype(np.int64)
keep = np.concatenate([np.nonzero(fy == c)[0][:int(round(3000 * 0.7 ** c))] for c in range(10)])
keep.sort()
save("fmnist-imbalanced", fx[keep], fy[keep])
