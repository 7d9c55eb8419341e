// The training hyperparameters: one table (name, type, default, meaning, allowed values)
// from which `resolve` validates settings, `cellzoo train --help` prints its list and
// docs/training.md is generated. Adding a hyperparameter = one table row + one field.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cellzoo::train {

enum class HyperType { integer, real, boolean, choice };

struct HyperparameterSpec {
  std::string name;
  HyperType type = HyperType::real;
  std::string default_value;
  std::string meaning;
  double min = 0;  // inclusive bounds for integer / real
  double max = 0;
  std::vector<std::string> choices;  // for choice; for integers, extra words allowed (e.g. "auto")
  bool open_max = false;             // reals: max itself is excluded ([min, max))
  std::string allowed() const;       // e.g. "real in [0, 1]" or "one of sgd, adam"
};

// Every training hyperparameter, in the order `--help` lists them.
const std::vector<HyperparameterSpec>& hyperparameter_table();

enum class OptimizerKind { sgd, adam };
enum class LrDecay { none, plateau_halve };
// How the batch loss is normalised for the gradient (reported losses are always per step).
enum class Reduction { mean, sequence };

struct TrainConfig {
  int hidden = 64;
  // Parameter budget (0 = none): hidden is then solved by train::apply_param_budget
  // (train/budget.hpp) once the task is known.
  std::int64_t param_budget = 0;
  int layers = 1;      // stacked layers of the cell (cells/cell_stack.hpp)
  double dropout = 0;  // Zaremba dropout probability, 0 <= p < 1
  int embed = -1;      // -1 = auto, 0 = raw input into the cell, N = embedding / projection size
  OptimizerKind optimizer = OptimizerKind::adam;
  double lr = 1e-3;
  double momentum = 0.9;
  bool nesterov = true;
  double beta1 = 0.9, beta2 = 0.999, adam_eps = 1e-8;
  double clip = 0;
  double input_noise = 0;
  int batch_size = 16;
  int max_epochs = 100;
  int patience = 10;
  LrDecay lr_decay = LrDecay::none;
  int decay_after = 3;
  int decay_epochs = 4;
  double init_scale = 1.0;
  double forget_bias = 0.0;
  int bptt = 35;
  int epoch_size = 0;
  double time_budget = 0;
  double diverge_factor = 1000;  // 0 = off
  std::uint64_t data_seed = 1;
  Reduction reduction = Reduction::mean;

  // Every hyperparameter of the table with its resolved value, as text (canonical form:
  // what a results file records).
  std::map<std::string, std::string> values;
  // `task.<option>` settings with the prefix stripped; the task registry validates them.
  std::map<std::string, std::string> task_options;
};

// Validates `settings` (name -> text) against the table and fills defaults. Throws
// cellzoo::Error naming an unknown key (listing the valid ones) or a bad value (naming
// the key, the value and what is allowed).
TrainConfig resolve(const std::map<std::string, std::string>& settings);
// Whether resolve() accepts `value` for hyperparameter `name` (false for an unknown name);
// resolve() checks every value on its own, so a settings map is valid when each entry is.
// Cheap: a sweep checks a million runs' drawn values with it.
bool hyperparameter_value_ok(const std::string& name, const std::string& value);

// The table as aligned text, one hyperparameter per line (for --help).
std::string hyperparameter_help();
// The table as Markdown rows "| name | default | allowed | meaning |" (docs/training.md).
std::string hyperparameter_markdown();

}  // namespace cellzoo::train
