#!/usr/bin/python3
"""Golden logits for the gcn model: writes tests/unit/models/gcn_golden.h.

Regenerate with Debian's python3-torch (the python3 first on PATH may have no torch):
    /usr/bin/python3 tools/golden_gcn.py          # from the repository root

An independent dense reference of Kipf & Welling's GCN (ICLR 2017, Eq. 2 and the two-layer model of §3.1):
    A_hat = D^-1/2 (A + I) D^-1/2        (a dense matrix, built here from the edge list)
    logits = A_hat relu(A_hat X W0^T + b0) W1^T + b1      (torch.nn.Linear layout: W [out, in])
on a fixed 6-node graph with dyadic-rational features and weights (exact in float32 and float64), computed
in float64. The C++ test builds the same graph through core/graph.h's sparse normalized_adjacency and the
zoo's gcn (eval mode: dropout off) and compares at 1e-5. The output is deterministic.
"""
import random

import torch

from golden_common import arr, dyadic, write_header

N, F, H, K = 6, 4, 3, 2
EDGES = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 3), (1, 4)]  # undirected, u < v

rng = random.Random(20261130)
X = dyadic(rng, N, F, 0, 64)
W0, B0 = dyadic(rng, H, F), dyadic(rng, 1, H, 0, 48)[0]  # biases >= 0: most hidden units active, ReLU still clips some
W1, B1 = dyadic(rng, K, H), dyadic(rng, 1, K, -16, 16)[0]

A = torch.eye(N, dtype=torch.float64)
for u, v in EDGES:
    A[u, v] = A[v, u] = 1.0
d = A.sum(1).rsqrt()
A_hat = d[:, None] * A * d[None, :]
t = lambda m: torch.tensor(m, dtype=torch.float64)
hidden = torch.relu(A_hat @ t(X) @ t(W0).T + t(B0))
logits = A_hat @ hidden @ t(W1).T + t(B1)


write_header("gcn", ["A dense float64 GCN reference (Kipf & Welling) on a fixed 6-node graph; see the script's docstring."], [
    f"constexpr int64_t kN = {N}, kF = {F}, kH = {H}, kK = {K}, kE = {len(EDGES)};",
    arr("kEdges", [list(e) for e in EDGES], "int64_t"),
    arr("kX", X), arr("kW0", W0), arr("kB0", B0), arr("kW1", W1), arr("kB1", B1),
    arr("kLogits", logits.tolist()),
])
