// Spec -> runs: sampling (random search), grid products, run keys, labels and sharding.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <set>

#include "framework/sweep/evolution_options.hpp"
#include "framework/sweep/spec.hpp"
#include "framework/sweep/spec_text.hpp"
#include "framework/train/hyperparameters.hpp"
#include "framework/util/error.hpp"
#include "framework/util/random.hpp"

namespace cellzoo::sweep {
namespace {

// A 128-bit integer (a GCC and Clang extension, so marked for -Wpedantic).
__extension__ typedef __int128 Int128;

// A sweep larger than this is almost surely a typo in a grid (and would not fit anyway).
constexpr std::int64_t kMaxRuns = 100'000'000;

std::int64_t grid_points(const Spec& spec) {
  std::int64_t points = 1;
  for (const auto& [name, dim] : spec.space) {
    if (dim.is_distribution()) continue;  // drawn per run, not a grid axis
    points *= static_cast<std::int64_t>(dim.values.size());
    if (points > kMaxRuns)
      fail(dim.origin, "the grid has more than " + std::to_string(kMaxRuns) + " points",
           "shorten the [space] lists");
  }
  return points;
}

std::string sample(const Dimension& d, Rng& rng) {
  using K = Dimension::Kind;
  switch (d.kind) {
    case K::constant:
      return d.values.at(0);
    case K::grid:
    case K::choice:
      return d.values.at(rng.below(d.values.size()));
    case K::uniform:
      return format_number(std::clamp(rng.uniform(d.lo, d.hi), d.lo, d.hi));
    case K::loguniform:
      return format_number(
          std::clamp(std::exp(rng.uniform(std::log(d.lo), std::log(d.hi))), d.lo, d.hi));
    case K::int_uniform:
      return format_number(static_cast<double>(
          rng.between(static_cast<std::int64_t>(d.lo), static_cast<std::int64_t>(d.hi))));
    case K::int_loguniform: {
      // floor of a log-uniform real on [lo, hi + 1): integer k has mass log((k+1)/k).
      const double x = std::exp(rng.uniform(std::log(d.lo), std::log(d.hi + 1)));
      return format_number(std::clamp(std::floor(x), d.lo, d.hi));
    }
    case K::one_minus_loguniform: {
      const double x =
          std::clamp(std::exp(rng.uniform(std::log(d.lo), std::log(d.hi))), d.lo, d.hi);
      return format_number(1.0 - x);
    }
  }
  return {};
}

// Dimension NAME's value from its own stream of `draw_seed`: adding a dimension leaves the
// others' values unchanged.
std::string draw(const Dimension& d, const std::string& name, std::uint64_t draw_seed) {
  Rng rng(derive_seed(draw_seed, name));
  return sample(d, rng);
}

std::string origin_of(const Spec& spec, const std::string& key) {
  if (auto it = spec.space.find(key); it != spec.space.end()) return it->second.origin;
  if (auto it = spec.fixed.find(key); it != spec.fixed.end()) return it->second.origin;
  if (key.rfind("task.", 0) == 0)
    if (auto it = spec.task_options.find(key.substr(5)); it != spec.task_options.end())
      return it->second.origin;
  return spec.source;
}

// train::resolve(run.settings): validates them with the training engine's table, and
// reports a bad value at the spec line it came from.
train::TrainConfig resolve_settings(const Spec& spec, const RunSpec& run) {
  try {
    return train::resolve(run.settings);
  } catch (const Error& whole) {
    for (const auto& [key, value] : run.settings) {
      if (key.rfind("task.", 0) == 0) continue;
      try {
        (void)train::resolve({{key, value}});
      } catch (const Error& e) {
        fail(origin_of(spec, key), std::string(e.what()) + " (run " + run.label + ")", e.hint());
      }
    }
    fail(spec.source, std::string(whole.what()) + " (run " + run.label + ")", whole.hint());
  }
}

// Short form of a value for labels: integers whole, other numbers with 3 significant digits.
std::string label_value(const std::string& text) {
  const auto v = parse_number(text);
  if (!v) return text;
  char buf[32];
  if (*v == std::floor(*v) && std::fabs(*v) < 1e15)
    std::snprintf(buf, sizeof buf, "%.0f", *v);
  else
    std::snprintf(buf, sizeof buf, "%.3g", *v);
  return buf;
}

}  // namespace

std::map<std::string, std::string> draw_settings(const Spec& spec, std::uint64_t draw_seed) {
  std::map<std::string, std::string> values;
  for (const auto& [name, dim] : spec.space) values[name] = draw(dim, name, draw_seed);
  return values;
}

std::int64_t runs_per_cell(const Spec& spec) {
  if (spec.search == Search::random) return spec.trials;
  const auto points = grid_points(spec);
  if (spec.trials > kMaxRuns / points)
    fail(spec.origins.count("trials") ? spec.origins.at("trials") : spec.source,
         "the grid times trials gives more than " + std::to_string(kMaxRuns) + " runs",
         "lower trials or shorten the [space] lists");
  return points * spec.trials;
}

std::int64_t run_count(const Spec& spec) {
  if (spec.search == Search::evolution) return evolution_run_bound(spec);
  const auto per_cell = runs_per_cell(spec);
  const auto cells = static_cast<std::int64_t>(spec.cells.size());
  if (cells > 0 && per_cell > kMaxRuns / cells)
    fail(spec.source, "the spec expands to more than " + std::to_string(kMaxRuns) + " runs",
         "lower trials, cells or the grid");
  return cells * per_cell;
}

std::vector<HyperColumn> hyper_columns(const Spec& spec) {
  using Kind = HyperColumn::Kind;
  std::vector<HyperColumn> columns;
  for (const auto& [name, dim] : spec.space)
    columns.push_back({name, dim.is_numeric() ? Kind::number : Kind::text});
  for (const auto& [name, value] : spec.fixed)
    columns.push_back({name, parse_number(value.text) ? Kind::number : Kind::text});
  for (const auto& [name, value] : spec.task_options)
    columns.push_back({"task." + name, parse_number(value.text) ? Kind::number : Kind::text});
  if (has_param_budget(spec)) {  // the solved hidden, right after the budget
    const auto budget = std::find_if(columns.begin(), columns.end(),
                                     [](const HyperColumn& c) { return c.name == "param_budget"; });
    columns.insert(budget + 1, {"hidden", Kind::number});
  }
  return columns;
}

std::vector<RunSpec> expand(const Spec& spec) {
  const RunEnumerator enumerator(spec);
  std::vector<RunSpec> runs;
  runs.reserve(static_cast<std::size_t>(enumerator.size()));
  enumerator.visit(0, enumerator.size(), [&](const RunSpec& run) { runs.push_back(run); });
  return runs;
}

// ---- RunEnumerator -------------------------------------------------------------------

RunEnumerator::RunEnumerator(const Spec& spec) : spec_(spec) {
  if (spec.search == Search::evolution)
    throw Error("an evolutionary search (search = evolution) has no run list to enumerate",
                "its runs depend on earlier results; run it with 'cellzoo sweep'");
  per_cell_ = sweep::runs_per_cell(spec_);
  total_ = run_count(spec_);
  points_ = spec_.search == Search::grid ? grid_points(spec_) : 1;
  columns_ = hyper_columns(spec_);
  std::map<std::string, Slot> slots;  // the settings' keys: fixed, [space], task options
  for (const auto& [k, v] : spec_.fixed) slots[k] = Slot{k, v.text, -1};
  for (const auto& [name, dim] : spec_.space) {
    slots[name] = Slot{name, "", static_cast<int>(dims_.size())};
    dims_.emplace_back(name, dim);
  }
  for (const auto& [k, v] : spec_.task_options) slots["task." + k] = Slot{"task." + k, v.text, -1};
  for (auto& [key, slot] : slots) slots_.push_back(std::move(slot));
}

void RunEnumerator::range_check(std::int64_t run_id) const {
  if (run_id < 0 || run_id >= total_)
    throw Error("run " + std::to_string(run_id) + " is outside the spec's runs 0.." +
                    std::to_string(total_ - 1),
                "run ids count from 0 in the order of expand(): cell-major, then trial");
}

const std::string& RunEnumerator::cell_of(std::int64_t run_id) const {
  range_check(run_id);
  return spec_.cells[static_cast<std::size_t>(run_id / per_cell_)];
}

std::int64_t RunEnumerator::trial_of(std::int64_t run_id) const {
  range_check(run_id);
  return run_id % per_cell_;
}

// The [space] values of trial `trial` (the same for every cell), one per dims_.
std::vector<std::string> RunEnumerator::trial_values(std::int64_t trial) const {
  std::vector<std::string> values(dims_.size());
  const auto trial_seed = derive_seed(spec_.seed, "trial/" + std::to_string(trial));
  if (spec_.search == Search::random) {
    for (std::size_t d = 0; d < dims_.size(); ++d)
      values[d] = draw(dims_[d].second, dims_[d].first, trial_seed);
    return values;
  }
  // Grid: trials 0..points-1 are one full pass over the grid, the next ones repeat it with
  // new seeds. Mixed radix over the sorted names of the lists, the last name varying
  // fastest. Distributions are drawn per run index as in random search (paired across
  // cells): a grid over task.length with a random learning rate at each point.
  auto index = trial % points_;
  for (std::size_t d = dims_.size(); d-- > 0;) {
    const auto& [name, dim] = dims_[d];
    if (dim.is_distribution()) {
      values[d] = draw(dim, name, trial_seed);
      continue;
    }
    const auto n = static_cast<std::int64_t>(dim.values.size());
    values[d] = dim.values.at(static_cast<std::size_t>(index % n));
    index /= n;
  }
  return values;
}

std::map<std::string, std::string> RunEnumerator::trial_settings(std::int64_t trial) const {
  const auto values = trial_values(trial);
  std::map<std::string, std::string> settings;
  for (const auto& slot : slots_)
    settings.emplace_hint(settings.end(), slot.key,
                          slot.dim < 0 ? slot.text : values[static_cast<std::size_t>(slot.dim)]);
  return settings;
}

std::string RunEnumerator::run_key(std::int64_t run_id) const {
  const auto& cell = cell_of(run_id);
  const auto trial = run_id % per_cell_;
  const auto values = trial_values(trial);
  const auto seed = derive_seed(spec_.seed, cell + "/trial/" + std::to_string(trial));
  std::string key_text =
      "cell=" + cell + "\ntask=" + spec_.task + "\nseed=" + std::to_string(seed) + "\n";
  for (const auto& slot : slots_)
    key_text.append(slot.key)
        .append("=")
        .append(slot.dim < 0 ? slot.text : values[static_cast<std::size_t>(slot.dim)])
        .append("\n");
  return hash_hex128(key_text);
}

RunSpec RunEnumerator::describe(std::int64_t run_id) const {
  RunSpec run;
  run.run_id = run_id;
  run.cell = cell_of(run_id);
  run.task = spec_.task;
  run.trial = run_id % per_cell_;
  run.seed = derive_seed(spec_.seed, run.cell + "/trial/" + std::to_string(run.trial));
  run.settings = trial_settings(run.trial);
  for (const auto& [k, v] : run.settings)
    if (k.rfind("task.", 0) == 0)
      run.task_options.emplace_hint(run.task_options.end(), k.substr(5), v);
  for (const auto& c : columns_) {
    const auto it = run.settings.find(c.name);
    if (it == run.settings.end())  // hidden under a budget: apply_param_budget solves it
      run.hyper[c.name] = std::numeric_limits<double>::quiet_NaN();
    else if (c.kind == HyperColumn::Kind::number)
      run.hyper[c.name] = *parse_number(it->second);
    else
      run.hyper[c.name] = it->second;
  }
  run.run_key = make_run_key(run.cell, spec_.task, run.seed, run.settings);
  run.label = run.cell;
  for (const auto& [name, dim] : dims_)
    run.label += "/" + name + ":" + label_value(run.settings.at(name));
  run.label += "/trial:" + std::to_string(run.trial);
  return run;
}

RunSpec RunEnumerator::at(std::int64_t run_id) const {
  RunSpec run = describe(run_id);
  run.config = resolve_settings(spec_, run);
  return run;
}

void RunEnumerator::check(std::int64_t begin, std::int64_t end) const {
  // Values that are the same in many trials (fixed, task options, grid and choice values)
  // are checked once; drawn numbers once per trial. resolve() checks each value on its own,
  // so a run is valid when each of its values is; the first run with a bad one is then
  // resolved to throw expand()'s error.
  std::set<std::pair<std::string, std::string>> good;
  const auto ok = [&](const std::string& key, const std::string& value, bool cache) {
    if (cache && good.count({key, value})) return true;
    if (!train::hyperparameter_value_ok(key, value)) return false;
    if (cache) good.emplace(key, value);
    return true;
  };
  const auto trial_ok = [&](std::int64_t trial) {
    const auto values = trial_values(trial);
    for (const auto& slot : slots_) {
      if (slot.key.rfind("task.", 0) == 0) continue;  // the task checks its options
      if (slot.dim < 0) {
        if (!ok(slot.key, slot.text, true)) return false;
        continue;
      }
      const auto d = static_cast<std::size_t>(slot.dim);
      if (!ok(slot.key, values[d], !dims_[d].second.is_distribution())) return false;
    }
    return true;
  };
  visit_trials(begin, end, [&](std::int64_t i, std::int64_t trial) {
    if (!trial_ok(trial)) (void)at(i);  // throws expand()'s error for run i
  });
}

Shard parse_shard(std::string_view text) {
  const std::string hint = "write --shard K/N with 0 <= K < N, e.g. --shard 0/4";
  const auto slash = text.find('/');
  auto number = [&](std::string_view s, std::int64_t& out) {
    const char* end = s.data() + s.size();
    auto [p, ec] = std::from_chars(s.data(), end, out);
    return !s.empty() && ec == std::errc() && p == end;
  };
  Shard shard;
  if (slash == std::string_view::npos || !number(text.substr(0, slash), shard.index) ||
      !number(text.substr(slash + 1), shard.count))
    throw Error("malformed shard '" + std::string(text) + "'", hint);
  (void)shard_range(0, shard.index, shard.count);  // range checks
  return shard;
}

std::pair<std::int64_t, std::int64_t> shard_range(std::int64_t total, std::int64_t index,
                                                  std::int64_t count) {
  if (count < 1)
    throw Error("shard count " + std::to_string(count) + " must be at least 1",
                "write --shard K/N with 0 <= K < N, e.g. --shard 0/4");
  if (index < 0 || index >= count)
    throw Error(
        "shard index " + std::to_string(index) + " is outside 0.." + std::to_string(count - 1),
        "shards are numbered from 0: --shard 0/" + std::to_string(count) + " to --shard " +
            std::to_string(count - 1) + "/" + std::to_string(count));
  if (total < 0) throw Error("negative run count " + std::to_string(total));
  // 128-bit products: total * index cannot overflow.
  const auto bound = [&](std::int64_t k) {
    return static_cast<std::int64_t>(static_cast<Int128>(total) * k / count);
  };
  return {bound(index), bound(index + 1)};
}

}  // namespace cellzoo::sweep
