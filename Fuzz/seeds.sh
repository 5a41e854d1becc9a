#!/usr/bin/env bash
# Writes one or two small valid inputs per fuzz target into Fuzz/.corpus/<target>/ (libFuzzer mutates
# from there). Uses only bash, gzip and the image fixtures of the tests.
set -euo pipefail
cd "$(dirname "$0")"
c=.corpus
mkdir -p $c/FuzzIDX $c/FuzzGzip $c/FuzzCIFAR $c/FuzzNPY $c/FuzzImage $c/FuzzSafetensors $c/FuzzCheckpointState
# IDX: 2 images of 3×4 bytes, and 2 labels.
printf '\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00\x00\x03\x00\x00\x00\x04abcdefghijklmnopqrstuvwx' > $c/FuzzIDX/images
printf '\x00\x00\x08\x01\x00\x00\x00\x02\x01\x07' > $c/FuzzIDX/labels
# gzip (the target adds the 1f 8b magic back).
printf 'deepcluster fuzz seed %.0s' {1..20} | gzip -c | tail -c +3 > $c/FuzzGzip/one
{ printf 'a' | gzip -c; printf 'b' | gzip -c; } | tail -c +3 > $c/FuzzGzip/two-members
# CIFAR-10: one record (label 3 + 3072 bytes).
{ printf '\x03'; head -c 3072 /dev/zero | tr '\0' '\x41'; } > $c/FuzzCIFAR/record
# .npy: uint8 2×2×2 and float32 (3,).
hdr="{'descr': '|u1', 'fortran_order': False, 'shape': (2, 2, 2), }"
printf '\x93NUMPY\x01\x00%b%s\nabcdefgh' "\\x$(printf %02x $(( ${#hdr} + 1 )))\\x00" "$hdr" > $c/FuzzNPY/uint8
hdr="{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"
printf '\x93NUMPY\x01\x00%b%s\n\x00\x00\x80\x3f\x00\x00\x00\x40\x00\x00\x40\x40' "\\x$(printf %02x $(( ${#hdr} + 1 )))\\x00" "$hdr" > $c/FuzzNPY/float32
# Images: the test fixtures (made with PIL).
cp ../Tests/DatasetsTests/Fixtures/folder/coat/a.png ../Tests/DatasetsTests/Fixtures/folder/shirt/d.jpeg \
   ../Tests/DatasetsTests/Fixtures/folder/shirt/f_rgba.png $c/FuzzImage/
# safetensors: one F32 tensor of 2 values.
hdr='{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}}'
printf '%b\x00\x00\x00\x00\x00\x00\x00%s\x00\x00\x80\x3f\x00\x00\x00\x40' "\\x$(printf %02x ${#hdr})" "$hdr" > $c/FuzzSafetensors/small
# state.json and config.json as a checkpoint holds them.
printf '{"format_version":1,"epoch":2,"global_step":10,"optimizer_steps":10,"seed":31,"ranks":2,"config":{"arch":"fmnist-alexnet","epochs":3,"limit":600},"crc32":{"model.safetensors":1}}' > $c/FuzzCheckpointState/state
printf '{"arch":"fmnist-alexnet","clusters":10,"batchSize":64,"learningRate":0.05,"resize":0,"workers":2}' > $c/FuzzCheckpointState/config
