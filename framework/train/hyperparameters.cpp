// The hyperparameter table and its validation.
#include "framework/train/hyperparameters.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

#include "framework/util/error.hpp"

namespace cellzoo::train {
namespace {

constexpr double kBig = 1e300;

HyperparameterSpec integer(std::string name, std::string def, double lo, double hi,
                           std::string meaning, std::vector<std::string> words = {}) {
  return {std::move(name), HyperType::integer, std::move(def), std::move(meaning), lo, hi,
          std::move(words)};
}
HyperparameterSpec real(std::string name, std::string def, double lo, double hi,
                        std::string meaning) {
  return {std::move(name), HyperType::real, std::move(def), std::move(meaning), lo, hi, {}};
}
// A real in [lo, hi): hi itself is excluded.
HyperparameterSpec real_below(std::string name, std::string def, double lo, double hi,
                              std::string meaning) {
  auto spec = real(std::move(name), std::move(def), lo, hi, std::move(meaning));
  spec.open_max = true;
  return spec;
}
HyperparameterSpec boolean(std::string name, std::string def, std::string meaning) {
  return {std::move(name), HyperType::boolean, std::move(def), std::move(meaning), 0, 1, {}};
}
HyperparameterSpec choice(std::string name, std::string def, std::vector<std::string> choices,
                          std::string meaning) {
  return {std::move(name),   HyperType::choice, std::move(def), std::move(meaning), 0, 0,
          std::move(choices)};
}

std::string number_text(double v) {
  if (v >= kBig) return "inf";
  if (v <= -kBig) return "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

bool parse_double(const std::string& text, double& out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end && std::isfinite(out);
}

bool parse_long(const std::string& text, long long& out) {
  if (text.empty()) return false;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && p == end;
}

bool parse_bool(const std::string& text, bool& out) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return out = true, true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return out = false, true;
  return false;
}

// Checks one value against its spec and returns the canonical text ("" for a valid real
// when `text_wanted` is false: the shortest round-trip form is the costly part).
std::string canonical(const HyperparameterSpec& spec, const std::string& text,
                      bool text_wanted = true) {
  auto bad = [&]() {
    return Error(
        "hyperparameter " + spec.name + "=" + text + " is not valid: expected " + spec.allowed(),
        "see 'cellzoo train --help' for every hyperparameter and its range");
  };
  switch (spec.type) {
    case HyperType::integer: {
      if (std::find(spec.choices.begin(), spec.choices.end(), text) != spec.choices.end())
        return text;
      long long v = 0;
      if (!parse_long(text, v)) {
        // Accept integral reals such as "64.0" (sweep specs sample numbers as reals).
        double d = 0;
        if (!parse_double(text, d) || d != std::floor(d) || std::fabs(d) > 9e15) throw bad();
        v = static_cast<long long>(d);
      }
      if (static_cast<double>(v) < spec.min || static_cast<double>(v) > spec.max) throw bad();
      return std::to_string(v);
    }
    case HyperType::real: {
      double v = 0;
      if (!parse_double(text, v) || v < spec.min || v > spec.max ||
          (spec.open_max && v >= spec.max))
        throw bad();
      if (!text_wanted) return {};
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", v);
      // Shortest text that round-trips, so "0.1" stays "0.1".
      for (int p = 1; p <= 17; ++p) {
        std::snprintf(buf, sizeof buf, "%.*g", p, v);
        if (std::strtod(buf, nullptr) == v) break;
      }
      return buf;
    }
    case HyperType::boolean: {
      bool b = false;
      if (!parse_bool(text, b)) throw bad();
      return b ? "true" : "false";
    }
    case HyperType::choice:
      if (std::find(spec.choices.begin(), spec.choices.end(), text) == spec.choices.end())
        throw bad();
      return text;
  }
  throw bad();
}

}  // namespace

std::string HyperparameterSpec::allowed() const {
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& c : v) s += (s.empty() ? "" : "|") + c;
    return s;
  };
  switch (type) {
    case HyperType::integer:
      return (choices.empty() ? "" : join(choices) + " or ") + "integer in [" + number_text(min) +
             ", " + number_text(max) + "]";
    case HyperType::real:  // infinity itself is never a valid value
      return "real in " + (min <= -kBig ? std::string("(-inf") : "[" + number_text(min)) + ", " +
             (max >= kBig ? std::string("inf)") : number_text(max) + (open_max ? ")" : "]"));
    case HyperType::boolean:
      return "true|false";
    case HyperType::choice:
      return join(choices);
  }
  return {};
}

