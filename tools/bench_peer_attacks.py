#!/usr/bin/python3
"""Reference timing: FGSM / I-FGSM / MI-FGSM (torchattacks 3.5.1 semantics, 5 steps, eps 8/255, alpha 2/255)
on ResNet-5 and VGG-8 in PyTorch, batch 100, images/s. Run next to `build/bench/bench_eval --benchmark_filter=Attack`
with Debian's python3-torch: /usr/bin/python3 tools/bench_peer_attacks.py [threads]

The attack loops follow torchattacks' fgsm.py / bim.py / mifgsm.py (gradient by torch.autograd.grad w.r.t. the
input, model in eval mode, normalisation inside the model); torchattacks itself is not a Debian package.
"""
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

MEAN = torch.tensor([0.4914, 0.4822, 0.4465]).view(1, 3, 1, 1)
STD = torch.tensor([0.2470, 0.2435, 0.2616]).view(1, 3, 1, 1)


class ResNet5(nn.Module):  # docs/PAPER.md §2.1
    def __init__(self):
        super().__init__()
        self.c0, self.c1 = nn.Conv2d(3, 8, 3, 1, 1), nn.Conv2d(8, 16, 3, 1, 1)
        self.c2, self.c3 = nn.Conv2d(16, 32, 3, 1, 1), nn.Conv2d(32, 32, 3, 1, 1)
        self.fc = nn.Linear(512, 10)

    def forward(self, x):
        x = F.relu(self.c0((x - MEAN) / STD))
        x = F.max_pool2d(F.relu(self.c1(x)), 2)
        x = F.relu(self.c2(x))
        x = F.relu(self.c3(x)) + x
        return self.fc(F.max_pool2d(x, 4).flatten(1))


class VGG8(nn.Module):  # docs/PAPER.md §2.2
    def __init__(self):
        super().__init__()
        ch = [3, 16, 16, 32, 32, 64, 64]
        self.convs = nn.ModuleList(nn.Conv2d(ch[i], ch[i + 1], 3, 1, 1) for i in range(6))
        self.fc0, self.fc1 = nn.Linear(1024, 256), nn.Linear(256, 10)

    def forward(self, x):
        x = (x - MEAN) / STD
        for i, c in enumerate(self.convs):
            x = F.relu(c(x))
            if i % 2 == 1:
                x = F.max_pool2d(x, 2)
        return self.fc1(F.relu(self.fc0(x.flatten(1))))


def grad(model, x, y):
    x = x.clone().detach().requires_grad_(True)
    return torch.autograd.grad(F.cross_entropy(model(x), y), [x])[0]


def fgsm(model, x, y, eps=8 / 255, **_):
    return (x + eps * grad(model, x, y).sign()).clamp(0, 1).detach()


def bim(model, x, y, eps=8 / 255, alpha=2 / 255, steps=5):
    adv = x.clone()
    for _ in range(steps):
        a = adv + alpha * grad(model, adv, y).sign()
        a = torch.min(torch.max(a, (x - eps).clamp(min=0)), x + eps).clamp(max=1)
        adv = a.detach()
    return adv


def mifgsm(model, x, y, eps=8 / 255, alpha=2 / 255, steps=5, decay=1.0):
    adv, mom = x.clone(), torch.zeros_like(x)
    for _ in range(steps):
        g = grad(model, adv, y)
        g = g / g.abs().mean(dim=(1, 2, 3), keepdim=True)
        g = g + mom * decay
        mom = g
        adv = (adv + alpha * g.sign())
        adv = (x + (adv - x).clamp(-eps, eps)).clamp(0, 1).detach()
    return adv


def main():
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
    torch.manual_seed(0)
    x, y = torch.rand(100, 3, 32, 32), torch.randint(10, (100,))
    for name, net in (("resnet5", ResNet5()), ("vgg8", VGG8())):
        net.eval()
        for p in net.parameters():
            p.requires_grad_(False)
        for aname, fn in (("fgsm", fgsm), ("i-fgsm", bim), ("mi-fgsm", mifgsm)):
            fn(net, x, y)  # warm-up
            times = []
            for _ in range(7):
                t0 = time.perf_counter()
                fn(net, x, y)
                times.append(time.perf_counter() - t0)
            med = statistics.median(times)
            print(f"{name:8s} {aname:8s} {1000 * med:8.2f} ms/batch  {100 / med:8.0f} images/s")


if __name__ == "__main__":
    main()
