#!/usr/bin/python3
"""Reference timing: one BP step (forward, backward, Adam) of ResNet-5 / MLP in PyTorch, batch 100.

Run with Debian's python3-torch (`/usr/bin/python3 tools/bench_peer_bp.py`), next to
`build/bench/bench_train_step`, on an otherwise idle machine; both use 2 intra-op threads by default.
"""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class ResNet5(nn.Module):  # docs/PAPER.md §2.1
    def __init__(self):
        super().__init__()
        self.c0, self.c1 = nn.Conv2d(3, 8, 3, 1, 1), nn.Conv2d(8, 16, 3, 1, 1)
        self.c2, self.c3 = nn.Conv2d(16, 32, 3, 1, 1), nn.Conv2d(32, 32, 3, 1, 1)
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        x = F.relu(self.c0(x))
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.relu(self.c2(x))
        x = F.relu(self.c3(x)) + x
        return self.fc(F.max_pool2d(x, 4).flatten(1))


def bench(model, shape, reps=3, min_time=2.0):
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    x, y = torch.rand(100, *shape), torch.randint(10, (100,))
    meds = []
    for _ in range(reps):
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < min_time:
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()
            n += 1
        meds.append((time.perf_counter() - t0) / n)
    return statistics.median(meds)


if __name__ == "__main__":
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    print(f"torch {torch.__version__} threads {torch.get_num_threads()}")
    print(f"resnet5 bp step: {1000 * bench(ResNet5(), (3, 32, 32)):.1f} ms")
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    print(f"mlp bp step: {1000 * bench(mlp, (1, 28, 28)):.2f} ms")
