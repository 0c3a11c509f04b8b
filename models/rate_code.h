// Rate (Poisson) coding of images for spiking nets: pixel intensity p in [0,1] becomes a spike at each time step
// with probability p, independently over steps and pixels (SpikingJelly's encoding.PoissonEncoder; Sharmin et al.,
// ECCV 2020, on what this coding does to adversarial robustness).
// The draws are addressable rather than streamed: the spike of pixel j at step t of an example is a pure function
// of (key, the example's pixel values, t, j) through Philox4x32-10 (core/counter_normal.h). So the code of an image
// does not depend on the batch it sits in, the rows an LR chunk takes, the process that draws it or a resume, and the
// noisy copies of an LR step see the clean pass's spikes. Two consequences, unlike an encoder that draws anew at
// every forward: an image keeps its code across epochs (training sees one draw per image, not a fresh one each
// epoch), and each test image is scored on one draw; an input an attack changes, by however little, gets a fresh
// draw of every pixel, so attacked accuracy also carries the effect of a redraw.
#pragma once
#include <torch/types.h>

#include <cstdint>

namespace lrb {

// x: float [B, F] in [0, 1] (any device). Returns float [steps, B, F] of 0/1 spikes on x's device. Under autograd
// the spikes pass x's gradient straight through (d spike / d x = 1, the rate's derivative).
torch::Tensor poisson_spikes(const torch::Tensor& x, int64_t steps, uint64_t key);

}  // namespace lrb
