// Spec parsing, validation, overrides and the canonical text.
//
// The INI reader is our own rather than Boost.Program_options' config-file parser because
// every error must carry its line number, and because [space] values (grid lists,
// distributions) are not plain option values.
#include "framework/sweep/spec.hpp"

#include <algorithm>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "framework/cells/registry.hpp"
#include "framework/sweep/evolution_options.hpp"
#include "framework/sweep/spec_text.hpp"
#include "framework/train/hyperparameters.hpp"
#include "framework/util/error.hpp"
#include "framework/util/random.hpp"

namespace cellzoo::sweep {
namespace {

constexpr const char* kSyntaxHint = "see experiments/README.md for the spec grammar";

const std::vector<std::string> kTopLevelKeys = {"name",    "description", "task",   "cells",
                                                "trials",  "seed",        "search", "out",
                                                "plugins", "strict_build"};
const std::vector<std::string> kSections = {"task", "fixed", "space", "evolution"};

bool valid_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

// Checks that `name` is a training hyperparameter, with the training table's own message.
void check_hyperparameter_name(const std::string& name, const std::string& origin) {
  const auto& table = train::hyperparameter_table();
  const bool known =
      std::any_of(table.begin(), table.end(),
                  [&](const train::HyperparameterSpec& s) { return s.name == name; });
  if (!known) {
    std::vector<std::string> names;
    for (const auto& s : table) names.push_back(s.name);
    fail(origin, "unknown hyperparameter '" + name + "'; valid names: " + join(names, ", "),
         "see 'cellzoo train --help' for their meanings; task options go in [task]");
  }
}

std::int64_t parse_trials(const std::string& value, const std::string& origin) {
  std::int64_t n = 0;
  const char* end = value.data() + value.size();
  auto [p, ec] = std::from_chars(value.data(), end, n);
  if (ec != std::errc() || p != end)
    fail(origin, "trials must be a whole number, got '" + value + "'", "e.g. trials = 20");
  if (n < 1) fail(origin, "trials must be at least 1, got " + value, "e.g. trials = 20");
  return n;
}

std::uint64_t parse_seed(const std::string& value, const std::string& origin) {
  std::uint64_t n = 0;
  const char* end = value.data() + value.size();
  auto [p, ec] = std::from_chars(value.data(), end, n);
  if (ec != std::errc() || p != end)
    fail(origin, "seed must be a non-negative whole number below 2^64, got '" + value + "'",
         "e.g. seed = 1");
  return n;
}

// Sets one top-level key (shared by the parser and --set).
void set_top_level(Spec& spec, const std::string& key, const std::string& value,
                   const std::string& origin) {
  if (key == "name") {
    if (!valid_key(value))
      fail(origin, "name '" + value + "' may only use letters, digits, '_', '-' and '.'",
           "the name becomes part of file names (results/<name>.h5)");
    spec.name = value;
  } else if (key == "description") {
    spec.description = value;
  } else if (key == "task") {
    if (value.empty() || value.find_first_of(" \t,") != std::string::npos)
      fail(origin, "task must be one task name, got '" + value + "'",
           "e.g. task = adding; options go in the [task] section");
    spec.task = value;
  } else if (key == "cells") {
    auto cells = split_list(value, origin, "cells");
    std::set<std::string> seen;
    for (const auto& c : cells)
      if (!seen.insert(c).second)
        fail(origin, "cell '" + c + "' is listed twice", "list each cell once");
    spec.cells = std::move(cells);
  } else if (key == "trials") {
    spec.trials = parse_trials(value, origin);
  } else if (key == "seed") {
    spec.seed = parse_seed(value, origin);
  } else if (key == "search") {
    if (value == "random")
      spec.search = Search::random;
    else if (value == "grid")
      spec.search = Search::grid;
    else if (value == "evolution")
      spec.search = Search::evolution;
    else
      fail(origin, "search must be 'random', 'grid' or 'evolution', got '" + value + "'",
           "random samples each trial; grid takes the product of the [space] lists; "
           "evolution searches architectures ([evolution] section)");
  } else if (key == "out") {
    spec.out = value;
  } else if (key == "plugins") {
    auto plugins = split_list(value, origin, "plugins");
    std::set<std::string> seen;
    for (const auto& p : plugins)
      if (!seen.insert(p).second)
        fail(origin, "plugin '" + p + "' is listed twice", "list each plugin once");
    spec.plugins = std::move(plugins);
  } else if (key == "strict_build") {
    if (value != "true" && value != "false")
      fail(origin, "strict_build must be true or false, got '" + value + "'",
           "strict_build = true refuses to mix runs of different builds or processors in one "
           "file");
    spec.strict_build = value == "true";
  } else {
    fail(origin, "unknown key '" + key + "'",
         "top-level keys are " + join(kTopLevelKeys, ", ") +
             "; hyperparameters go in [fixed] or [space], task options in [task]");
  }
  spec.origins[key] = origin;
}

// The spec line that sets hyperparameter `name` ([fixed] or [space]), or "" when none does.
std::string hyper_origin(const Spec& spec, const std::string& name) {
  if (const auto it = spec.fixed.find(name); it != spec.fixed.end()) return it->second.origin;
  if (const auto it = spec.space.find(name); it != spec.space.end()) return it->second.origin;
  return "";
}

// param_budget solves hidden, so the two cannot both be set; the evolutionary search has
// no budget solver.
void check_param_budget(const Spec& spec) {
  const auto budget = hyper_origin(spec, "param_budget");
  const auto fixed = spec.fixed.find("param_budget");
  if (budget.empty() || (fixed != spec.fixed.end() && fixed->second.text == "none")) return;
  if (const auto hidden = hyper_origin(spec, "hidden"); !hidden.empty())
    fail(hidden,
         "hidden is set together with param_budget (" + budget +
             "): the budget solves hidden (the largest size whose model fits)",
         "remove hidden, or remove param_budget to give hidden yourself");
  if (spec.search == Search::evolution)
    fail(budget, "param_budget is for grid and random searches",
         "set hidden in an evolutionary search");
}

// Checks what only the whole spec can tell. `end_origin` locates errors about missing keys
// (the end of the top-level block, where they belong).
void validate(Spec& spec, const std::string& end_origin) {
  if (spec.name.empty())
    fail(end_origin, "missing 'name = ...'", "name the sweep, e.g. name = quickstart");
  if (spec.search == Search::evolution) {
    validate_evolution(spec, end_origin);  // evolution.cpp: its own rules for task and cells
  } else if (!spec.evolution.empty()) {
    fail(spec.evolution.begin()->second.origin, "[evolution] needs search = evolution",
         "add search = evolution, or remove the [evolution] section");
  }
  if (spec.task.empty() && spec.search != Search::evolution)
    fail(end_origin, "missing 'task = ...'", "e.g. task = adding (see 'cellzoo tasks')");
  if (spec.cells.empty())
    fail(end_origin, "missing 'cells = ...'", "e.g. cells = rnn, lstm, gru (see 'cellzoo cells')");
  for (const auto& [name, dim] : spec.space) {
    if (name.rfind("task.", 0) == 0) {
      // A searched task option (e.g. task.length = [25, 50, 100]): the task itself checks
      // the option's name and values when its data are built.
      const auto option = name.substr(5);
      if (spec.search == Search::evolution)
        fail(dim.origin, "task options cannot be searched in an evolutionary search",
             "give them fixed values in [task]; staged tasks use <task>.<option> keys there");
      if (spec.task_options.count(option))
        fail(dim.origin,
             "task option '" + option + "' is both in [task] (" +
                 spec.task_options.at(option).origin + ") and in [space]",
             "keep it in one place: [task] for a fixed value, [space] as task." + option +
                 " to search it");
    } else {
      check_hyperparameter_name(name, dim.origin);
    }
  }
  for (const auto& [name, value] : spec.fixed) check_hyperparameter_name(name, value.origin);
  check_param_budget(spec);
  (void)run_count(spec);  // throws if the grid is too large
}

std::string end_origin_of(const Spec& spec) {
  const auto it = spec.origins.find("");
  return it == spec.origins.end() ? spec.source : it->second;
}

}  // namespace

// ---- helpers shared with expand.cpp and evolution_options.cpp (spec_text.hpp) ---------

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string s;
  for (const auto& i : items) s += (s.empty() ? "" : sep) + i;
  return s;
}

