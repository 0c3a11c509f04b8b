// Composition: config groups found on a search path, `defaults:` lists, and command-line overrides.
#include "core/compose.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>
#include <cstdio>
#include <set>
#include <tuple>

#include "core/errors.h"
#include "core/fs.h"

namespace fs = std::filesystem;

namespace lrb {

std::string trim_blanks(const std::string& s) {
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

namespace {

bool is_group(const std::string& search_path, const std::string& group) {
  for (const auto& d : split_path(search_path))
    if (std::error_code ec; fs::is_directory(fs::path(d) / group, ec)) return true;  // ec: a name too long is no group
  return false;
}

std::vector<std::string> options_in(const std::string& search_path, const std::string& group) {
  std::set<std::string> out;
  for (const auto& d : split_path(search_path)) {
    auto group_dir = fs::path(d) / group;
    std::error_code ec;
    if (fs::is_directory(group_dir, ec))
      for (const auto& e : fs::directory_iterator(group_dir, ec))
        if (e.path().extension() == ".yaml") out.insert(e.path().stem().string());
  }
  return {out.begin(), out.end()};
}

NodePtr load_group(const std::string& search_path, const std::string& group, const std::string& option,
                   const std::string& where) {
  // A choice names a file of the group's folder, never a path: 'model=../../x' must not read any YAML on the machine.
  require_plain_name(group, where, "config group");
  require_plain_name(option, where, fmt::format("the option of config group '{}'", group));
  for (const auto& d : split_path(search_path)) {
    fs::path file = fs::path(d) / group / (option + ".yaml");
    if (std::error_code ec; fs::exists(file, ec)) return parse_yaml_file(file.string());
  }
  auto known = options_in(search_path, group);
  std::vector<std::string> searched;
  for (const auto& d : split_path(search_path)) searched.push_back((fs::path(d) / group).string());
  throw ConfigError(where, fmt::format("no option '{}' in config group '{}' (known: {}; searched {}; add folders with "
                                       "LRBENCH_CONFIG_PATH){}",
                                       option, group, fmt::join(known, ", "), fmt::join(searched, ", "),
                                       did_you_mean(option, known)));
}

}  // namespace

namespace {

// Hydra's override forms: key=v, +key=v (adds a key that must not exist), ++key=v (adds or changes), ~key[=v]
// (deletes, only when it holds v if v is given).
enum class Op { kSet, kAdd, kForce, kDelete };

struct Choice {
  std::string group, option, where;
  Op op = Op::kSet;
};

void mark_droppable(const NodePtr& n) {
  n->droppable = true;
  for (auto& [k, v] : n->map) mark_droppable(v);
  for (auto& v : n->seq) mark_droppable(v);
}

// Group choices from the command line replace the file's defaults entry of the same group, in place.
NodePtr compose_with(const std::string& path, const std::string& conf_dir, const std::vector<Choice>& choices) {
  auto file = parse_yaml_file(path);
  auto defaults = file->get("defaults");
  std::vector<Choice> entries;
  if (defaults) {
    if (defaults->kind != ConfigNode::Kind::kSequence)
      throw ConfigError(defaults->where(), "'defaults' must be a list such as [dataset: mnist, model: mlp]");
    for (const auto& entry : defaults->seq) {
      if (entry->kind != ConfigNode::Kind::kMap || entry->map.size() != 1)
        throw ConfigError(entry->where(), "each 'defaults' entry must be 'group: option' (e.g. model: mlp)");
      const auto& [group, opt] = entry->map.front();
      if (opt->kind != ConfigNode::Kind::kScalar)
        throw ConfigError(opt->where(), fmt::format("defaults entry '{}' needs an option name", group));
      entries.push_back({group, opt->scalar, opt->where()});
    }
    file->map.erase(std::remove_if(file->map.begin(), file->map.end(),
                                   [](const auto& kv) { return kv.first == "defaults"; }),
                    file->map.end());
  }
  for (const auto& c : choices) {
    auto it = std::find_if(entries.begin(), entries.end(), [&](const Choice& e) { return e.group == c.group; });
    if (c.op == Op::kDelete) {
      if (it == entries.end())
        throw ConfigError(c.where, fmt::format("~{}: config group '{}' is not in the defaults of {}", c.group,
                                               c.group, path));
      if (!c.option.empty() && c.option != it->option)
        throw ConfigError(c.where, fmt::format("~{}={}: the defaults choose {}={}", c.group, c.option, c.group,
                                               it->option));
      entries.erase(it);
      continue;
    }
    if (c.op == Op::kAdd && it != entries.end())
      throw ConfigError(c.where, fmt::format("+{}={}: config group '{}' is already in the defaults ({}={}); use "
                                             "{}={} to change it or ++{}={} to add or change it",
                                             c.group, c.option, c.group, c.group, it->option, c.group, c.option,
                                             c.group, c.option));
    if (it == entries.end()) {
      // A file without a defaults entry for the group but with a complete section naming another option (a
      // run's config.resolved.yaml): that section was the old option's; the command line's replaces it whole.
      if (auto section = file->get(c.group); section && section->kind == ConfigNode::Kind::kMap)
        if (auto name = section->get("name"); name && name->kind == ConfigNode::Kind::kScalar && name->scalar != c.option) {
          std::fprintf(stderr, "%s\n",
                       fmt::format("lrbench: warning: {}: the file's '{}' section ({}) is replaced by {}={} from the "
                                   "command line",
                                   section->where(), c.group, name->scalar, c.group, c.option)
                           .c_str());
          file->map.erase(std::remove_if(file->map.begin(), file->map.end(),
                                         [&](const auto& kv) { return kv.first == c.group; }),
                          file->map.end());
        }
      entries.push_back(c);
      continue;
    }
    // The file's own keys for a group it chose differently were written for that option; the new one may
    // not know them (trainer=bp over a file tuned for lr-wl): unread ones are dropped with a warning.
    if (it->option != c.option)
      if (auto section = file->get(c.group)) mark_droppable(section);
    *it = c;
  }
  NodePtr root = std::make_shared<ConfigNode>();
  root->kind = ConfigNode::Kind::kMap;
  root->file = path;
  for (const auto& e : entries) {
    auto wrapped = std::make_shared<ConfigNode>();
    wrapped->kind = ConfigNode::Kind::kMap;
    wrapped->set(e.group, load_group(conf_dir, e.group, e.option, e.where));
    merge_into(root, wrapped);
  }
  merge_into(root, file);
  return root;
}

std::string where_on_command_line(int position) { return fmt::format("<command line>:1:{}", position); }

// Splits `key=value`; an empty value is refused rather than read as null ("use the default").
std::pair<std::string, std::string> split_assignment(const std::string& assignment, int position) {
  auto where = where_on_command_line(position);
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(where, fmt::format("override '{}' is not key=value (e.g. train.epochs=3)", assignment));
  std::string key = trim_blanks(assignment.substr(0, eq));
  std::string value = assignment.substr(eq + 1);
  if (trim_blanks(value).empty())
    throw ConfigError(where, fmt::format("override '{}' has no value (give one, e.g. {}=VALUE, or drop the override "
                                         "to keep the file's value)",
                                         assignment, key));
  return {key, value};
}

struct Override {
  Op op = Op::kSet;
  std::string key, value;  // a deletion's value is trimmed, and empty when not given
  bool has_value = true;
};

// One command-line override, its prefix read once for composition (group or field) and for its application.
Override parse_override(const std::string& text, int position) {
  Override o;
  std::string rest = text;
  if (rest.rfind("++", 0) == 0) o.op = Op::kForce, rest = rest.substr(2);
  else if (rest.rfind('+', 0) == 0) o.op = Op::kAdd, rest = rest.substr(1);
  else if (rest.rfind('~', 0) == 0) o.op = Op::kDelete, rest = rest.substr(1);
  if (o.op != Op::kDelete) {
    std::tie(o.key, o.value) = split_assignment(rest, position);
    return o;
  }
  const auto eq = rest.find('=');
  o.key = trim_blanks(rest.substr(0, eq));
  o.has_value = eq != std::string::npos;
  if (o.has_value) o.value = trim_blanks(rest.substr(eq + 1));
  if (o.key.empty())
    throw ConfigError(where_on_command_line(position),
                      fmt::format("override '{}' names no key (e.g. ~train.max_steps)", text));
  return o;
}

}  // namespace

NodePtr compose_file(const std::string& path, std::string conf_dir) {
  if (conf_dir.empty()) conf_dir = conf_dir_for(path);
  return compose_with(path, conf_dir, {});
}

NodePtr compose(const std::string& path, const std::vector<std::string>& overrides, std::string conf_dir) {
  if (conf_dir.empty()) conf_dir = conf_dir_for(path);
  std::vector<Choice> choices;
  std::vector<std::pair<std::string, int>> fields;
  int position = 1;
  for (const auto& o : overrides) {
    const auto ov = parse_override(o, position);
    if (ov.key.find('.') == std::string::npos && is_group(conf_dir, ov.key))
      choices.push_back({ov.key, trim_blanks(ov.value), where_on_command_line(position), ov.op});
    else
      fields.emplace_back(o, position);
    ++position;
  }
  auto root = compose_with(path, conf_dir, choices);
  for (const auto& [o, pos] : fields) apply_override(root, o, conf_dir, pos);
  return root;
}

namespace {

// The node at dotted `key` and the map holding it; nulls when a segment is missing.
std::pair<NodePtr, NodePtr> find_dotted(const NodePtr& root, const std::string& key) {
  NodePtr parent = root, cur = root;
  size_t start = 0;
  while (true) {
    auto dot = key.find('.', start);
    auto part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur || cur->kind != ConfigNode::Kind::kMap) return {nullptr, nullptr};
    parent = cur;
    cur = cur->get(part);
    if (dot == std::string::npos) return {parent, cur};
    start = dot + 1;
  }
}

std::string last_segment(const std::string& key) {
  auto dot = key.rfind('.');
  return dot == std::string::npos ? key : key.substr(dot + 1);
}

}  // namespace

void apply_override(NodePtr& root, const std::string& assignment, const std::string& conf_dir, int position) {
  std::string where = where_on_command_line(position);
  const auto ov = parse_override(assignment, position);
  const std::string& key = ov.key;
  const std::string& value = ov.value;
  if (ov.op == Op::kDelete) {
    auto [parent, node] = find_dotted(root, key);
    if (!node)
      throw ConfigError(where, fmt::format("~{}: there is no key '{}' to delete (the experiment file and its "
                                           "groups do not set it; a code default cannot be deleted, only set)",
                                           key, key));
    if (ov.has_value) {
      const std::string& want = value;
      if (node->kind != ConfigNode::Kind::kScalar || node->scalar != want)
        throw ConfigError(where, fmt::format("~{}={}: '{}' holds {}, not {}", key, want, key,
                                             node->kind == ConfigNode::Kind::kScalar ? "'" + node->scalar + "'"
                                                                                     : "a list or map",
                                             want));
    }
    const auto seg = last_segment(key);
    parent->map.erase(std::remove_if(parent->map.begin(), parent->map.end(),
                                     [&](const auto& kv) { return kv.first == seg; }),
                      parent->map.end());
    return;
  }
  if (ov.op == Op::kAdd && find_dotted(root, key).second)
    throw ConfigError(where, fmt::format("+{}: the key already exists; write {}=... to change it (or ++{}=... to "
                                         "add or change it)",
                                         key, key, key));
  if (key.find('.') == std::string::npos && is_group(conf_dir, key)) {
    // A group choice replaces the whole group, in its place, rather than merging into it.
    root->set(key, load_group(conf_dir, key, trim_blanks(value), where));
    return;
  }
  NodePtr v = parse_yaml_string(value, "<command line>");
  v->file = "<command line>";
  v->line = 1;
  v->col = position;
  NodePtr cur = root;
  size_t start = 0;
  while (true) {
    auto dot = key.find('.', start);
    std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) throw ConfigError(where, fmt::format("empty key segment in '{}'", key));
    if (dot == std::string::npos) {
      auto existing = cur->get(part);
      if (existing && existing->kind == ConfigNode::Kind::kMap && v->kind == ConfigNode::Kind::kMap)
        merge_into(existing, v);
      else
        cur->set(part, v);
      return;
    }
    auto next = cur->get(part);
    if (!next || next->kind != ConfigNode::Kind::kMap) {
      next = std::make_shared<ConfigNode>();
      next->kind = ConfigNode::Kind::kMap;
      next->file = "<command line>";
      next->line = 1;
      next->col = position;
      cur->set(part, next);
    }
    cur = next;
    start = dot + 1;
  }
}

}  // namespace lrb
