#!/usr/bin/env python3
"""The TensorBoard event file the Swift writer must reproduce byte for byte, written by TensorBoard's
own protos and RecordWriter (pip's tensorboard 2.x; no TensorFlow), then read back with TensorBoard's
EventAccumulator to show it is what TensorBoard reads.   Run: python3 make_tensorboard_fixture.py

Writes tensorboard/events.out.tfevents.1700000000.fixture: the version event and three steps of scalars
(including a zero and a negative value), the same ones TensorBoardEventsTests writes.
"""
import os
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

here = os.path.dirname(os.path.abspath(__file__))
out = os.path.join(here, "tensorboard")
os.makedirs(out, exist_ok=True)
path = os.path.join(out, "events.out.tfevents.1700000000.fixture")
steps = [
    (1700000000.25, 0, [("train/loss", 4.5), ("clusters/nmi_labels", 0.125)]),
    (1700000061.5, 1, [("train/loss", 3.75), ("clusters/nmi_prev", 0.0), ("train/learning_rate", 0.05)]),
    (1700000123.75, 12, [("train/loss", -1.5), ("knn/top1", 0.8125), ("seconds/train", 61.0)]),
]
with open(path, "wb") as f:
    w = RecordWriter(f)
    w.write(event_pb2.Event(wall_time=1700000000.0, file_version="brain.Event:2").SerializeToString())
    for wall, step, scalars in steps:
        s = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=t, simple_value=v) for t, v in scalars])
        w.write(event_pb2.Event(wall_time=wall, step=step, summary=s).SerializeToString())
acc = EventAccumulator(out)
acc.Reload()
for tag in sorted(acc.Tags()["scalars"]):
    print(tag, [(e.step, e.value) for e in acc.Scalars(tag)])
print("wrote", path)
