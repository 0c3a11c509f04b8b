// YAML text -> ConfigNode, built from yaml-cpp's parser events rather than its Node tree: the event stream
// lets every limit be enforced while the document is read (size, depth, node count after alias
// expansion), lets a copied alias carry the position of its use rather than of its anchor, and shows a
// second document instead of dropping it.
#include <fmt/format.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/config.h"
#include "core/errors.h"

namespace lrb {

namespace {

// Far above any real experiment (the largest committed config is a few KiB), far below what could hurt.
constexpr size_t kMaxBytes = 1 << 20;
constexpr int kMaxDepth = 64;
constexpr size_t kMaxNodes = 100000;

class Builder : public YAML::EventHandler {
 public:
  explicit Builder(std::string label) : label_(std::move(label)) {}

  NodePtr root() const { return root_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    add(make(mark, ConfigNode::Kind::kNull), anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end())
      throw ConfigError(at(mark), "alias to an anchor that is not complete yet (a YAML alias cannot refer to the "
                                  "node that contains it)");
    // A copy placed where the alias is used: errors then name the key that holds it, not the anchor.
    auto copy = it->second->clone();
    relocate(copy, mark);
    add(copy, 0);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, const std::string& value) override {
    auto n = make(mark, ConfigNode::Kind::kScalar);
    n->scalar = value;
    add(n, anchor);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(make(mark, ConfigNode::Kind::kSequence), anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(make(mark, ConfigNode::Kind::kMap), anchor);
  }
  void OnMapEnd() override {
    if (stack_.back().key) throw ConfigError(stack_.back().node->where(), "map ends after a key without a value");
    close();
  }

 private:
  struct Open {
    NodePtr node;
    YAML::anchor_t anchor = 0;
    NodePtr key;  // maps: the key waiting for its value
  };

  std::string at(const YAML::Mark& m) const { return fmt::format("{}:{}:{}", label_, m.line + 1, m.column + 1); }

  NodePtr make(const YAML::Mark& mark, ConfigNode::Kind kind) {
    if (++nodes_ > kMaxNodes)
      throw ConfigError(label_, fmt::format("more than {} values (after expanding aliases); a config this large is "
                                            "not an experiment (check for alias chains such as a: &a [*b, *b, ...])",
                                            kMaxNodes));
    auto n = std::make_shared<ConfigNode>();
    n->kind = kind;
    n->file = label_;
    if (mark.line >= 0) {
      n->line = mark.line + 1;
      n->col = mark.column + 1;
    }
    return n;
  }

  void relocate(const NodePtr& n, const YAML::Mark& mark) {
    if (++nodes_ > kMaxNodes) make(mark, ConfigNode::Kind::kNull);  // throws the size error
    n->line = mark.line + 1;
    n->col = mark.column + 1;
    for (auto& kv : n->map) relocate(kv.second, mark);
    for (auto& c : n->seq) relocate(c, mark);
  }

  void open(NodePtr n, YAML::anchor_t anchor) {
    if (static_cast<int>(stack_.size()) >= kMaxDepth)
      throw ConfigError(n->where(), fmt::format("nested deeper than {} levels; flatten the config", kMaxDepth));
    add(n, 0);
    stack_.push_back({n, anchor, nullptr});
  }

  void close() {
    auto top = stack_.back();
    stack_.pop_back();
    if (top.anchor) anchors_[top.anchor] = top.node;
  }

  // Places a finished (or just opened) node into its parent.
  void add(const NodePtr& n, YAML::anchor_t anchor) {
    if (anchor) anchors_[anchor] = n;
    if (stack_.empty()) {
      if (root_) throw ConfigError(n->where(), "more than one top-level value");
      root_ = n;
      return;
    }
    auto& parent = stack_.back();
    if (parent.node->kind == ConfigNode::Kind::kSequence) {
      parent.node->seq.push_back(n);
      return;
    }
    if (!parent.key) {
      if (n->kind != ConfigNode::Kind::kScalar)
        throw ConfigError(n->where(), "a map key must be a plain name (got a list, map or null as a key)");
      if (parent.node->get(n->scalar))
        throw ConfigError(n->where(), fmt::format("duplicate key '{}'", n->scalar));
      parent.key = n;
      return;
    }
    // An empty value has no position of its own (the parser reports the next token's): use its key's.
    if (n->kind == ConfigNode::Kind::kNull) n->line = parent.key->line, n->col = parent.key->col;
    parent.node->map.emplace_back(parent.key->scalar, n);
    parent.key = nullptr;
  }

  std::string label_;
  NodePtr root_;
  std::vector<Open> stack_;
  std::map<YAML::anchor_t, NodePtr> anchors_;
  size_t nodes_ = 0;
};

// Finds where a second document begins: yaml-cpp reports no position for it, so the text is searched
// for the first '---' line after the first document's content.
int second_document_line(const std::string& text) {
  std::istringstream in(text);
  int line = 0;
  bool content = false;
  for (std::string s; std::getline(in, s);) {
    ++line;
    if (s.rfind("---", 0) == 0 && (s.size() == 3 || s[3] == ' ' || s[3] == '\t' || s[3] == '\r')) {
      if (content) return line;
      content = true;  // a leading '---' opens the first document
      continue;
    }
    auto b = s.find_first_not_of(" \t\r");
    if (b != std::string::npos && s[b] != '#') content = true;
  }
  return 0;
}

// The first byte that is not part of well-formed UTF-8 (or is NUL), or npos. Names, paths and keys end up
// in run.json and CSVs, which must be valid UTF-8; a Latin-1 'é' would otherwise fail only after training.
size_t first_bad_byte(const std::string& t) {
  for (size_t i = 0; i < t.size();) {
    const auto c = static_cast<unsigned char>(t[i]);
    if (c == 0) return i;
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > t.size()) return i;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(t[i + k]) >> 6) != 0x2) return i;
    i += n;
  }
  return std::string::npos;
}

}  // namespace

