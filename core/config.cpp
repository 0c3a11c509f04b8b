#include "core/config.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <type_traits>

#include "core/errors.h"

namespace fs = std::filesystem;

namespace lrb {

std::string ConfigNode::where() const {
  if (file.empty()) return "<config>";
  if (line <= 0) return file;
  return fmt::format("{}:{}:{}", file, line, col);
}

NodePtr ConfigNode::get(const std::string& key) const {
  for (const auto& [k, v] : map)
    if (k == key) return v;
  return nullptr;
}

void ConfigNode::set(const std::string& key, NodePtr value) {
  for (auto& [k, v] : map)
    if (k == key) {
      v = std::move(value);
      return;
    }
  map.emplace_back(key, std::move(value));
}

NodePtr ConfigNode::clone() const {
  auto n = std::make_shared<ConfigNode>(*this);
  for (auto& [k, v] : n->map) v = v->clone();
  for (auto& v : n->seq) v = v->clone();
  return n;
}

bool Range::contains(double v) const {
  if (lo && (lo_open ? !(v > *lo) : !(v >= *lo))) return false;
  if (hi && !(v <= *hi)) return false;
  return true;
}

namespace {
// Whole bounds exactly (1048576, not 1.04858e+06); others shortest.
std::string bound(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{:g}", v);
}
}  // namespace

std::string Range::describe() const {
  if (lo && hi) return fmt::format("in [{}, {}]", bound(*lo), bound(*hi));
  if (lo) return fmt::format("{} {}", lo_open ? ">" : ">=", bound(*lo));
  if (hi) return fmt::format("<= {}", bound(*hi));
  return "any value";
}

namespace {

void emit(YAML::Emitter& out, const NodePtr& n) {
  switch (n->kind) {
    case ConfigNode::Kind::kNull: out << YAML::Null; break;
    case ConfigNode::Kind::kScalar: out << n->scalar; break;
    case ConfigNode::Kind::kSequence:
      out << YAML::Flow << YAML::BeginSeq;
      for (const auto& c : n->seq) emit(out, c);
      out << YAML::EndSeq;
      break;
    case ConfigNode::Kind::kMap:
      out << YAML::Block << YAML::BeginMap;
      for (const auto& [k, v] : n->map) {
        out << YAML::Key << k << YAML::Value;
        emit(out, v);
      }
      out << YAML::EndMap;
      break;
  }
}

}  // namespace

void merge_into(NodePtr& base, const NodePtr& over) {
  if (!base || base->kind != ConfigNode::Kind::kMap || over->kind != ConfigNode::Kind::kMap) {
    base = over->clone();
    return;
  }
  for (const auto& [k, v] : over->map) {
    auto cur = base->get(k);
    if (cur) {
      merge_into(cur, v);
      base->set(k, cur);
    } else {
      base->set(k, v->clone());
    }
  }
}

std::string to_yaml(const NodePtr& node) {
  YAML::Emitter out;
  emit(out, node);
  return std::string(out.c_str()) + "\n";
}

namespace {
// Key order carries no meaning in a config (a file may list `train:` before `model:`), so the hash is
// taken over a copy with every map sorted by key.
NodePtr sorted_copy(const NodePtr& n) {
  auto c = n->clone();
  std::sort(c->map.begin(), c->map.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& kv : c->map) kv.second = sorted_copy(kv.second);
  for (auto& e : c->seq) e = sorted_copy(e);
  return c;
}
}  // namespace

std::string spec_hash(const NodePtr& node) {
  auto text = to_yaml(sorted_copy(node));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(text.data(), text.size(), md, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < 8; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

std::string conf_dir_for(const std::string& path) {
  // Search path, first match wins: the file's own folder (its conf/ and the folder itself), then
  // $LRBENCH_CONFIG_PATH (':'-separated), then the built-in groups of the source tree or install.
  std::vector<std::string> dirs;
  auto add = [&](const fs::path& d) {
    if (d.empty()) return;
    auto s = d.lexically_normal().string();
    if (std::find(dirs.begin(), dirs.end(), s) == dirs.end()) dirs.push_back(s);
  };
  auto dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  add(dir / "conf");
  add(dir);
  if (const char* env = std::getenv("LRBENCH_CONFIG_PATH")) {
    std::string list = env;
    for (size_t a = 0, b; a <= list.size(); a = b + 1) {
      b = list.find(':', a);
      if (b == std::string::npos) b = list.size();
      if (b > a) add(list.substr(a, b - a));
    }
  }
  if (const char* src = std::getenv("LRB_SOURCE_DIR")) add(fs::path(src) / "experiments" / "conf");
#ifdef LRB_BUILTIN_CONF
  add(LRB_BUILTIN_CONF);
#endif
#ifdef LRB_INSTALLED_CONF
  add(LRB_INSTALLED_CONF);
#endif
  return fmt::format("{}", fmt::join(dirs, ":"));
}

// ---- scalar decoding -------------------------------------------------------------------------

template <>
std::string decode_scalar<std::string>(const std::string& s) { return s; }

template <>
bool decode_scalar<bool>(const std::string& s) {
  if (s == "true" || s == "True" || s == "yes" || s == "on") return true;
  if (s == "false" || s == "False" || s == "no" || s == "off") return false;
  throw std::invalid_argument("a boolean (true/false)");
}

template <>
int64_t decode_scalar<int64_t>(const std::string& s) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno == ERANGE) throw std::invalid_argument("an integer");
  return v;
}

template <>
int decode_scalar<int>(const std::string& s) {
  int64_t v = decode_scalar<int64_t>(s);
  if (v < INT32_MIN || v > INT32_MAX) throw std::invalid_argument("a 32-bit integer");
  return static_cast<int>(v);
}

template <>
double decode_scalar<double>(const std::string& s) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0') throw std::invalid_argument("a number");
  return v;
}