const std::vector<HyperparameterSpec>& hyperparameter_table() {
  static const std::vector<HyperparameterSpec> table = {
      integer("hidden", "64", 1, 1e6, "hidden units of the cell (Greff's blocks, N)"),
      integer("param_budget", "none", 1, 9e15,
              "parameter budget: hidden becomes the largest size whose whole model (cell "
              "layers, input layer, readout: the results' n_params) has at most this many "
              "parameters; hidden must then not be set (Jozefowicz et al. sized every "
              "architecture to a budget)",
              {"none"}),
      integer("layers", "1", 1, 8,
              "stacked layers of the cell: layer 1 reads the input layer, layer k reads layer "
              "k-1's h, the readout reads the top layer (Jozefowicz: 1-4)"),
      real_below("dropout", "0", 0, 1,
                 "dropout probability (Zaremba et al. 2014): on the input of every layer and on "
                 "the top layer's output, never on the recurrent connections; inverted "
                 "scaling, training only"),
      integer("embed", "auto", 0, 1e6,
              "input layer: auto = one-hot straight into the cell if the vocabulary is <= 128 "
              "and the cell takes any input size, else an embedding of size hidden (dense "
              "inputs: a learned projection to hidden only for square-input cells); 0 = raw "
              "input; N = embedding (one-hot) or linear projection (dense) of size N",
              {"auto"}),
      choice("optimizer", "adam", {"sgd", "adam"},
             "sgd (momentum, see nesterov) or adam (Kingma & Ba)"),
      real("lr", "0.001", 0, kBig, "learning rate"),
      real("momentum", "0.9", 0, 0.999999, "sgd momentum (0 = plain SGD)"),
      boolean("nesterov", "true",
              "sgd: Nesterov momentum (Greff's protocol) instead of classical momentum"),
      real("beta1", "0.9", 0, 0.999999, "adam: decay of the first-moment estimate"),
      real("beta2", "0.999", 0, 0.999999999, "adam: decay of the second-moment estimate"),
      real("adam_eps", "1e-08", 1e-30, 1, "adam: epsilon added to the root of the second moment"),
      real("clip", "0", 0, kBig,
           "rescale the whole gradient to this global L2 norm when larger (Jozefowicz); 0 = off"),
      real("input_noise", "0", 0, kBig,
           "std of Gaussian noise added to the cell input while training (Greff); 0 = off"),
      integer("batch_size", "16", 1, 1e6,
              "sequences per update (1 = Greff's per-sequence updates); parallel streams for "
              "stream tasks"),
      integer("max_epochs", "100", 1, 1e7, "maximum number of epochs"),
      integer("patience", "10", 0, 1e7,
              "stop after this many epochs without a better validation metric; 0 = never"),
      choice("lr_decay", "none", {"none", "plateau-halve"},
             "plateau-halve (Jozefowicz): after decay_after epochs without validation "
             "improvement, halve lr before each of decay_epochs more epochs, then stop"),
      integer("decay_after", "3", 1, 1e7,
              "plateau-halve: epochs without improvement that start it"),
      integer("decay_epochs", "4", 0, 1e7, "plateau-halve: epochs trained with halved lr"),
      real("init_scale", "1", 0, kBig,
           "weights ~ U(-s/sqrt(fan), +s/sqrt(fan)); biases 0 (Jozefowicz's s)"),
      real("forget_bias", "0", -kBig, kBig,
           "initial forget-gate bias of cells that have one (1 = Jozefowicz's LSTM-b)"),
      integer("bptt", "35", 1, 1e7, "stream tasks: truncated-BPTT window in steps"),
      integer("epoch_size", "0", 0, 1e9,
              "batches per epoch, 0 = one full pass (streams continue where the last "
              "epoch stopped)"),
      real("time_budget", "0", 0, kBig,
           "wall-clock seconds per run, 0 = none; when exceeded the run ends with status "
           "timeout and keeps its best-so-far metrics"),
      real("diverge_factor", "1000", 0, kBig,
           "a run whose epoch training loss or validation loss exceeds this multiple of its "
           "initial loss (the first batch's, before any update) ends with status diverged, "
           "as a NaN/inf loss does; 0 = off"),
      integer("data_seed", "1", 0, 9e15,
              "seed of generated task data (shared by every run of a sweep)"),
      choice("reduction", "mean", {"mean", "sequence"},
             "gradient normalisation: mean = per scored step of the batch; sequence = "
             "summed over time, averaged over sequences (Greff); reported losses are "
             "always per scored step"),
  };
  return table;
}

