#!/usr/bin/python3
"""Fixtures for the decoders: every JPEG and PNG kind a photo collection holds, decoded by Debian's PIL
(Pillow 9.4, libjpeg-turbo 2.1) as torchvision's loader does (`Image.open(p).convert("RGB")`, or "L" for
grey files).  Run: /usr/bin/python3 make_decoder_fixture.py   (needs gcc and libjpeg62-turbo-dev)

Writes decoders/ (the files) and decoders.json: for each file, the expected C×H×W pixels and where
they come from ("pil", or "numpy" where this trainer deliberately differs from PIL, said in "note").
PNG kinds PIL cannot write (16-bit RGB, interlaced, 2-bit grey, 4-bit palette with tRNS) are written
chunk by chunk here; CMYK/YCCK JPEGs by write_cmyk_jpeg.c. bomb-progressive.jpg is a 16×16
progressive JPEG whose frame header is patched to claim 65,500 × 65,500 pixels.
"""
import json, os, struct, subprocess, tempfile, zlib
import numpy as np
from PIL import Image

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "decoders")
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(11)

def smooth(h, w, c, scale=1.0):
    y, x = np.mgrid[0:h, 0:w]
    planes = [(127 + 100 * np.sin(x / (3 + k) + y / (4 + k)) + rng.integers(-20, 20, (h, w))).clip(0, 255) for k in range(c)]
    return (np.stack(planes, -1) * scale).astype(np.float64)

def chw(a):
    a = np.asarray(a)
    return a[None] if a.ndim == 2 else a.transpose(2, 0, 1)

entries = {}
def pil_entry(name, mode, tolerance=0):
    back = np.asarray(Image.open(os.path.join(out, name)).convert(mode))
    entries[name] = {"shape": list(chw(back).shape), "pixels": chw(back).ravel().tolist(), "tolerance": tolerance, "source": "pil"}

# JPEG: grey, colour baseline, progressive, 4:4:4, restart markers.
Image.fromarray(smooth(19, 23, 1)[..., 0].astype(np.uint8), "L").save(os.path.join(out, "grey.jpg"), quality=90)
pil_entry("grey.jpg", "L")
Image.fromarray(smooth(21, 17, 3).astype(np.uint8), "RGB").save(os.path.join(out, "progressive.jpg"), quality=90, progressive=True)
pil_entry("progressive.jpg", "RGB")
Image.fromarray(smooth(16, 24, 3).astype(np.uint8), "RGB").save(os.path.join(out, "subsampling-444.jpg"), quality=95, subsampling=0)
pil_entry("subsampling-444.jpg", "RGB")

# CMYK and YCCK from the same CMYK bytes; PIL reads every CMYK JPEG as Adobe-inverted ("CMYK;I").
cmyk = smooth(14, 18, 4).astype(np.uint8)
with tempfile.TemporaryDirectory() as tmp:
    exe = os.path.join(tmp, "write_cmyk_jpeg")
    subprocess.check_call(["gcc", "-O1", "-o", exe, os.path.join(here, "write_cmyk_jpeg.c"), "-ljpeg"])
    raw = os.path.join(tmp, "cmyk.raw")
    cmyk.tofile(raw)
    for name, space, marker in [("cmyk-adobe.jpg", "cmyk", "adobe"), ("ycck-adobe.jpg", "ycck", "adobe"), ("cmyk-plain.jpg", "cmyk", "plain")]:
        subprocess.check_call([exe, "18", "14", raw, os.path.join(out, name), space, marker])
pil_entry("cmyk-adobe.jpg", "RGB")
pil_entry("ycck-adobe.jpg", "RGB")
# Without the Adobe marker the samples are stored as they are (not inverted): libjpeg's, Chrome's and
# ImageMagick's reading; PIL inverts them anyway. Expected: PIL's cmyk2rgb on the stored samples.
stored = np.asarray(Image.open(os.path.join(out, "cmyk-plain.jpg")))   # PIL's inverted reading of them
samples = 255 - stored.astype(np.int64)
nk = 255 - samples[..., 3:4]
t = samples[..., :3] * nk + 128
rgb = np.clip(nk - ((t + (t >> 8)) >> 8), 0, 255).astype(np.uint8)
entries["cmyk-plain.jpg"] = {"shape": list(chw(rgb).shape), "pixels": chw(rgb).ravel().tolist(), "tolerance": 0, "source": "numpy",
                             "note": "no Adobe marker: samples not inverted (PIL inverts every CMYK JPEG)"}