template <>
float decode_scalar<float>(const std::string& s) { return static_cast<float>(decode_scalar<double>(s)); }

// ---- Config ----------------------------------------------------------------------------------

namespace {
int g_record_defaults = 0;

NodePtr scalar_node(const std::string& text, const std::string& file) {
  auto n = std::make_shared<ConfigNode>();
  n->kind = ConfigNode::Kind::kScalar;
  n->scalar = text;
  n->file = file;
  n->used = true;
  return n;
}

NodePtr sequence_node(const std::vector<std::string>& values, const std::string& file) {
  auto n = std::make_shared<ConfigNode>();
  n->kind = ConfigNode::Kind::kSequence;
  n->file = file;
  n->used = true;
  for (const auto& v : values) n->seq.push_back(scalar_node(v, file));
  return n;
}

// The text a default is written as; it must decode to the same value (floats: shortest round-trip form).
template <class E>
std::string default_text(const E& v) {
  if constexpr (std::is_same_v<E, bool>) return v ? "true" : "false";
  else if constexpr (std::is_same_v<E, std::string>) return v;
  else return fmt::format("{}", v);
}

// A default the reader could not read back (out of its range, not finite, empty) means "unset": not written.
template <class E>
bool writable_default(const E& v, const Range& range) {
  if constexpr (std::is_same_v<E, std::string>) return !v.empty();
  else if constexpr (std::is_same_v<E, bool>) return true;
  else if constexpr (std::is_floating_point_v<E>) return std::isfinite(static_cast<double>(v)) && range.contains(v);
  else return range.contains(static_cast<double>(v));
}
}  // namespace

RecordDefaults::RecordDefaults() { ++g_record_defaults; }
RecordDefaults::~RecordDefaults() { --g_record_defaults; }
bool RecordDefaults::active() { return g_record_defaults > 0; }

void Config::fill_default(const std::string& key, NodePtr value) const {
  if (!node_ || node_->kind != ConfigNode::Kind::kMap) return;
  for (NodePtr n = node_; n;) {  // attach the pending sections this one hangs from, innermost first
    auto parent = n->pending_parent.lock();
    if (!parent) break;
    parent->set(n->pending_key, n);
    parent->queried.insert(n->pending_key);
    n->pending_parent.reset();
    n->used = true;
    n = parent;
  }
  node_->set(key, std::move(value));
}