NodePtr parse_yaml_string(const std::string& text, const std::string& label) {
  if (text.size() > kMaxBytes)
    throw ConfigError(label, fmt::format("config is {} bytes, more than the {} an experiment may have; is it the "
                                         "right file?",
                                         text.size(), kMaxBytes));
  if (auto bad = first_bad_byte(text); bad != std::string::npos) {
    const auto line = 1 + std::count(text.begin(), text.begin() + bad, '\n');
    const auto nl = text.rfind('\n', bad == 0 ? 0 : bad - 1);
    const auto col = bad - (nl == std::string::npos || bad == 0 ? 0 : nl + 1) + 1;
    const auto byte = static_cast<unsigned char>(text[bad]);
    throw ConfigError(fmt::format("{}:{}:{}", label, line, col),
                      byte == 0 ? std::string("contains a NUL byte: not a text file (is it the right file?)")
                                : fmt::format("not UTF-8 text (byte 0x{:02X}); save the file as UTF-8", byte));
  }
  std::istringstream in(text);
  Builder first(label);
  try {
    YAML::Parser parser(in);
    parser.HandleNextDocument(first);
    Builder second(label);
    if (parser.HandleNextDocument(second)) {
      int line = second_document_line(text);
      throw ConfigError(line > 0 ? fmt::format("{}:{}", label, line) : label,
                        "a second YAML document starts here ('---'); lrbench reads one document per file: merge its "
                        "keys into the first, or put it in a file of its own");
    }
  } catch (const YAML::Exception& e) {
    throw ConfigError(fmt::format("{}:{}:{}", label, e.mark.line + 1, e.mark.column + 1),
                      fmt::format("malformed YAML: {}", e.msg));
  }
  auto root = first.root();
  if (!root) {
    root = std::make_shared<ConfigNode>();
    root->file = label;
  }
  return root;
}

NodePtr parse_yaml_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw ConfigError(path, "is a directory, not a config file (give a YAML file, e.g. experiments/demo.yaml)");
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError(path, "cannot open config file (check the path; experiments live in experiments/*.yaml)");
  // Read at most one byte past the limit, so a huge file (or a device) costs no more than that.
  std::string text(kMaxBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  if (text.size() > kMaxBytes)
    throw ConfigError(path, fmt::format("config file is larger than {} bytes; is it the right file?", kMaxBytes));
  auto n = parse_yaml_string(text, path);
  if (n->kind == ConfigNode::Kind::kNull) n->kind = ConfigNode::Kind::kMap, n->file = path;
  if (n->kind != ConfigNode::Kind::kMap)
    throw ConfigError(n->where(), "the top level of a config file must be a map of key: value");
  return n;
}

}  // namespace lrb
