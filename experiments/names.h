// Registry keys -> the names the paper's tables print (model "ResNet-5", algorithm "LR-WL").
#pragma once
#include <cctype>
#include <map>
#include <string>

namespace lrb {

inline std::string paper_model_name(const std::string& key) {
  static const std::map<std::string, std::string> names = {
      {"mlp", "MLP"}, {"resnet5", "ResNet-5"}, {"vgg8", "VGG-8"}, {"rnn", "RNN"}, {"gru", "GRU"},
      {"lstm", "LSTM"}, {"gcn", "GCN"}, {"gat", "GAT"}, {"snn", "SNN"}};
  auto it = names.find(key);
  return it == names.end() ? key : it->second;
}

// A model the paper trains on several datasets is named per dataset, as its table does (Table 4: "SNN-MNIST",
// "SNN-FashionMNIST"); `dataset` is the dataset's registry key.
inline std::string paper_model_name(const std::string& key, const std::string& dataset) {
  static const std::map<std::string, std::string> datasets = {{"mnist", "MNIST"}, {"fashion-mnist", "FashionMNIST"}};
  auto it = datasets.find(dataset);
  return key == "snn" && it != datasets.end() ? "SNN-" + it->second : paper_model_name(key);
}

inline std::string paper_algorithm_name(const std::string& key) {
  // The noise-injection controls: BP under LR-L's / LR-WL's noise.
  if (key == "bp-noise-l") return "BP+noise-L";
  if (key == "bp-noise-wl") return "BP+noise-WL";
  std::string out;
  for (char c : key) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;  // bp -> BP, lr-wl -> LR-WL, es -> ES
}

}  // namespace lrb