void Config::record(const std::string& key, const std::vector<std::string>& values, const std::string& source) const {
  // One value is a scalar: read as a number or as a one-element list alike.
  NodePtr value = values.size() == 1 ? scalar_node(values.front(), source) : sequence_node(values, source);
  if (node_ && node_->kind == ConfigNode::Kind::kMap) node_->queried.insert(key);
  fill_default(key, value);
}

bool Config::empty() const { return !node_ || node_->kind != ConfigNode::Kind::kMap || node_->map.empty(); }

std::string Config::path(const std::string& key) const {
  if (key.empty()) return path_;
  return path_.empty() ? key : path_ + "." + key;
}

std::string Config::where(const std::string& key) const {
  if (!key.empty())
    if (auto c = child(key)) return c->where();
  return node_ ? node_->where() : "<config>";
}

NodePtr Config::child(const std::string& key) const {
  if (!node_ || node_->kind != ConfigNode::Kind::kMap) return nullptr;
  node_->queried.insert(key);
  return node_->get(key);
}

bool Config::has(const std::string& key) const {
  auto c = child(key);
  return c && c->kind != ConfigNode::Kind::kNull;
}

void Config::fail(const std::string& key, const std::string& what, const std::string& expected,
                  const std::string& got) const {
  std::string msg = fmt::format("{}: {}", path(key), what);
  if (!got.empty() || !expected.empty())
    msg += fmt::format(" (got {}, expected {})", got.empty() ? "nothing" : got, expected);
  throw ConfigError(where(key), msg);
}

namespace {
template <class T>
struct is_vector : std::false_type {};
template <class T>
struct is_vector<std::vector<T>> : std::true_type {};

template <class T>
std::string expected_of() {
  if constexpr (is_vector<T>::value) return "a list";
  else if constexpr (std::is_same_v<T, bool>) return "true or false";
  else if constexpr (std::is_integral_v<T>) return "an integer";
  else if constexpr (std::is_floating_point_v<T>) return "a number";
  else return "a string";
}

// Every float option ends up in float32 tensors: a value that is not finite there, or that is nonzero
// but flushes to zero or a denormal (σ = 1e-50), would silently change the experiment.
void check_float32(double v, const NodePtr& n, const std::string& key, bool zero_ok) {
  if (!std::isfinite(v))
    throw ConfigError(n->where(), fmt::format("{}: not a finite number (got '{}', expected a finite number)", key,
                                              n->scalar));
  const double a = std::fabs(v);
  if (a > std::numeric_limits<float>::max())
    throw ConfigError(n->where(), fmt::format("{}: out of range (got {}, which overflows float32, the precision "
                                              "training runs in; expected a magnitude <= {:g})",
                                              key, n->scalar, std::numeric_limits<float>::max()));
  if (a > 0 && a < std::numeric_limits<float>::min())
    throw ConfigError(n->where(), fmt::format("{}: out of range (got {}, which underflows float32, the precision "
                                              "training runs in; expected {}a magnitude >= {:g})",
                                              key, n->scalar, zero_ok ? "0 or " : "",
                                              std::numeric_limits<float>::min()));
}

std::string shown(const NodePtr& n) {
  if (n->kind == ConfigNode::Kind::kScalar) return "'" + n->scalar + "'";
  if (n->kind == ConfigNode::Kind::kMap) return "a map";
  if (n->kind == ConfigNode::Kind::kSequence) return "a list";
  return "null";
}
}  // namespace

