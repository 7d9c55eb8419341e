// top_architectures(): the latest fitness of every complete candidate, ranked.
#include "framework/analysis/top_architectures.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <tuple>

#include "framework/util/error.hpp"

namespace cellzoo::analysis {
namespace {

// `population = N` of the [evolution] section of a spec text (100 when absent, the
// search's default).
std::int64_t population_size(const std::string& spec_text) {
  const auto section = spec_text.find("\n[evolution]\n");
  if (section == std::string::npos) return 100;
  const auto key = spec_text.find("\npopulation = ", section);
  if (key == std::string::npos) return 100;
  const auto next = spec_text.find("\n[", section + 1);
  if (next != std::string::npos && next < key) return 100;
  return std::strtoll(spec_text.c_str() + key + 14, nullptr, 10);
}

}  // namespace

std::vector<Architecture> top_architectures(const std::string& path,
                                            const store::ResultsSnapshot& file) {
  const auto& rows = file.candidates;
  if (rows.empty())
    throw Error("'" + path + "' has no /candidates: it is not an evolutionary search",
                "cellzoo top reads files of specs with search = evolution; compare the cells "
                "of other sweeps with cellzoo report");
  std::map<std::string, std::string> texts;
  for (const auto& c : file.cells) texts.emplace(c.name, c.text);
  std::map<std::string, std::int64_t> runs;
  for (const auto& r : file.runs) ++runs[r.cell];

  // Rows in (shard, generation, index) order, so later evaluations overwrite earlier ones.
  std::vector<const store::CandidateRow*> order;
  for (const auto& r : rows) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    return std::tie(a->shard, a->generation, a->index) <
           std::tie(b->shard, b->generation, b->index);
  });
  std::map<std::pair<std::int64_t, std::string>, Architecture> by_cell;
  std::vector<std::pair<std::int64_t, std::string>> first_seen;
  for (const auto* r : order) {
    if (r->hash.empty() || r->status == "duplicate") continue;
    const auto key = std::make_pair(r->shard, r->hash);
    auto [it, fresh] = by_cell.try_emplace(key);
    Architecture& a = it->second;
    if (fresh) {
      first_seen.push_back(key);
      a.name = r->name;
      a.hash = r->hash;
      a.parent_hash = r->parent_hash;
      a.shard = r->shard;
      a.generation = r->generation;
      const auto t = texts.find(r->name);
      a.text = t == texts.end() ? "" : t->second;
      a.runs = runs[r->name];
    }
    ++a.evaluations;
    a.fitness = r->fitness;
  }
  std::vector<Architecture> out;
  for (const auto& key : first_seen) {
    const Architecture& a = by_cell.at(key);
    if (!std::isnan(a.fitness)) out.push_back(a);
  }
  std::stable_sort(out.begin(), out.end(), [](const Architecture& a, const Architecture& b) {
    return a.fitness > b.fitness;
  });
  const std::int64_t population = population_size(file.meta.spec_text);
  std::map<std::int64_t, std::int64_t> ranked;  // per shard
  for (auto& a : out) a.in_population = ranked[a.shard]++ < population;
  return out;
}

std::string format_architectures(const std::vector<Architecture>& top, std::size_t n) {
  std::string out;
  char buf[512];
  for (std::size_t i = 0; i < top.size() && i < n; ++i) {
    const Architecture& a = top[i];
    std::snprintf(buf, sizeof buf,
                  "#%zu  fitness %.4f  %s  (shard %lld, generation %lld, %lld evaluation%s, %lld "
                  "runs%s%s%s)\n",
                  i + 1, a.fitness, a.name.c_str(), static_cast<long long>(a.shard),
                  static_cast<long long>(a.generation), static_cast<long long>(a.evaluations),
                  a.evaluations == 1 ? "" : "s", static_cast<long long>(a.runs),
                  a.in_population ? ", in the population" : "",
                  a.parent_hash.empty() ? "" : ", parent ",
                  a.parent_hash.empty() ? "" : a.parent_hash.c_str());
    out += buf;
    std::size_t start = 0;
    while (start < a.text.size()) {
      const auto nl = std::min(a.text.find('\n', start), a.text.size());
      out += "    " + a.text.substr(start, nl - start) + "\n";
      start = nl + 1;
    }
    out += "\n";
  }
  return out;
}

}  // namespace cellzoo::analysis
