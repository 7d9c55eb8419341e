// music: polyphonic music modelling on Boulanger-Lewandowski et al.'s piano-roll sets
// (JSB Chorales, Nottingham, Piano-midi.de, MuseData; papers.md §1.4, §5), as in Greff
// et al. 2015's JSB experiment.
//
// Data: option data = a piano-roll JSON file (see piano_roll.hpp) or a directory holding
// exactly one. A piece of L time steps becomes one sequence of L - 1 steps: the input at
// step t is the 88-dim multi-hot of time step t (bit k = MIDI note 21 + k), the target
// is time step t + 1, every step has weight 1. Pieces shorter than 2 steps have nothing
// to predict and are skipped. Loss: Bernoulli cross-entropy over 88 sigmoid outputs;
// metric nll_per_step = that NLL summed over the 88 keys, averaged over scored steps.
// The seed is unused (the data are fixed).
//
// Baseline: the NLL per step on the validation split of independent per-key Bernoullis
// with the training targets' key frequencies, add-one smoothed: p_k = (n_k + 1)/(N + 2).
#include <cmath>

#include "datasets/piano_roll.hpp"
#include "datasets/task_util.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::datasets {
namespace {

std::vector<Sequence> to_sequences(const std::vector<PianoRollPiece>& pieces) {
  std::vector<Sequence> out;
  out.reserve(pieces.size());
  for (const auto& piece : pieces) {
    const auto L = static_cast<Index>(piece.size());
    if (L < 2) continue;
    Matrix<float> roll = Matrix<float>::Zero(kPianoKeys, L);
    for (Index t = 0; t < L; ++t)
      for (int k = 0; k < kPianoKeys; ++k)
        if (piece[static_cast<std::size_t>(t)][static_cast<std::size_t>(k)]) roll(k, t) = 1;
    Sequence s;
    s.input_dense = roll.leftCols(L - 1);
    s.target_dense = roll.rightCols(L - 1);
    s.weight.assign(static_cast<std::size_t>(L - 1), 1.0f);
    out.push_back(std::move(s));
  }
  return out;
}

double frequency_baseline(const std::vector<Sequence>& train, const std::vector<Sequence>& valid) {
  // Plain loops: cheap here, and Eigen's double GEMV trips a GCC 12 false warning.
  std::vector<double> on(kPianoKeys, 0.0);
  double frames = 0;
  for (const auto& s : train) {
    for (Index t = 0; t < s.length(); ++t)
      for (int k = 0; k < kPianoKeys; ++k) on[static_cast<std::size_t>(k)] += s.target_dense(k, t);
    frames += static_cast<double>(s.length());
  }
  std::vector<double> log_on(kPianoKeys), log_off(kPianoKeys);
  for (std::size_t k = 0; k < on.size(); ++k) {
    const double p = (on[k] + 1) / (frames + 2);
    log_on[k] = std::log(p);
    log_off[k] = std::log1p(-p);
  }
  double nll = 0, steps = 0;
  for (const auto& s : valid) {
    for (Index t = 0; t < s.length(); ++t)
      for (int k = 0; k < kPianoKeys; ++k) {
        const auto kk = static_cast<std::size_t>(k);
        nll -= s.target_dense(k, t) > 0.5f ? log_on[kk] : log_off[kk];
      }
    steps += static_cast<double>(s.length());
  }
  return nll / steps;
}

}  // namespace

void register_task_music(TaskRegistry& registry) {
  TaskEntry e;
  e.name = "music";
  e.description =
      "polyphonic music: next-step piano roll, 88 Bernoulli units (Boulanger-Lewandowski 2012)";
  e.options = {{"data", {"", "piano-roll JSON file, or a directory holding one (required)"}}};
  e.build = [](const TaskOptions& options, std::uint64_t /*seed: the data are fixed*/) {
    const auto path = data_path(options, "music", "a piano-roll .json file or its directory");
    const PianoRollSplits splits = read_piano_roll_json(path);
    TaskData data;
    TaskInfo& info = data.info;
    info.name = "music";
    info.input_kind = InputKind::dense;
    info.input_size = kPianoKeys;
    info.output_size = kPianoKeys;
    info.loss = LossKind::bernoulli_xent;
    info.metric = Metric::nll_per_step;
    info.description = "music from " + resolve_piano_roll_path(path).filename().string();
    data.train = to_sequences(splits.train);
    data.valid = to_sequences(splits.valid);
    data.test = to_sequences(splits.test);
    for (const auto* split : {&data.train, &data.valid, &data.test})
      if (split->empty())
        throw Error("music: a split of '" + path.string() + "' has no piece of 2 or more steps",
                    "each split needs a piece with something to predict");
    info.baseline = frequency_baseline(data.train, data.valid);
    return data;
  };
  registry.add(std::move(e));
}

}  // namespace cellzoo::datasets
