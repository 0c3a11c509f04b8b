// One registry template for every plugin kind. A plugin is one file plus one LRB_REGISTER line.
// Base declares: kKind (e.g. "attack"), Ptr (owning pointer) and Factory (std::function returning Ptr).
#pragma once
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/config.h"
#include "core/errors.h"

namespace lrb {

// Set by the plugin loader (core/plugin.cpp) while a plugin's static registrations run inside dlopen.
namespace plugin_load {
// The loading plugin's file name; "" while no plugin is loading (built-in registrations).
const std::string& current();
// A key clash inside dlopen cannot be thrown (it would unwind through the dynamic loader): it is recorded
// here and the loader refuses the plugin once dlopen returns.
void record_clash(std::string message);
}  // namespace plugin_load

template <class Base>
class Registry {
 public:
  using Factory = typename Base::Factory;
  struct Entry {
    Factory make;
    std::string summary;
    std::string origin;  // the plugin file that registered it; "" for built-ins
  };

  // Built on first use, so registration order across translation units does not matter.
  static Registry& get() {
    static Registry r;
    return r;
  }

  // A second registration of a key is a programming error: thrown for built-ins, recorded for plugins.
  bool add(const std::string& key, Factory make, std::string summary) {
    const std::string& origin = plugin_load::current();
    auto [it, fresh] = table_.try_emplace(key, Entry{std::move(make), std::move(summary), origin});
    if (fresh) return true;
    auto msg = fmt::format("{} '{}' is already registered by {}", Base::kKind, key,
                           it->second.origin.empty() ? std::string("lrbench") : it->second.origin);
    if (origin.empty()) throw std::logic_error(msg);
    plugin_load::record_clash(std::move(msg));
    return false;
  }

  bool contains(const std::string& key) const { return table_.count(key) > 0; }

  // The factory for `key`; an unknown key is a ConfigError at `where` listing the known keys.
  const Entry& at(const std::string& key, const std::string& where) const {
    auto it = table_.find(key);
    if (it == table_.end()) {
      auto known = keys();
      throw ConfigError(where, fmt::format("unknown {} '{}' (known: {}){}", Base::kKind, key, fmt::join(known, ", "),
                                           did_you_mean(key, known)));
    }
    return it->second;
  }

  // Builds the plugin named by cfg's `name` key with the rest of cfg as its options.
  template <class... Args>
  typename Base::Ptr make(const Config& cfg, Args&&... args) const {
    auto name = cfg.template require<std::string>("name");
    return at(name, cfg.where("name")).make(cfg, std::forward<Args>(args)...);
  }

  std::vector<std::string> keys() const {
    std::vector<std::string> out;
    for (const auto& kv : table_) out.push_back(kv.first);
    return out;
  }
  const std::map<std::string, Entry>& entries() const { return table_; }

 private:
  Registry() = default;
  std::map<std::string, Entry> table_;  // ordered: listings and docs stay stable
};

#define LRB_CONCAT_INNER(a, b) a##b
#define LRB_CONCAT(a, b) LRB_CONCAT_INNER(a, b)
// LRB_REGISTER(Base, "key", "one-line summary", factory): factory matches Base::Factory.
#define LRB_REGISTER(Base, key, summary, ...)                                                       \
  [[maybe_unused]] static const bool LRB_CONCAT(lrb_registered_, __COUNTER__) =                     \
      ::lrb::Registry<Base>::get().add(key, __VA_ARGS__, summary)

}  // namespace lrb
