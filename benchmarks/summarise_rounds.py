#!/usr/bin/env python3
"""Medians of ab_side_by_side.sh's rounds: for each workload, before, after and the peer's two modes
(median and range, img/s), after ÷ before and after ÷ the peer's best mode, each per round, then the median.
    python3 benchmarks/summarise_rounds.py benchmarks/results/winograd-tiles/rounds.txt"""
import re
import statistics
import sys

rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"round \d+ (.*?) \(before after peer_nchw peer_channels_last\): (.*)", line.strip())
    if m:
        rows.setdefault(m.group(1), []).append([float(v) for v in m.group(2).split()])


def spread(values, digits=1):
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"


for name, rounds in rows.items():
    columns = list(zip(*rounds))
    gain = [after / before for before, after, *_ in rounds]
    best = [after / max(nchw, channels_last) for _, after, nchw, channels_last in rounds]
    before_best = [before / max(nchw, channels_last) for before, _, nchw, channels_last in rounds]
    print(f"{name}: {len(rounds)} rounds; before {spread(columns[0])}, after {spread(columns[1])}, "
          f"peer NCHW {spread(columns[2])}, peer channels_last {spread(columns[3])}; "
          f"after/before {spread(gain, 2)}; after/peer's best {spread(best, 2)}; before/peer's best {spread(before_best, 2)}")