TrainConfig resolve(const std::map<std::string, std::string>& settings) {
  const auto& table = hyperparameter_table();
  TrainConfig c;
  for (const auto& [key, value] : settings) {
    if (key.rfind("task.", 0) == 0) {
      if (key.size() == 5) throw Error("empty task option name in '" + key + "'");
      c.task_options[key.substr(5)] = value;
      continue;
    }
    const bool known = std::any_of(table.begin(), table.end(),
                                   [&](const HyperparameterSpec& s) { return s.name == key; });
    if (!known) {
      std::string names;
      for (const auto& s : table) names += (names.empty() ? "" : ", ") + s.name;
      throw Error("unknown hyperparameter '" + key + "'; valid keys: " + names +
                      ", and task.<option> for task options",
                  "see 'cellzoo train --help'");
    }
  }
  for (const auto& spec : table) {
    const auto it = settings.find(spec.name);
    c.values[spec.name] = canonical(spec, it == settings.end() ? spec.default_value : it->second);
  }
  const auto& v = c.values;
  auto as_int = [&](const char* k) { return static_cast<int>(std::stoll(v.at(k))); };
  auto as_real = [&](const char* k) { return std::strtod(v.at(k).c_str(), nullptr); };
  c.hidden = as_int("hidden");
  c.param_budget = v.at("param_budget") == "none" ? 0 : std::stoll(v.at("param_budget"));
  c.layers = as_int("layers");
  c.dropout = as_real("dropout");
  c.embed = v.at("embed") == "auto" ? -1 : as_int("embed");
  c.optimizer = v.at("optimizer") == "sgd" ? OptimizerKind::sgd : OptimizerKind::adam;
  c.lr = as_real("lr");
  c.momentum = as_real("momentum");
  c.nesterov = v.at("nesterov") == "true";
  c.beta1 = as_real("beta1");
  c.beta2 = as_real("beta2");
  c.adam_eps = as_real("adam_eps");
  c.clip = as_real("clip");
  c.input_noise = as_real("input_noise");
  c.batch_size = as_int("batch_size");
  c.max_epochs = as_int("max_epochs");
  c.patience = as_int("patience");
  c.lr_decay = v.at("lr_decay") == "none" ? LrDecay::none : LrDecay::plateau_halve;
  c.decay_after = as_int("decay_after");
  c.decay_epochs = as_int("decay_epochs");
  c.init_scale = as_real("init_scale");
  c.forget_bias = as_real("forget_bias");
  c.bptt = as_int("bptt");
  c.epoch_size = as_int("epoch_size");
  c.time_budget = as_real("time_budget");
  c.diverge_factor = as_real("diverge_factor");
  c.data_seed = static_cast<std::uint64_t>(std::stoll(v.at("data_seed")));
  c.reduction = v.at("reduction") == "mean" ? Reduction::mean : Reduction::sequence;
  return c;
}

bool hyperparameter_value_ok(const std::string& name, const std::string& value) {
  const auto& table = hyperparameter_table();
  const auto spec = std::find_if(table.begin(), table.end(),
                                 [&](const HyperparameterSpec& s) { return s.name == name; });
  if (spec == table.end()) return false;
  try {
    (void)canonical(*spec, value, false);
    return true;
  } catch (const Error&) {
    return false;
  }
}

std::string hyperparameter_help() {
  std::ostringstream out;
  for (const auto& s : hyperparameter_table()) {
    std::string head = "  " + s.name + "=" + s.default_value;
    if (head.size() < 24)
      head.resize(24, ' ');
    else
      head += "\n" + std::string(24, ' ');
    // Wrap the meaning at about 96 columns.
    std::string text = s.meaning + " [" + s.allowed() + "]";
    std::istringstream words(text);
    std::string word, line;
    out << head;
    bool first = true;
    while (words >> word) {
      if (!line.empty() && line.size() + 1 + word.size() > 72) {
        out << (first ? "" : std::string(24, ' ')) << line << "\n";
        first = false;
        line.clear();
      }
      line += (line.empty() ? "" : " ") + word;
    }
    out << (first ? "" : std::string(24, ' ')) << line << "\n";
  }
  return out.str();
}

std::string hyperparameter_markdown() {
  auto escape = [](const std::string& text) {
    std::string out;
    for (char c : text) {
      if (c == '|') out += '\\';
      out += c;
    }
    return out;
  };
  std::string out;
  for (const auto& s : hyperparameter_table())
    out += "| `" + s.name + "` | " + s.default_value + " | " + escape(s.allowed()) + " | " +
           escape(s.meaning) + " |\n";
  return out;
}

}  // namespace cellzoo::train
