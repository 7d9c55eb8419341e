#include "framework/cells/registry.hpp"

#include "framework/util/error.hpp"
#include "framework/util/suggest.hpp"

namespace cellzoo::cells {

void CellRegistry::add(CellEntry entry) {
  const std::string name = entry.info.name;
  if (name.empty()) throw Error("cell registered without a name");
  if (!entries_.emplace(name, std::move(entry)).second)
    throw Error("cell '" + name + "' is registered twice");
}

void CellRegistry::add_resolver(std::string prefix, Resolver resolver) {
  resolvers_.emplace_back(std::move(prefix), std::move(resolver));
}

bool CellRegistry::contains(std::string_view name) const {
  if (entries_.find(name) != entries_.end()) return true;
  for (const auto& [prefix, _] : resolvers_)
    if (name.starts_with(prefix)) return true;
  return false;
}

CellEntry CellRegistry::get(std::string_view name) const {
  if (auto it = entries_.find(name); it != entries_.end()) return it->second;
  for (const auto& [prefix, resolve] : resolvers_)
    if (name.starts_with(prefix)) return resolve(name);
  std::string known;
  for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
  std::string hint = "registered cells: " + known;
  for (const auto& [prefix, _] : resolvers_) hint += "; or " + prefix + "...";
  throw Error("unknown cell '" + std::string(name) + "'" + did_you_mean(std::string(name), names()),
              hint);
}

std::vector<std::string> CellRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : entries_) out.push_back(name);
  return out;
}

}  // namespace cellzoo::cells
