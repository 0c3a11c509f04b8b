#!/usr/bin/env python3
"""Golden bytes for lrbench's TensorBoard event writer (core/tensorboard.h): TensorBoard's own protobuf classes and
RecordWriter (TFRecord framing, masked CRC32C) write the events that tests/unit/core/tensorboard_test.cpp writes
with lrbench, so the test compares bytes. Needs the `tensorboard` package (pip, in a venv; never at run time):
    python3 -m venv /tmp/tbvenv && /tmp/tbvenv/bin/pip install tensorboard==2.21.0
    /tmp/tbvenv/bin/python tools/golden_tensorboard.py tests/unit/core/golden/tensorboard.tfevents
It then reads the file back with TensorBoard's RawEventFileLoader and prints every event, as a check of the file.
lrbench's own files can be checked the same way: python tools/golden_tensorboard.py --read RUN/tensorboard/events.*"""
import io
import sys

from tensorboard.backend.event_processing.event_file_loader import RawEventFileLoader
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.compat.proto.event_pb2 import SessionLog
from tensorboard.summary.writer.record_writer import RecordWriter

# (wall_time, step, tag, value); the first event is the file version, as every TensorBoard writer starts.
SCALARS = [
    (2.0, 0, "train/loss", 2.5),
    (3.25, 7, "train/loss", 0.25),
    (1e9 + 0.125, 600, "epoch/test_acc", 81.5),
    (4.0, 2**40, "tag with ünïcode", -1e-3),
]


def main(path):
    buf = io.BytesIO()
    writer = RecordWriter(buf)
    writer.write(event_pb2.Event(wall_time=1.5, file_version="brain.Event:2").SerializeToString())
    for wall, step, tag, value in SCALARS:
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
        writer.write(event_pb2.Event(wall_time=wall, step=step, summary=summary).SerializeToString())
    # A resumed run's session start: TensorBoard drops earlier files' points from step 3 on.
    writer.write(event_pb2.Event(wall_time=5.0, step=3, session_log=SessionLog(status=SessionLog.START)).SerializeToString())
    with open(path, "wb") as f:
        f.write(buf.getvalue())
    read(path)


def read(path):
    for raw in RawEventFileLoader(path).Load():
        event = event_pb2.Event.FromString(raw)
        print(event.wall_time, event.step, event.file_version, [(v.tag, v.simple_value) for v in event.summary.value],
              "session_log" if event.HasField("session_log") else "")


if __name__ == "__main__":
    if sys.argv[1] == "--read":
        for p in sys.argv[2:]:
            read(p)
    else:
        main(sys.argv[1])
