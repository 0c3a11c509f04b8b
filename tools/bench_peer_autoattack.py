#!/usr/bin/python3
"""Reference timing of AutoAttack's APGD-CE and Square (fra31/auto-attack, unmodified) on an lrbench checkpoint,
for the side-by-side comparison with `lrbench eval RUN --threat apgd-ce|square eval.n_examples=N`.

    /usr/bin/python3 tools/bench_peer_autoattack.py RUN_DIR AUTOATTACK_DIR [N_IMAGES] [N_QUERIES] [THREADS]

RUN_DIR: an lrbench run of resnet5 or vgg8 on CIFAR-10 (its checkpoint.pt is read with torch.jit.load: LibTorch
archives are TorchScript modules, parameters in registration order). AUTOATTACK_DIR: a checkout of
https://github.com/fra31/auto-attack (tools/golden_autoattack.py says which commit). The images are the first
N_IMAGES (default 100) of the CIFAR-10 test batch under $LRBENCH_DATA (default ../shared/data), as lrbench's
eval.n_examples takes them. Debian's python3-torch 1.13 is the same LibTorch lrbench links, so the two sides run
the same kernels; THREADS (default 2) is set on both. Env: EPS (default 8/255), ONLY=apgd-ce|square (one attack).
"""
import glob
import gzip
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_peer_attacks as peer  # noqa: E402  (the peer's models, shared with the FGSM-family timing)


def load_model(run_dir):
    """The peer's ResNet-5 or VGG-8 (tools/bench_peer_attacks.py) with the run's weights and normalisation."""
    ck = torch.jit.load(os.path.join(run_dir, "checkpoint.pt")).model
    params = [p.detach() for _, p in ck.named_parameters()]
    buffers = dict(ck.named_buffers())
    # The peer's forward reads its module's MEAN/STD: use the run's own (float32 of the dataset's constants).
    peer.MEAN, peer.STD = buffers["input_mean"].clone(), buffers["input_std"].clone()
    for cls in (peer.ResNet5, peer.VGG8):
        m = cls()
        ours = list(m.parameters())
        if len(ours) == len(params) and all(a.shape == b.shape for a, b in zip(ours, params)):
            with torch.no_grad():
                for a, b in zip(ours, params):
                    a.copy_(b)
            return m.eval()
    raise SystemExit(f"{run_dir}: neither ResNet-5 nor VGG-8 parameters")


def cifar_test(n):
    root = os.environ.get("LRBENCH_DATA", "../shared/data")
    files = sorted(glob.glob(os.path.join(root, "cifar10", "*", "test_batch.bin*")))
    if not files:
        raise SystemExit(f"no cifar10/*/test_batch.bin[.gz] under {root}")
    opener = gzip.open if files[0].endswith(".gz") else open
    with opener(files[0], "rb") as f:
        raw = np.frombuffer(f.read(), dtype=np.uint8).reshape(-1, 3073)[:n]
    y = torch.from_numpy(raw[:, 0].astype(np.int64))
    x = torch.from_numpy(raw[:, 1:].astype(np.float32) / 255).view(n, 3, 32, 32)
    return x, y


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    run_dir, src = sys.argv[1], sys.argv[2]
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    n_queries = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
    torch.set_num_threads(int(sys.argv[5]) if len(sys.argv) > 5 else 2)
    sys.path.insert(0, src)
    from autoattack.autopgd_base import APGDAttack
    from autoattack.square import SquareAttack

    model = load_model(run_dir)
    x, y = cifar_test(n)
    eps = float(os.environ.get("EPS", 8 / 255))  # lrbench: threat.eps=...

    def robust(adv):
        with torch.no_grad():
            return 100.0 * (model(adv).argmax(1) == y).float().mean().item()

    print(f"clean accuracy {robust(x):.2f} % on {n} images, torch {torch.__version__}, {torch.get_num_threads()} threads")
    only = os.environ.get("ONLY")
    for name, attack in [
        ("apgd-ce", APGDAttack(model, n_iter=100, norm="Linf", n_restarts=1, eps=eps, seed=0, loss="ce", device="cpu")),
        ("square", SquareAttack(model, p_init=.8, n_queries=n_queries, eps=eps, norm="Linf", n_restarts=1, seed=0,
                                device="cpu", resc_schedule=False)),
    ]:
        if only and name != only:
            continue
        t0 = time.perf_counter()
        adv = attack.perturb(x, y)
        s = time.perf_counter() - t0
        print(f"{name:8s} {s:8.2f} s for {n} images ({100 * s / n:.2f} s per 100), robust accuracy {robust(adv):.2f} %")


if __name__ == "__main__":
    main()