template <class T>
bool Config::read(const std::string& key, T& out, const Range& range) const {
  auto c = child(key);
  if (!c) {
    if (RecordDefaults::active()) {
      if constexpr (is_vector<T>::value) {
        bool ok = !out.empty();
        for (const auto& e : out) ok = ok && writable_default(e, range);
        if (ok) {
          std::vector<std::string> texts;
          for (const auto& e : out) texts.push_back(default_text(e));
          fill_default(key, sequence_node(texts, "<default>"));
        }
      } else if (writable_default(out, range)) {
        fill_default(key, scalar_node(default_text(out), "<default>"));
      }
    }
    return false;
  }
  // `epochs:` with nothing after it reads as "use the default" to the parser but is almost always a
  // value lost in editing; the default is had by deleting the key.
  if (c->kind == ConfigNode::Kind::kNull)
    throw ConfigError(c->where(), fmt::format("{}: no value (got null or nothing, expected {}; give a value, or "
                                              "delete the key to use the default)",
                                              path(key), expected_of<T>()));
  c->used = true;
  auto decode_one = [&](const NodePtr& n, auto tag) {
    using E = decltype(tag);
    if (n->kind != ConfigNode::Kind::kScalar) {
      std::string expected = std::is_same_v<E, std::string> ? "a string" : "a scalar";
      throw ConfigError(n->where(), fmt::format("{}: wrong type (got {}, expected {})", path(key), shown(n), expected));
    }
    E v;
    try {
      v = decode_scalar<E>(n->scalar);
    } catch (const std::invalid_argument& e) {
      throw ConfigError(n->where(),
                        fmt::format("{}: wrong type (got '{}', expected {})", path(key), n->scalar, e.what()));
    }
    if constexpr (std::is_floating_point_v<E>) {
      check_float32(decode_scalar<double>(n->scalar), n, path(key), range.contains(0.0));
    }
    if constexpr (std::is_arithmetic_v<E> && !std::is_same_v<E, bool>) {
      if (!range.contains(static_cast<double>(v)))
        throw ConfigError(n->where(), fmt::format("{}: out of range (got {}, expected {})", path(key), n->scalar,
                                                  range.describe()));
    }
    return v;
  };
  if constexpr (is_vector<T>::value) {
    using E = typename T::value_type;
    T vals;
    if (c->kind == ConfigNode::Kind::kSequence) {
      // An empty list would silently mean "the default" to every reader that treats empty as unset.
      if (c->seq.empty())
        throw ConfigError(c->where(), fmt::format("{}: empty list (expected {}; give at least one value, or delete "
                                                  "the key to use the default)",
                                                  path(key), expected_of<T>()));
      for (const auto& e : c->seq) {
        e->used = true;
        vals.push_back(decode_one(e, E{}));
      }
    } else {
      vals.push_back(decode_one(c, E{}));  // a scalar is a one-element list
    }
    out = std::move(vals);
  } else {
    out = decode_one(c, T{});
  }
  return true;
}

template bool Config::read<bool>(const std::string&, bool&, const Range&) const;
template bool Config::read<int>(const std::string&, int&, const Range&) const;
template bool Config::read<int64_t>(const std::string&, int64_t&, const Range&) const;
template bool Config::read<double>(const std::string&, double&, const Range&) const;
template bool Config::read<float>(const std::string&, float&, const Range&) const;
template bool Config::read<std::string>(const std::string&, std::string&, const Range&) const;
template bool Config::read<std::vector<int64_t>>(const std::string&, std::vector<int64_t>&, const Range&) const;
template bool Config::read<std::vector<int>>(const std::string&, std::vector<int>&, const Range&) const;
template bool Config::read<std::vector<double>>(const std::string&, std::vector<double>&, const Range&) const;
template bool Config::read<std::vector<std::string>>(const std::string&, std::vector<std::string>&,
                                                     const Range&) const;

bool Config::read_choice(const std::string& key, std::string& out, const std::vector<std::string>& allowed) const {
  if (!child(key)) {  // a default that is no choice (a sentinel) is not recorded
    if (RecordDefaults::active() && std::find(allowed.begin(), allowed.end(), out) != allowed.end())
      fill_default(key, scalar_node(out, "<default>"));
    return false;
  }
  std::string v;
  if (!read(key, v)) return false;
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end())
    throw ConfigError(where(key), fmt::format("{}: invalid value (got '{}', expected one of: {}){}", path(key), v,
                                              fmt::join(allowed, ", "), did_you_mean(v, allowed)));
  out = v;
  return true;
}

