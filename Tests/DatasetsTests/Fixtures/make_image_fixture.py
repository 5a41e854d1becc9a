#!/usr/bin/python3
"""Fixtures for the image decoders and the geometric transforms, made with Debian's PIL, torch and
torchvision (independent of the Swift code).  Run: /usr/bin/python3 make_image_fixture.py

Writes folder/ (an ImageFolder-layout tree of small PNG and JPEG files, grey and RGB) and images.json:
  decoded: for each file, PIL's decoded pixels (mode L or RGB, C×H×W order);
  resize: bilinear resizes of a uint8 image by torch.nn.functional.interpolate(align_corners=False);
  resize_center_crop: torchvision Resize(shorter side) + CenterCrop on a float tensor (no antialias).
"""
import json, os, shutil
import numpy as np
from PIL import Image
import torch
import torch.nn.functional as F
import torchvision.transforms as T

here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(7)
root = os.path.join(here, "folder")
shutil.rmtree(root, ignore_errors=True)

def smooth(h, w, c):
    y, x = np.mgrid[0:h, 0:w]
    planes = [(127 + 100 * np.sin(x / (3 + k) + y / (4 + k)) + rng.integers(-20, 20, (h, w))).clip(0, 255) for k in range(c)]
    return np.stack(planes, -1).astype(np.uint8)

files = {
    "coat/a.png": (smooth(20, 24, 1)[..., 0], "L", "PNG"),
    "coat/b.jpg": (smooth(20, 24, 1)[..., 0], "L", "JPEG"),
    "coat/nested/c.png": (smooth(18, 16, 1)[..., 0], "L", "PNG"),
    "shirt/d.jpeg": (smooth(30, 26, 3), "RGB", "JPEG"),
    "shirt/e.png": (smooth(12, 9, 3), "RGB", "PNG"),
}
decoded = {}
for rel, (arr, mode, fmt) in files.items():
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(arr, mode).save(path, fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    back = np.asarray(Image.open(path).convert(mode))
    chw = back[None] if back.ndim == 2 else back.transpose(2, 0, 1)
    decoded[rel] = {"shape": list(chw.shape), "pixels": chw.ravel().tolist()}
# An RGBA PNG: alpha dropped, as PIL's convert("RGB") in torchvision's loader does.
rgba = np.concatenate([smooth(10, 10, 3), rng.integers(0, 256, (10, 10, 1)).astype(np.uint8)], -1)
Image.fromarray(rgba, "RGBA").save(os.path.join(root, "shirt/f_rgba.png"))
rgb = np.asarray(Image.open(os.path.join(root, "shirt/f_rgba.png")).convert("RGB"))
decoded["shirt/f_rgba.png"] = {"shape": [3, 10, 10], "pixels": rgb.transpose(2, 0, 1).ravel().tolist()}

src = rng.integers(0, 256, (2, 11, 13)).astype(np.uint8)
t = torch.from_numpy(src.astype(np.float32))[None]
resize = []
for oh, ow in [(7, 9), (20, 17), (11, 13)]:
    out = F.interpolate(t, size=(oh, ow), mode="bilinear", align_corners=False)[0]
    resize.append({"size": [oh, ow], "pixels": out.numpy().ravel().tolist()})
rcc = []
for r, s in [(8, 6), (11, 11), (20, 16)]:
    out = T.CenterCrop(s)(T.Resize(r, interpolation=T.InterpolationMode.BILINEAR, antialias=False)(t[0]))
    rcc.append({"resize": r, "size": s, "pixels": out.numpy().ravel().tolist()})
json.dump({"decoded": decoded, "source": {"shape": list(src.shape), "pixels": src.ravel().tolist()},
           "resize": resize, "resize_center_crop": rcc}, open(os.path.join(here, "images.json"), "w"))
print("wrote", root, "and images.json")

# Inputs the decoder must refuse, outside folder/: a CMYK JPEG, and a PNG wider than 65,535 pixels.
Image.fromarray(smooth(8, 8, 3), "RGB").convert("CMYK").save(os.path.join(here, "cmyk.jpg"), "JPEG")
Image.new("L", (70000, 1)).save(os.path.join(here, "wide.png"))
print("wrote cmyk.jpg and wide.png")
