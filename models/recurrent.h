// Recurrent text classifiers (rnn, gru, lstm; one file per cell): token ids [B,T] with true lengths [B]
// -> embedding -> one recurrent layer -> the hidden state after each sequence's last true token (padding
// never reaches it) -> linear -> logits [B, classes]. The cell is written once, as a step on the two
// pre-activations u_t = W_ih x_t + b_ih and v_t = W_hh h_{t-1} + b_hh of all its gates (PyTorch's gate
// layout and equations, torch.nn.RNN/GRU/LSTM), so BP (BPTT through the same loop), ES and LR share it.
//
// LR (docs/PAPER.md §2.4): every site call goes through call_layer(), so the engine injects fresh noise at
// every time step on both linear maps (all gates), on the output layer, and on the looked-up embedding
// rows (logit noise on a lookup; its gradient is a scatter-add, no BPTT anywhere). The per-step terms
// Σ_t z_t h_{t-1}ᵀ are summed by the engine, one product per step's call. A step past a row's
// true length is marked dead (call_layer's live rows), so padding steps carry no noise: on AG News a
// batch's longest article is about twice its mean, so this halves the noise dimensions of the estimate.
//
// Defaults and why (the paper gives none; docs/PAPER.md §2.4's suggested ranges):
//   embedding_dim 100, hidden 128: the middle of the suggested 100-128 / 128-256, small enough that an LR
//                    step with 100 copies of a batch of 64 stays at seconds on 2 CPU cores;
//   freeze_embedding false: the embedding is trained by every trainer (LR through logit noise on its
//                    output), so BP and LR train the same parameters. true freezes it at its random init
//                    (then it is not a site).
//   lr_truncate 0:   LR noise at every true step. K > 0 puts it only on each sequence's last K true steps,
//                    so the estimate is that of K-step truncated BPTT (Williams & Peng 1990): biased, but
//                    the steps whose influence on the loss has vanished stop adding variance. BP and ES
//                    ignore it.
// The vocabulary, its minimum count and the maximum length are the dataset's (ag-news: max_len, min_freq,
// max_vocab); the model reads the vocabulary size and pad id from the dataset's InputSpec.
// A step loops only to the batch's longest true length, so short batches cost less.
#pragma once
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>

#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "models/classifier.h"
#include "models/layered.h"

namespace lrb {

struct RecurrentOptions {
  int64_t embedding_dim = 100;
  int64_t hidden = 128;
  bool freeze_embedding = false;
  int64_t lr_truncate = 0;
  static RecurrentOptions from(const Config& c);
};

class RecurrentClassifier : public ClassifierImpl, public LayeredModel {
 public:
  // `gates`: the cell's pre-activation blocks per step (rnn 1, gru 3, lstm 4). Throws c10::Error when the
  // dataset is not text (no vocabulary).
  RecurrentClassifier(const RecurrentOptions& o, const ModelContext& ctx, int64_t gates, std::string key);

  torch::Tensor forward(const Batch& b) override { return forward_copies(b, 1); }
  std::string key() const override { return key_; }
  Modality modality() const override { return Modality::kText; }
  // Sites in call order: embedding (unless frozen), ih, hh, out.
  std::vector<PerturbableLayer> layers() override;
  torch::Tensor forward_copies(const Batch& b, int64_t copies) override;
  // The cell loop reads its parameters only.
  bool concurrent_copies() const override { return true; }
  // lr-l and lr-wl alike: logit noise everywhere (σ0 0.1, 100 copies). Weight noise would need fewer
  // weights than pre-activations per example, which no site here has once the T steps are counted.
  std::optional<LrPreset> lr_preset(const std::string& flavor) const override;

 protected:
  struct State {
    torch::Tensor h, c;  // [R, hidden]; c only for the LSTM
  };
  // The cell's update from u = W_ih x_t + b_ih and v = W_hh h_{t-1} + b_hh ([R, gates*hidden] each).
  virtual State step(const torch::Tensor& u, const torch::Tensor& v, const State& s) const = 0;
  virtual bool has_cell_state() const { return false; }
  int64_t hidden() const { return o_.hidden; }

 private:
  RecurrentOptions o_;
  std::string key_;
  torch::nn::Embedding emb_{nullptr};
  torch::nn::Linear ih_{nullptr}, hh_{nullptr}, out_{nullptr};
  int site_emb_ = -1, site_ih_ = 0, site_hh_ = 1, site_out_ = 2;
};

}  // namespace lrb