void fail(const std::string& origin, const std::string& message, const std::string& hint) {
  throw Error(origin + ": " + message, hint);
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::optional<double> parse_number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  double v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || p != end || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string format_number(double v) {
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  (void)ec;  // 64 bytes always suffice for a double
  return std::string(buf, p);
}

std::string normalise_value(std::string_view text) {
  const auto t = trim(text);
  if (const auto v = parse_number(t)) return format_number(*v);
  return t;
}

std::vector<std::string> split_list(std::string_view text, const std::string& origin,
                                    const std::string& what) {
  std::vector<std::string> items;
  std::size_t start = 0;
  for (;;) {
    const auto comma = text.find(',', start);
    const auto item = trim(text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (item.empty())
      fail(origin, "empty item in the " + what + " list '" + std::string(text) + "'",
           "separate items with single commas, e.g. a, b, c");
    items.push_back(normalise_value(item));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return items;
}

Dimension parse_dimension(std::string_view raw, const std::string& origin) {
  const std::string v = trim(raw);
  Dimension d;
  d.origin = origin;
  if (v.empty()) fail(origin, "missing value", kSyntaxHint);
  if (v.front() == '[') {
    if (v.back() != ']')
      fail(origin, "grid list '" + v + "' has no closing ']'", "e.g. hidden = [32, 64, 128]");
    const auto inner = trim(std::string_view(v).substr(1, v.size() - 2));
    if (inner.empty())
      fail(origin, "empty grid '[]'", "give at least one value, e.g. [32, 64], or a constant");
    d.kind = Dimension::Kind::grid;
    d.values = split_list(inner, origin, "grid");
    return d;
  }
  // "1 - loguniform(a, b)": Greff's momentum, most mass near 1 - a.
  std::string call = v;
  bool one_minus = false;
  if (v.front() == '1') {
    const auto rest = trim(std::string_view(v).substr(1));
    if (!rest.empty() && rest.front() == '-') {
      const auto after = trim(std::string_view(rest).substr(1));
      if (!after.empty() && std::isalpha(static_cast<unsigned char>(after.front()))) {
        call = after;
        one_minus = true;
      }
    }
  }
  std::size_t n = 0;
  while (n < call.size() && (std::isalpha(static_cast<unsigned char>(call[n])) || call[n] == '_'))
    ++n;
  const auto after_name = trim(std::string_view(call).substr(n));
  const bool is_call = n > 0 && !after_name.empty() && after_name.front() == '(';
  if (!is_call) {
    if (one_minus)
      fail(origin, "'" + v + "': expected '1 - loguniform(a, b)'",
           "only loguniform can be subtracted from 1");
    d.kind = Dimension::Kind::constant;
    d.values = {normalise_value(v)};
    return d;
  }
  const std::string name = call.substr(0, n);
  if (after_name.back() != ')')
    fail(origin, "'" + v + "' has no closing ')'", "e.g. lr = loguniform(1e-4, 1e-1)");
  const auto args_text = trim(std::string_view(after_name).substr(1, after_name.size() - 2));
  static const std::vector<std::pair<std::string, Dimension::Kind>> kinds = {
      {"uniform", Dimension::Kind::uniform},
      {"loguniform", Dimension::Kind::loguniform},
      {"int_uniform", Dimension::Kind::int_uniform},
      {"int_loguniform", Dimension::Kind::int_loguniform},
      {"choice", Dimension::Kind::choice}};
  const auto k =
      std::find_if(kinds.begin(), kinds.end(), [&](const auto& e) { return e.first == name; });
  if (k == kinds.end())
    fail(origin, "unknown distribution '" + name + "'",
         "use uniform, loguniform, int_uniform, int_loguniform, choice, 1 - loguniform, or a "
         "grid list [a, b]");
  if (one_minus && k->second != Dimension::Kind::loguniform)
    fail(origin, "'" + v + "': only '1 - loguniform(a, b)' is supported",
         "e.g. momentum = 1 - loguniform(0.01, 1)");
  d.kind = one_minus ? Dimension::Kind::one_minus_loguniform : k->second;
  if (args_text.empty())
    fail(origin, name + "() needs arguments",
         d.kind == Dimension::Kind::choice ? "e.g. choice(adam, sgd)" : "e.g. " + name + "(1, 10)");
  auto args = split_list(args_text, origin, name);
  if (d.kind == Dimension::Kind::choice) {
    d.values = std::move(args);
    return d;
  }
  if (args.size() != 2)
    fail(origin, name + "() takes two bounds (low, high), got " + std::to_string(args.size()),
         "e.g. " + name + "(1, 10)");
  const auto lo = parse_number(args[0]), hi = parse_number(args[1]);
  if (!lo || !hi)
    fail(origin, name + "() bounds must be numbers, got '" + args_text + "'",
         "e.g. " + name + "(1, 10)");
  d.lo = *lo;
  d.hi = *hi;
  if (d.lo > d.hi)
    fail(origin, name + "(" + args_text + "): the low bound is above the high bound",
         "write the smaller bound first");
  const bool integer =
      d.kind == Dimension::Kind::int_uniform || d.kind == Dimension::Kind::int_loguniform;
  if (integer && (d.lo != std::floor(d.lo) || d.hi != std::floor(d.hi) || std::fabs(d.lo) > 9e15 ||
                  std::fabs(d.hi) > 9e15))
    fail(origin, name + "(" + args_text + "): the bounds must be whole numbers",
         "e.g. int_loguniform(16, 256); use loguniform for real values");
  const bool log =
      d.kind == Dimension::Kind::loguniform || d.kind == Dimension::Kind::one_minus_loguniform;
  if (log && d.lo <= 0)
    fail(origin, name + "(" + args_text + "): a log-uniform low bound must be positive",
         "e.g. loguniform(1e-4, 1e-1)");
  if (d.kind == Dimension::Kind::int_loguniform && d.lo < 1)
    fail(origin, name + "(" + args_text + "): the low bound must be at least 1",
         "e.g. int_loguniform(16, 256)");
  return d;
}

// ---- Dimension -------------------------------------------------------------------------

bool Dimension::is_distribution() const {
  return kind != Kind::constant && kind != Kind::grid;
}

bool Dimension::is_numeric() const {
  if (kind != Kind::constant && kind != Kind::grid && kind != Kind::choice) return true;
  return std::all_of(values.begin(), values.end(),
                     [](const std::string& v) { return parse_number(v).has_value(); });
}

std::string Dimension::text() const {
  // Built by appending: GCC 12 warns (-Wrestrict, a false positive) on "literal" + string.
  std::string name;
  switch (kind) {
    case Kind::constant:
      return values.at(0);
    case Kind::grid:
      return std::string("[").append(join(values, ", ")).append("]");
    case Kind::choice:
      return std::string("choice(").append(join(values, ", ")).append(")");
    case Kind::uniform:
      name = "uniform";
      break;
    case Kind::loguniform:
      name = "loguniform";
      break;
    case Kind::int_uniform:
      name = "int_uniform";
      break;
    case Kind::int_loguniform:
      name = "int_loguniform";
      break;
    case Kind::one_minus_loguniform:
      name = "1 - loguniform";
      break;
  }
  return name.append("(")
      .append(format_number(lo))
      .append(", ")
      .append(format_number(hi))
      .append(")");
}

// ---- Spec ------------------------------------------------------------------------------

std::string output_path(const Spec& spec) {
  return spec.out.empty() ? "results/" + spec.name + ".h5" : spec.out;
}

std::vector<std::string> plugin_files(const Spec& spec) {
  namespace fs = std::filesystem;
  const bool from_file = !spec.source.empty() && spec.source.front() != '<';
  const fs::path dir = from_file ? fs::path(spec.source).parent_path() : fs::path();
  std::vector<std::string> out;
  for (const auto& p : spec.plugins)
    out.push_back(fs::absolute(fs::path(p).is_absolute() ? fs::path(p) : dir / p)
                      .lexically_normal()
                      .string());
  return out;
}

Spec parse_spec(std::string_view text, const std::string& source) {
  // A UTF-8 byte-order mark, which some editors write first, is not part of the text.
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  Spec spec;
  spec.source = source;
  std::string section;                      // "" = top level
  std::map<std::string, std::string> seen;  // "section.key" -> origin of the first one
  std::string end_origin;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto nl = text.find('\n', pos);
    const auto raw =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line_no;
    const std::string origin = source + ":" + std::to_string(line_no);
    // Comments: a line starting with # or ;, or one preceded by whitespace.
    std::string line(raw);
    for (std::size_t i = 0; i < line.size(); ++i) {
      if ((line[i] == '#' || line[i] == ';') &&
          (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
        line.resize(i);
        break;
      }
    }
    line = trim(line);
    if (line.empty()) continue;
    if (line.front() == '[') {
      if (line.back() != ']')
        fail(origin, "malformed section header '" + line + "'", "e.g. [space]");
      const auto name = trim(std::string_view(line).substr(1, line.size() - 2));
      if (std::find(kSections.begin(), kSections.end(), name) == kSections.end())
        fail(origin, "unknown section [" + name + "]",
             "sections are [task] (task options), [fixed] (fixed hyperparameters), "
             "[space] (searched hyperparameters) and [evolution] (search = evolution)");
      if (section.empty() && end_origin.empty()) end_origin = origin;
      section = name;
      if (!seen.emplace("[" + name + "]", origin).second)
        fail(origin,
             "section [" + name + "] appears twice (first at " + seen["[" + name + "]"] + ")",
             "merge the two sections");
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos)
      fail(origin, "expected 'key = value' or '[section]', got '" + line + "'", kSyntaxHint);
    const auto key = trim(std::string_view(line).substr(0, eq));
    const auto value = trim(std::string_view(line).substr(eq + 1));
    if (!valid_key(key))
      fail(origin, "malformed key '" + key + "'",
           "keys use letters, digits, '_', '-' and '.'; " + std::string(kSyntaxHint));
    if (value.empty() && key != "description")
      fail(origin, "'" + key + "' has no value", kSyntaxHint);
    // [fixed] and [space] share one namespace: a name may be fixed or searched, not both.
    const std::string scope = section == "space" ? "fixed" : section;
    const auto [it, fresh] = seen.emplace(scope + "." + key, origin);
    if (!fresh)
      fail(origin, "duplicate key '" + key + "' (first at " + it->second + ")",
           "give each key once; a hyperparameter is either in [fixed] or in [space]");
    if (section.empty())
      set_top_level(spec, key, value, origin);
    else if (section == "task")
      spec.task_options[key] = Value{value, origin};
    else if (section == "fixed")
      spec.fixed[key] = Value{normalise_value(value), origin};
    else if (section == "evolution")
      spec.evolution[key] = Value{normalise_value(value), origin};
    else
      spec.space[key] = parse_dimension(value, origin);
  }
  if (end_origin.empty()) end_origin = source + ":" + std::to_string(line_no);
  spec.origins[""] = end_origin;
  if (spec.name.empty() && source != "<text>") {
    // The file's stem: experiments/quickstart.ini -> quickstart.
    auto stem = source.substr(source.find_last_of('/') + 1);
    stem = stem.substr(0, stem.find('.'));
    if (valid_key(stem)) spec.name = stem;
  }
  validate(spec, end_origin);
  return spec;
}

Spec load_spec(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error("cannot read spec file '" + path + "'",
                "check the path; specs usually live in experiments/");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_spec(text.str(), path);
}

void apply_override(Spec& target, std::string_view assignment) {
  Spec spec = target;  // a failed override leaves the target untouched
  const std::string origin = "--set " + std::string(assignment);
  const auto eq = assignment.find('=');
  if (eq == std::string_view::npos)
    throw Error(origin + ": expected key=value", "e.g. --set trials=5 or --set space.hidden=64");
  const auto key = trim(assignment.substr(0, eq));
  const auto value = trim(assignment.substr(eq + 1));
  if (value.empty() && key != "description") throw Error(origin + ": missing value", kSyntaxHint);
  const auto dot = key.find('.');
  const std::string head = key.substr(0, dot);
  const std::string name = dot == std::string::npos ? "" : key.substr(dot + 1);
  if (dot != std::string::npos && (name.empty() || !valid_key(name)))
    throw Error(origin + ": malformed key '" + key + "'", "e.g. --set space.lr=0.01");
  if (dot == std::string::npos &&
      std::find(kTopLevelKeys.begin(), kTopLevelKeys.end(), key) != kTopLevelKeys.end()) {
    set_top_level(spec, key, value, origin);
  } else if (head == "space" && dot != std::string::npos) {
    spec.fixed.erase(name);
    if (name.rfind("task.", 0) == 0) spec.task_options.erase(name.substr(5));
    spec.space[name] = parse_dimension(value, origin);
  } else if (head == "fixed" && dot != std::string::npos) {
    spec.space.erase(name);
    spec.fixed[name] = Value{normalise_value(value), origin};
  } else if (head == "task" && dot != std::string::npos) {
    spec.space.erase("task." + name);
    spec.task_options[name] = Value{value, origin};
  } else if (head == "evolution" && dot != std::string::npos) {
    spec.evolution[name] = Value{normalise_value(value), origin};
  } else {
    throw Error(origin + ": unknown key '" + key + "'",
                "--set takes " + join(kTopLevelKeys, ", ") +
                    ", space.NAME, fixed.NAME, task.OPTION or evolution.KEY");
  }
  validate(spec, end_origin_of(spec));
  target = std::move(spec);
}

void check_cells(const Spec& spec) {
  const auto it = spec.origins.find("cells");
  const std::string origin = it == spec.origins.end() ? spec.source : it->second;
  for (const auto& cell : spec.cells) {
    try {
      (void)cells::CellRegistry::instance().get(cell);
    } catch (const Error& e) {
      const std::string what = e.what();
      throw Error(what.starts_with(origin + ":") ? what : origin + ": " + what, e.hint());
    }
  }
}

std::string to_text(const Spec& spec) {
  return canonical_text(spec, true);
}

std::string canonical_text(const Spec& spec, bool with_out) {
  std::ostringstream out;
  out << "name = " << spec.name << "\n";
  if (!spec.description.empty()) out << "description = " << spec.description << "\n";
  if (!spec.task.empty()) out << "task = " << spec.task << "\n";
  out << "cells = " << join(spec.cells, ", ") << "\n";
  out << "search = "
      << (spec.search == Search::grid        ? "grid"
          : spec.search == Search::evolution ? "evolution"
                                             : "random")
      << "\n";
  out << "trials = " << spec.trials << "\n";
  out << "seed = " << spec.seed << "\n";
  if (with_out) out << "out = " << output_path(spec) << "\n";
  // Like `out`, where the plugins are is not part of the sweep's identity; which builds of
  // them made the runs is recorded per cell in the results file's /cells table.
  if (with_out && !spec.plugins.empty())
    out << "plugins = " << join(plugin_files(spec), ", ") << "\n";
  if (with_out && spec.strict_build) out << "strict_build = true\n";
  if (!spec.task_options.empty()) {
    out << "\n[task]\n";
    for (const auto& [k, v] : spec.task_options) out << k << " = " << v.text << "\n";
  }
  if (!spec.fixed.empty()) {
    out << "\n[fixed]\n";
    for (const auto& [k, v] : spec.fixed) out << k << " = " << v.text << "\n";
  }
  if (!spec.space.empty()) {
    out << "\n[space]\n";
    for (const auto& [k, d] : spec.space) out << k << " = " << d.text() << "\n";
  }
  if (!spec.evolution.empty()) {
    out << "\n[evolution]\n";
    for (const auto& [k, v] : spec.evolution) out << k << " = " << v.text << "\n";
  }
  return out.str();
}

std::string spec_hash(const Spec& spec) {
  // The `out` and `plugins` lines are the only ones that can change without changing the
  // sweep.
  return hash_hex128(canonical_text(spec, false));
}

std::string hash_hex128(std::string_view text) {
  const std::uint64_t a = hash64(text, 0x243f6a8885a308d3ULL);
  const std::uint64_t b = hash64(text, a ^ 0x13198a2e03707344ULL);
  char buf[33];
  std::snprintf(buf, sizeof buf, "%016" PRIx64 "%016" PRIx64, a, b);
  return buf;
}

std::string make_run_key(const std::string& cell, const std::string& task, std::uint64_t seed,
                         const std::map<std::string, std::string>& settings) {
  std::string text = "cell=" + cell + "\ntask=" + task + "\nseed=" + std::to_string(seed) + "\n";
  for (const auto& [k, v] : settings) text += k + "=" + v + "\n";
  return hash_hex128(text);
}

}  // namespace cellzoo::sweep