Config Config::sub(const std::string& key) const {
  auto c = child(key);
  // `train:` with nothing under it (or train=null) would silently mean "the code's defaults".
  if (c && c->kind == ConfigNode::Kind::kNull)
    throw ConfigError(c->where(), fmt::format("{}: no value (got null or nothing, expected a map of key: value; give "
                                              "its keys, or delete the section to use the defaults)",
                                              path(key)));
  if (!c) {
    auto empty = std::make_shared<ConfigNode>();
    empty->kind = ConfigNode::Kind::kMap;
    empty->file = node_ ? node_->file : "";
    empty->line = node_ ? node_->line : 0;
    empty->col = node_ ? node_->col : 0;
    if (RecordDefaults::active() && node_ && node_->kind == ConfigNode::Kind::kMap) {
      empty->pending_parent = node_;
      empty->pending_key = key;
    }
    return Config(empty, path(key));
  }
  if (c->kind != ConfigNode::Kind::kMap)
    throw ConfigError(c->where(), fmt::format("{}: wrong type (got {}, expected a map of key: value)", path(key),
                                              shown(c)));
  c->used = true;
  return Config(c, path(key));
}

std::vector<Config> Config::list(const std::string& key) const {
  std::vector<Config> out;
  auto c = child(key);
  if (!c || c->kind == ConfigNode::Kind::kNull) return out;
  if (c->kind != ConfigNode::Kind::kSequence)
    throw ConfigError(c->where(), fmt::format("{}: wrong type (got {}, expected a list)", path(key), shown(c)));
  c->used = true;
  for (size_t i = 0; i < c->seq.size(); ++i) {
    auto& e = c->seq[i];
    if (e->kind != ConfigNode::Kind::kMap)
      throw ConfigError(e->where(), fmt::format("{}[{}]: wrong type (got {}, expected a map)", path(key), i, shown(e)));
    e->used = true;
    out.emplace_back(e, fmt::format("{}[{}]", path(key), i));
  }
  return out;
}

std::vector<std::string> Config::keys() const {
  std::vector<std::string> out;
  if (node_ && node_->kind == ConfigNode::Kind::kMap)
    for (const auto& kv : node_->map) out.push_back(kv.first);
  return out;
}

void Config::reject_unread_keys() const {
  if (!node_ || node_->kind != ConfigNode::Kind::kMap) return;
  // A key of a switched config group that the new option does not read: dropped, said once.
  auto unread_droppable = [&](const std::pair<std::string, NodePtr>& kv) {
    return !node_->queried.count(kv.first) && kv.second->droppable;
  };
  for (const auto& kv : node_->map)
    if (unread_droppable(kv))
      // stderr, not spdlog: this file is also built alone, into the parser fuzz harnesses (tests/fuzz).
      std::fprintf(stderr, "%s\n",
                   fmt::format("lrbench: warning: {} (from {}) is dropped: the config group's option was switched on "
                               "the command line and the new option has no such key",
                               path(kv.first), kv.second->where())
                       .c_str());
  node_->map.erase(std::remove_if(node_->map.begin(), node_->map.end(), unread_droppable), node_->map.end());
  for (const auto& [k, v] : node_->map) {
    if (!node_->queried.count(k)) {
      std::vector<std::string> known(node_->queried.begin(), node_->queried.end());
      std::string scope = path_.empty() ? "the top level" : "'" + path_ + "'";
      throw ConfigError(v->where(), fmt::format("unknown key '{}' in {} (known: {}){}", k, scope,
                                                known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", ")),
                                                did_you_mean(k, known)));
    }
    if (v->kind == ConfigNode::Kind::kMap && v->used) Config(v, path(k)).reject_unread_keys();
    if (v->kind == ConfigNode::Kind::kSequence)
      for (size_t i = 0; i < v->seq.size(); ++i)
        if (v->seq[i]->kind == ConfigNode::Kind::kMap && v->seq[i]->used)
          Config(v->seq[i], fmt::format("{}[{}]", path(k), i)).reject_unread_keys();
  }
}

}  // namespace lrb
