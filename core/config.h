// Experiment configuration: YAML files composed through `defaults:`, key=value overrides, and a strict
// reader that remembers where every value came from, so each error names file:line:col.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace lrb {

struct ConfigNode;
using NodePtr = std::shared_ptr<ConfigNode>;

struct ConfigNode {
  enum class Kind { kNull, kScalar, kSequence, kMap };
  Kind kind = Kind::kNull;
  std::string scalar;
  std::vector<std::pair<std::string, NodePtr>> map;  // insertion order kept for readable dumps
  std::vector<NodePtr> seq;
  std::string file;
  int line = 0, col = 0;
  mutable bool used = false;
  mutable std::set<std::string> queried;  // keys a reader asked for: the "known" list in errors
  // A key the experiment file set for a config group whose option the command line switched (trainer=bp over
  // the file's lr-wl): if the new option does not read it, it is dropped with a warning, not refused.
  bool droppable = false;
  // An absent section a reader asked for (Config::sub) while defaults are recorded: attached to its parent
  // under pending_key once a default is written into it, so an untouched section leaves no empty map behind.
  std::weak_ptr<ConfigNode> pending_parent;
  std::string pending_key;

  std::string where() const;
  NodePtr get(const std::string& key) const;
  void set(const std::string& key, NodePtr value);
  NodePtr clone() const;
};

// While one lives (plan_run), a Config::read of an absent key writes the caller's default into the tree
// (file "<default>"), so the resolved config holds every setting in effect and re-creates the run even if a
// default changes. A default outside the key's range, an empty string or an empty list is the reader's
// "unset" and is not written. Not thread-safe: configs are decoded on one thread.
class RecordDefaults {
 public:
  RecordDefaults();
  ~RecordDefaults();
  RecordDefaults(const RecordDefaults&) = delete;
  RecordDefaults& operator=(const RecordDefaults&) = delete;
  static bool active();
};

// Inclusive numeric bounds for Config::read.
struct Range {
  std::optional<double> lo, hi;
  bool lo_open = false;
  static Range at_least(double v) { return Range{v, std::nullopt, false}; }
  static Range positive() { return Range{0.0, std::nullopt, true}; }
  static Range between(double a, double b) { return Range{a, b, false}; }
  bool contains(double v) const;
  std::string describe() const;
};

// One YAML document -> ConfigNode, every node tagged with label:line:col (an alias's copy with the position
// where it is used). Throws ConfigError naming the file (and line) for malformed YAML, a second document,
// a duplicate or non-scalar key, more than 1 MiB of text, nesting deeper than 64 levels, or more than
// 100000 values after expanding aliases (so hostile files cost bounded time and memory).
NodePtr parse_yaml_file(const std::string& path);
NodePtr parse_yaml_string(const std::string& text, const std::string& label);
// Maps merge key by key; anything else in `over` replaces what `base` had.
void merge_into(NodePtr& base, const NodePtr& over);
std::string to_yaml(const NodePtr& node);
// Stable short digest of the resolved config (what makes two runs the "same experiment"); map key order
// does not count.
std::string spec_hash(const NodePtr& node);

// Loads `path`, composing each `defaults:` entry `group: option` from `<conf_dir>/<group>/<option>.yaml`
// under key `group`; the file's own keys then override them. conf_dir defaults to <dir of path>/conf.
NodePtr compose_file(const std::string& path, std::string conf_dir = "");
// Applies `group=option` (when conf_dir/group/option.yaml exists) or `a.b.c=yaml-value`, in this call's
// order; compose() in core/compose.h applies a command line in Hydra's order. Throws ConfigError at
// "<command line>:1:position" for a missing '=', an empty value, or an unknown group option.
void apply_override(NodePtr& root, const std::string& assignment, const std::string& conf_dir, int position);
// The group search path compose_file uses for `path` (':'-separated folders, first match wins): the file's
// own folder (its conf/, then itself), $LRBENCH_CONFIG_PATH, then the built-in experiments/conf.
std::string conf_dir_for(const std::string& path);

// Strict, typed view over one YAML map. Missing keys keep the caller's default; an explicit null or empty
// value, wrong types, bad ranges, float values that are not finite or that float32 cannot hold (nonzero
// below 1.2e-38 or above 3.4e38 in size) and (through reject_unread_keys) unknown keys throw ConfigError
// with file:line:col.
class Config {
 public:
  Config() = default;
  Config(NodePtr node, std::string path) : node_(std::move(node)), path_(std::move(path)) {}

  bool has(const std::string& key) const;
  template <class T>
  bool read(const std::string& key, T& out, const Range& range = Range{}) const;
  template <class T>
  T require(const std::string& key, const Range& range = Range{}) const {
    T v{};
    if (!read(key, v, range)) fail(key, "missing required key", "a value");
    return v;
  }
  // A string that must be one of `allowed`.
  bool read_choice(const std::string& key, std::string& out, const std::vector<std::string>& allowed) const;
  // Child map (empty view when absent, so plugin defaults apply).
  Config sub(const std::string& key) const;
  std::vector<Config> list(const std::string& key) const;
  std::vector<std::string> keys() const;
  std::string where(const std::string& key = "") const;
  std::string path(const std::string& key = "") const;
  // Throws for the first key under this view (recursively) that no reader asked for; a droppable one (see
  // ConfigNode::droppable) is removed from the tree with a warning instead.
  void reject_unread_keys() const;
  // Writes `value` under `key` (a map), marked as read: settings a plugin resolved beyond its config (an LR
  // trainer's per-layer preset), so the resolved config records them. `source` becomes the nodes' file.
  void record(const std::string& key, const std::vector<std::string>& values, const std::string& source) const;
  [[noreturn]] void fail(const std::string& key, const std::string& what, const std::string& expected,
                         const std::string& got = "") const;
  const NodePtr& node() const { return node_; }
  bool empty() const;

 private:
  NodePtr child(const std::string& key) const;
  // RecordDefaults: writes an absent key's default (attaching pending sections above it).
  void fill_default(const std::string& key, NodePtr value) const;
  NodePtr node_;
  std::string path_;
};

// Scalar decoding; throws std::invalid_argument with the expected type on failure.
template <class T>
T decode_scalar(const std::string& s);

}  // namespace lrb
