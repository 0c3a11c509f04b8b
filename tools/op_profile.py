#!/usr/bin/env python3
"""Sums a LibTorch op profile (the Chrome trace that LRB_LR_PROFILE / LRB_TEXT_PROFILE write) by op name.

  tools/op_profile.py TRACE.json [--top N]

Prints each op's total time (ms, the op's own span including the ops it calls), its call count and its share of
the top-level ops' time: the ops nested inside another op (aten::linear's aten::addmm) are shown but not counted
twice in the share's denominator.
"""
import argparse
import collections
import json
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trace")
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    try:
        with open(a.trace) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        sys.exit(f"{a.trace}: not a readable Chrome trace ({e}); write one with LRB_LR_PROFILE=FILE or LRB_TEXT_PROFILE=FILE")
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    spans = sorted((e for e in events if e.get("ph") == "X" and "dur" in e),
                   key=lambda e: (e.get("tid"), e["ts"], -e["dur"]))
    total, count, top_level = collections.Counter(), collections.Counter(), 0.0
    open_end = {}  # per thread: end time of the outermost span still open
    for e in spans:
        total[e["name"]] += e["dur"]
        count[e["name"]] += 1
        tid = e.get("tid")
        if e["ts"] >= open_end.get(tid, -1):
            top_level += e["dur"]
            open_end[tid] = e["ts"] + e["dur"]
    print(f"{'op':40s} {'ms':>10s} {'calls':>8s} {'share':>7s}")
    for name, us in total.most_common(a.top):
        print(f"{name[:40]:40s} {us / 1e3:10.1f} {count[name]:8d} {us / max(top_level, 1):7.1%}")
    print(f"{'top-level ops':40s} {top_level / 1e3:10.1f}")


if __name__ == "__main__":
    main()