# PNG written chunk by chunk: any colour type, bit depth, palette, tRNS, Adam7 interlacing.
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)

def rows_bytes(a, depth):
    """Filter-0 scanlines of an H×W×C integer array at this bit depth."""
    h = a.shape[0]
    out = b""
    for y in range(h):
        r = a[y].reshape(-1)
        if depth == 16: line = r.astype(">u2").tobytes()
        elif depth == 8: line = r.astype(np.uint8).tobytes()
        else:
            per = 8 // depth
            r = np.concatenate([r, np.zeros((-len(r)) % per, np.int64)]).reshape(-1, per)
            line = bytes(int(sum(int(v) << (8 - depth * (i + 1)) for i, v in enumerate(g))) for g in r)
        out += b"\0" + line
    return out

def write_png(name, a, colour_type, depth, palette=None, trns=None, interlace=False):
    a = a if a.ndim == 3 else a[..., None]
    h, w = a.shape[:2]
    if interlace:
        data = b""
        for ys, xs, dy, dx in [(0, 0, 8, 8), (0, 4, 8, 8), (4, 0, 8, 4), (0, 2, 4, 4), (2, 0, 4, 2), (0, 1, 2, 2), (1, 0, 2, 1)]:
            sub = a[ys::dy, xs::dx]
            if sub.shape[0] and sub.shape[1]: data += rows_bytes(sub, depth)
    else:
        data = rows_bytes(a, depth)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 1 if interlace else 0))
    if palette is not None: png += chunk(b"PLTE", palette.astype(np.uint8).tobytes())
    if trns is not None: png += chunk(b"tRNS", trns)
    png += chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b"")
    open(os.path.join(out, name), "wb").write(png)

rgb16 = (smooth(9, 11, 3) * 257).astype(np.int64)
write_png("rgb-16bit.png", rgb16, 2, 16)
pil_entry("rgb-16bit.png", "RGB")   # PIL keeps the high byte ("RGB;16B")
grey16 = (smooth(10, 7, 1)[..., 0] * 257).astype(np.int64)
write_png("grey-16bit.png", grey16, 0, 16)
high = (grey16 >> 8).astype(np.uint8)
entries["grey-16bit.png"] = {"shape": [1, 10, 7], "pixels": high.ravel().tolist(), "tolerance": 0, "source": "numpy",
                             "note": "the high byte of each sample; PIL's convert('L') of mode I;16 clips at 255 instead"}
grey2 = rng.integers(0, 4, (6, 13))
write_png("grey-2bit.png", grey2, 0, 2)
pil_entry("grey-2bit.png", "L")
palette = rng.integers(0, 256, (16, 3))
indices = rng.integers(0, 16, (8, 9))
write_png("palette-4bit-trns.png", indices, 3, 4, palette=palette, trns=bytes(rng.integers(0, 256, 16).astype(np.uint8)))
pil_entry("palette-4bit-trns.png", "RGB")   # palette transparency ignored, as convert("RGB") does
ga = np.stack([smooth(7, 8, 1)[..., 0], rng.integers(0, 256, (7, 8))], -1).astype(np.int64)
write_png("grey-alpha.png", ga, 4, 8)
pil_entry("grey-alpha.png", "L")
write_png("rgb-interlaced.png", smooth(13, 10, 3).astype(np.int64), 2, 8, interlace=True)
pil_entry("rgb-interlaced.png", "RGB")
write_png("rgba-16bit-interlaced.png", (smooth(9, 9, 4) * 257).astype(np.int64), 6, 16, interlace=True)
pil_entry("rgba-16bit-interlaced.png", "RGB")

# A progressive JPEG that claims 65,500 × 65,500 pixels: its SOF2 header patched.
p = os.path.join(out, "bomb-progressive.jpg")
Image.fromarray(smooth(16, 16, 3).astype(np.uint8), "RGB").save(p, quality=80, progressive=True)
b = bytearray(open(p, "rb").read())
sof = b.index(b"\xff\xc2")
b[sof + 5:sof + 9] = struct.pack(">HH", 65500, 65500)
open(p, "wb").write(bytes(b))

json.dump(entries, open(os.path.join(here, "decoders.json"), "w"))
print("wrote", out, "and decoders.json:", ", ".join(sorted(entries)))
