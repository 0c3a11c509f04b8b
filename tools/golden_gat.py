#!/usr/bin/python3
"""Golden logits for the gat model: writes tests/unit/models/gat_golden.h.

Regenerate with Debian's python3-torch (the python3 first on PATH may have no torch):
    /usr/bin/python3 tools/golden_gat.py          # from the repository root

An independent dense reference of a two-layer GAT (Velickovic et al., ICLR 2018, Eq. 1-6) in the zoo's
parameter layout: per layer a projection W with its bias b (where PyG's GATConv adds b after the aggregation:
the LR estimator needs every parameter inside a perturbed site, see models/gat.cpp), per head k an attention
vector split into a_dst (the attending node i) and a_src (its neighbour j):
    v = h W^T + b,  e_ij^k = LeakyReLU_0.2(a_dst^k . v_i^k + a_src^k . v_j^k)  for A+I [i, j] = 1, else -inf,
    alpha = softmax_j(e),  out_i^k = sum_j alpha_ij^k v_j^k,
    layer 0: concat over 2 heads, then ELU;  layer 1: mean over 2 heads.
A fixed 6-node graph with a dense mask (the model uses an edge list), computed in float64; the test builds
the graph through core/graph.h (eval mode: dropout off) and compares at 1e-5. The output is deterministic.
"""
import random

import torch

from golden_common import arr, dyadic, write_header

N, F, HEADS, HID, K, OUT_HEADS = 6, 4, 2, 3, 2, 2
EDGES = [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (0, 3), (1, 4)]  # undirected, u < v

rng = random.Random(20261130)
X = dyadic(rng, N, F, 0, 64)
W0, B0 = dyadic(rng, HEADS * HID, F), dyadic(rng, 1, HEADS * HID, -16, 16)[0]
A0_DST, A0_SRC = dyadic(rng, HEADS, HID), dyadic(rng, HEADS, HID)
W1, B1 = dyadic(rng, OUT_HEADS * K, HEADS * HID), dyadic(rng, 1, OUT_HEADS * K, -16, 16)[0]
A1_DST, A1_SRC = dyadic(rng, OUT_HEADS, K), dyadic(rng, OUT_HEADS, K)

t = lambda m: torch.tensor(m, dtype=torch.float64)
adj = torch.eye(N, dtype=torch.bool)
for u, v in EDGES:
    adj[u, v] = adj[v, u] = True


def layer(h, w, b, a_dst, a_src, heads, width):
    v = (h @ t(w).T + t(b)).view(N, heads, width)
    outs = []
    for k in range(heads):
        e = (v[:, k] @ t(a_dst)[k])[:, None] + (v[:, k] @ t(a_src)[k])[None, :]
        e = torch.nn.functional.leaky_relu(e, 0.2).masked_fill(~adj, float("-inf"))
        outs.append(torch.softmax(e, dim=1) @ v[:, k])
    return torch.stack(outs, 1)  # [N, heads, width]


hidden = torch.nn.functional.elu(layer(t(X), W0, B0, A0_DST, A0_SRC, HEADS, HID).reshape(N, -1))
logits = layer(hidden, W1, B1, A1_DST, A1_SRC, OUT_HEADS, K).mean(1)


write_header("gat", ["A dense float64 GAT reference (Velickovic et al.) on a fixed 6-node graph; see the",
                     "script's docstring."], [
    f"constexpr int64_t kN = {N}, kF = {F}, kHeads = {HEADS}, kHidden = {HID}, kK = {K}, kOutHeads = {OUT_HEADS}, "
    f"kE = {len(EDGES)};",
    arr("kEdges", [list(e) for e in EDGES], "int64_t"),
    arr("kX", X), arr("kW0", W0), arr("kB0", B0), arr("kA0Dst", A0_DST), arr("kA0Src", A0_SRC),
    arr("kW1", W1), arr("kB1", B1), arr("kA1Dst", A1_DST), arr("kA1Src", A1_SRC),
    arr("kLogits", logits.tolist()),
])
