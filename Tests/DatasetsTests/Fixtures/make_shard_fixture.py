#!/usr/bin/python3
"""Tar shards in the WebDataset layout for TarShardsTests, written by Python's own tarfile (an
independent writer): run /usr/bin/python3 make_shard_fixture.py after make_decoder_fixture.py.

shards/shard-000000.tar  ustar: 3 samples KEY.jpg/.png + KEY.cls (labels 0, 1, 2) and a KEY.json extra
shards/shard-000001.tar  GNU format with a 120-character member path (a long-name record), labels 3, 4
shards/shard-000002.tar  pax format with a 150-character path, label 5, and a sample with no image
shards.json              the samples in order: member name, label, the decoders/ file it holds, its shape
broken/cut.tar           shard-000000.tar cut inside its second member (a truncated copy)
"""
import io, json, os, tarfile
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
images = os.path.join(here, "decoders")
out = os.path.join(here, "shards")
os.makedirs(out, exist_ok=True)
os.makedirs(os.path.join(here, "broken"), exist_ok=True)

def add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))

def image_bytes(name):
    return open(os.path.join(images, name), "rb").read()

expected = []
def sample(tar, key, image, label, extra=None):
    data = image_bytes(image)
    ext = image.rsplit(".", 1)[1]
    add(tar, f"{key}.{ext}", data)
    if label is not None: add(tar, f"{key}.cls", str(label).encode())
    if extra: add(tar, f"{key}.json", extra)
    im = Image.open(os.path.join(images, image))
    channels = 1 if im.mode in ("L", "LA", "I;16") else 3
    expected.append({"name": f"{key}.{ext}", "label": label, "image": image, "shape": [channels, im.height, im.width]})

with tarfile.open(os.path.join(out, "shard-000000.tar"), "w", format=tarfile.USTAR_FORMAT) as t:
    sample(t, "train/a0", "progressive.jpg", 0, b'{"source": "fixture"}')
    sample(t, "train/a1", "rgb-interlaced.png", 1)
    sample(t, "train/a2", "cmyk-adobe.jpg", 2)
with tarfile.open(os.path.join(out, "shard-000001.tar"), "w", format=tarfile.GNU_FORMAT) as t:
    sample(t, "train/" + "b" * 110 + "/long", "subsampling-444.jpg", 3)
    sample(t, "train/b1", "palette-4bit-trns.png", 4)
with tarfile.open(os.path.join(out, "shard-000002.tar"), "w", format=tarfile.PAX_FORMAT) as t:
    sample(t, "train/" + "c" * 140 + "/pax", "ycck-adobe.jpg", 5)
    add(t, "train/c1.cls", b"6")   # a sample without an image: named by the pre-scan, not an image
data = open(os.path.join(out, "shard-000000.tar"), "rb").read()
open(os.path.join(here, "broken", "cut.tar"), "wb").write(data[:512 * 6 + 100])
json.dump(expected, open(os.path.join(here, "shards.json"), "w"), indent=1)
print("wrote", out, "broken/cut.tar and shards.json:", len(expected), "samples")
