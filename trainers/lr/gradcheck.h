// Gradient-quality probe (the paper's Figure 1): for a fixed model state and batch, each perturbed
// layer's LR estimate is compared with the exact BP gradient over a sweep of copies and repeats.
#pragma once
#include <ATen/core/Generator.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/batch.h"
#include "core/config.h"
#include "core/csv.h"
#include "models/classifier.h"
#include "trainers/trainer.h"

namespace lrb::lr {

// The experiment's `gradcheck:` section.
struct GradcheckSpec {
  std::vector<int64_t> copies{10, 20, 50, 100, 200, 400, 800, 1600};  // the sweep (per layer)
  int64_t repeats = 3;     // independent runs of the sweep
  int64_t batch_size = 32; // examples of the fixed batch (the caller takes the first ones of the train split)
  std::string panel;       // label written into every row (fig1: a..i)
  static GradcheckSpec from(const Config& c);
};

// Columns: panel, layer, mode, sigma, batch, copies, repeat, cosine, rel_error
// (cosine and |g_LR − g_BP| / |g_BP| over the layer's weight and bias together). `trainer` must be
// lr-l or lr-wl (attached to `model`); its settings (modes, σ, antithetic, baseline, noise, layerwise)
// are used with every layer's copies set to each sweep value. Within one repeat the sweep points are
// nested: the estimate at c copies uses the first c copies of the run at the largest count, so one run
// per repeat serves the whole sweep; repeats are independent.
CsvTable gradcheck(ClassifierImpl& model, Trainer& trainer, const Batch& batch, const GradcheckSpec& spec,
                   at::Generator& gen);

}  // namespace lrb::lr
