#!/usr/bin/env python3
"""Step time vs world size for the paper's copies, and the wall time of `make table1 PROFILE=paper` on W workers.

Model of one step on n ranks:  t(n) = a + b / n + allreduce(n)
  a: what every rank repeats (clean pass, chunk overheads, optimizer step), b: the copies' (population's) work,
  allreduce(n) = 2 (n - 1) / n * bytes / bandwidth + 2 (n - 1) * latency   (ring all-reduce of the estimate).
a and b come from two measured step times of one process (paper copies and copies / 10: t1 = a + b,
t10 = a + b / 10); ES: a = the clean pass, b = the population; BP is not split (a 100-row batch gains nothing).
A table's cells run side by side (a Slurm job array); W workers are shared out to minimise the slowest cell.
A worker here is one process with the measured machine's cores (the constants below: 2 cores, no GPU).
Usage: tools/scaleout_model.py [--steps 50000] [--bandwidth-gbps 10] [--latency-us 50] [--workers 8 64]
       [--cell NAME:A:B:BYTES ...]   (replaces the built-in cells)
"""
import argparse

# Measured on this project's 2-core machine, 2026-12-06 (commands in the issue note):
#   ResNet-5 LR-WL: BM_LrWlStep/100/100 2.55-3.09 s, /100/10 0.40-0.41 s; VGG-8 LR-WL: BM_VGG8_LrWlStep/1 10.7 s,
#   /10 1.34 s; LR-L, ES and BP: lrbench train ... train.max_steps=2 (epoch seconds / 2).
CELLS = [
    # name, a (s), b (s), all-reduced bytes (the parameter-sized estimate; ES: parameters + population losses)
    ("ResNet-5 BP", 0.05, 0.0, 0),
    ("ResNet-5 ES", 0.05, 5.7, 82e3),
    ("ResNet-5 LR-L", 0.13, 2.22, 82e3),
    ("ResNet-5 LR-WL", 0.13, 2.67, 82e3),
    ("VGG-8 BP", 0.05, 0.0, 0),
    ("VGG-8 ES", 0.05, 36.3, 1.35e6),
    ("VGG-8 LR-L", 0.30, 8.6, 1.35e6),
    ("VGG-8 LR-WL", 0.30, 10.4, 1.35e6),
]


def step(a, b, nbytes, n, bw, lat):
    comm = 0.0 if n == 1 else 2 * (n - 1) / n * nbytes / bw + 2 * (n - 1) * lat
    return a + (b / n if b else 0.0) + comm


def share(cells, workers, steps, bw, lat):
    """Greedy: every extra worker goes to the currently slowest cell that can use one."""
    n = [1] * len(cells)
    for _ in range(workers - len(cells)):
        t = [steps * step(a, b, x, k, bw, lat) if b else -1 for (_, a, b, x), k in zip(cells, n)]
        n[t.index(max(t))] += 1
    return n


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=50000, help="steps per cell (paper: 100 epochs x 500)")
    p.add_argument("--bandwidth-gbps", type=float, default=10.0)
    p.add_argument("--latency-us", type=float, default=50.0)
    p.add_argument("--workers", type=int, nargs="+", default=[8, 64])
    p.add_argument("--cell", action="append", help="NAME:A:B:BYTES (seconds, seconds, bytes)")
    o = p.parse_args()
    cells = CELLS if not o.cell else [(c.split(":")[0], *map(float, c.split(":")[1:])) for c in o.cell]
    bw, lat = o.bandwidth_gbps * 1e9 / 8, o.latency_us * 1e-6
    print("step time (s) vs ranks n:")
    print("| cell | " + " | ".join(f"n={n}" for n in (1, 2, 4, 8, 16, 64)) + " |")
    print("|---|" + "---:|" * 6)
    for name, a, b, x in cells:
        print(f"| {name} | " + " | ".join(f"{step(a, b, x, n, bw, lat):.3f}" for n in (1, 2, 4, 8, 16, 64)) + " |")
    for w in o.workers:
        if w < len(cells):
            print(f"\n{w} workers: fewer than the {len(cells)} cells (run them in waves)")
            continue
        n = share(cells, w, o.steps, bw, lat)
        hours = [o.steps * step(a, b, x, k, bw, lat) / 3600 for (_, a, b, x), k in zip(cells, n)]
        print(f"\nmake table1 PROFILE=paper on {w} workers ({o.steps} steps per cell, training only): "
              f"{max(hours):.1f} h = {max(hours) / 24:.1f} days (slowest cell: {cells[hours.index(max(hours))][0]})")
        for (name, *_), k, h in zip(cells, n, hours):
            print(f"  {name}: {k} ranks, {h:.1f} h")


if __name__ == "__main__":
    main()
