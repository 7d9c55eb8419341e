// run_one: the training loop with early stopping, divergence and budget handling.
#include "framework/train/trainer.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <memory>
#include <new>
#include <numbers>
#include <optional>

#include "framework/train/optimizer.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::train {

using datasets::Metric;
using datasets::Split;
using datasets::TaskData;
using datasets::TaskInfo;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Sequences per evaluation batch: results do not depend on it (no state crosses
// sequences), only speed does.
constexpr Index kEvalBatch = 64;

// Ends the run early with a status; caught inside run_one.
struct Stop {
  std::string status, error;
};

const std::vector<datasets::Sequence>& split_sequences(const TaskData& d, Split s) {
  return s == Split::train ? d.train : s == Split::valid ? d.valid : d.test;
}
const std::vector<int>& split_stream(const TaskData& d, Split s) {
  return s == Split::train ? d.train_stream : s == Split::valid ? d.valid_stream : d.test_stream;
}
const char* split_name(Split s) {
  return s == Split::train ? "train" : s == Split::valid ? "valid" : "test";
}

bool split_empty(const TaskData& d, Split s) {
  return d.info.stream ? split_stream(d, s).size() < 2 : split_sequences(d, s).empty();
}

void check_data(const TaskData& d) {
  const auto& info = d.info;
  for (Split s : {Split::train, Split::valid})
    if (split_empty(d, s))
      throw Error("task " + info.name + " has no " + split_name(s) + " data",
                  "check the task options (e.g. task.data)");
  if (info.stream) {
    if (info.input_kind != datasets::InputKind::one_hot ||
        info.loss != datasets::LossKind::softmax_xent)
      throw Error("stream task " + info.name + " must have one-hot inputs and a softmax loss");
    for (Split s : {Split::train, Split::valid, Split::test})
      for (int tok : split_stream(d, s))
        if (tok < 0 || tok >= info.input_size || tok >= info.output_size)
          throw Error("task " + info.name + ": token " + std::to_string(tok) + " in the " +
                      split_name(s) + " stream is outside the vocabulary");
  }
}

// Evaluates one split with a model (shared by the trainer and evaluate()).
class Evaluator {
 public:
  Evaluator(const TaskData& data, const TrainConfig& hyper) : data_(data), hyper_(hyper) {}

  Evaluation run(Model<float>& model, const Vector<float>& theta, Split split) {
    Evaluation e;
    if (data_.info.stream) {
      const StreamBatcher batcher(split_stream(data_, split), hyper_.batch_size, hyper_.bptt);
      cells::CellState<float> state, next;
      for (Index k = 0; k < batcher.windows(); ++k) {
        const Batch b = batcher.window(k);
        model.evaluate(theta, b, k ? &state : nullptr, &next, &e.stats);
        std::swap(state, next);
      }
    } else {
      auto& batches = cache_[static_cast<int>(split)];
      if (!batches) {
        batches.emplace();
        const auto& seqs = split_sequences(data_, split);
        for (const auto& members : plan_batches(seqs, kEvalBatch, nullptr))
          batches->push_back(make_batch(seqs, members, data_.info));
      }
      for (const auto& b : *batches) model.evaluate(theta, b, nullptr, nullptr, &e.stats);
    }
    e.loss = e.stats.weight_sum > 0 ? e.stats.loss_sum / e.stats.weight_sum : kNaN;
    e.metric = metric_value(data_.info.metric, e.stats);
    return e;
  }

 private:
  const TaskData& data_;
  const TrainConfig& hyper_;
  std::optional<std::vector<Batch>> cache_[3];
};

class Trainer {
 public:
  using Clock = std::chrono::steady_clock;
  Trainer(const RunConfig& config, const TaskData& data, TrainObserver* observer,
          const std::atomic<bool>* cancel, TrainResult& result, Clock::time_point start)
      : config_(config),
        hyper_(config.hyper),
        data_(data),
        observer_(observer),
        cancel_(cancel),
        r_(result),
        start_(start),
        model_(cells::CellRegistry::instance().get(config.cell), data.info, config.hyper),
        evaluator_(data, config.hyper),
        order_rng_(derive_seed(config.seed, "data-order")),
        noise_rng_(derive_seed(config.seed, "input-noise")),
        dropout_rng_(derive_seed(config.seed, "dropout")) {}

  void run() {
    check_data(data_);
    r_.n_params = static_cast<long>(model_.parameter_count());
    r_.tensors = model_.tensors();
    r_.input_mode = input_mode_name(model_.input_mode());
    theta_.resize(model_.parameter_count());
    grad_.resize(model_.parameter_count());
    Rng init_rng(derive_seed(config_.seed, "init"));
    model_.initialize(theta_, init_rng);
    optimizer_ = make_optimizer(hyper_, model_.parameter_count());
    if (data_.info.stream) streams_.emplace(data_.train_stream, hyper_.batch_size, hyper_.bptt);

    StoppingRule rule(hyper_, metric_higher_is_better(data_.info.metric));
    for (int epoch = 1;; ++epoch) {
      const double lr = rule.lr();
      const double train_loss = train_epoch(epoch, lr);
      const Evaluation valid = evaluator_.run(model_, theta_, Split::valid);
      if (!std::isfinite(valid.loss) || std::isnan(valid.metric))
        throw Stop{"diverged", "non-finite validation loss after epoch " + std::to_string(epoch)};
      check_blow_up("training", train_loss, epoch);
      check_blow_up("validation", valid.loss, epoch);
      EpochRecord rec{epoch, train_loss, valid.loss, valid.metric, lr, seconds()};
      r_.curve.push_back(rec);
      r_.epochs = epoch;
      const auto decision = rule.after_epoch(epoch, valid.metric);
      if (decision.improved) {
        r_.best_epoch = epoch;
        r_.train_loss = train_loss;
        r_.valid_loss = valid.loss;
        r_.valid_metric = valid.metric;
        r_.valid_accuracy = step_accuracy(data_.info, valid.stats);
        r_.valid_sequence_accuracy = sequence_accuracy(data_.info, valid.stats);
        r_.parameters = theta_;
        if (!split_empty(data_, Split::test)) {
          const Evaluation test = evaluator_.run(model_, theta_, Split::test);
          r_.test_loss = test.loss;
          r_.test_metric = test.metric;
          r_.test_accuracy = step_accuracy(data_.info, test.stats);
          r_.test_sequence_accuracy = sequence_accuracy(data_.info, test.stats);
        }
      }
      if (observer_) observer_->on_epoch(config_, rec);
      if (decision.stop) break;
    }
  }

 private:
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  void check_interrupt() {
    if (cancel_ && cancel_->load(std::memory_order_relaxed)) throw Stop{"cancelled", "cancelled"};
    if (hyper_.time_budget > 0 && seconds() > hyper_.time_budget)
      throw Stop{"timeout", "time budget of " + r_status_number(hyper_.time_budget) +
                                " s exceeded in epoch " + std::to_string(r_.epochs + 1)};
  }
  // A finite loss can still be useless (Adam at lr = 1e6 reaches an MSE of 1e11): above
  // diverge_factor times the initial loss the run has diverged.
  void check_blow_up(const char* which, double loss, int epoch) const {
    if (hyper_.diverge_factor <= 0 || !(initial_loss_ > 0)) return;
    if (loss > hyper_.diverge_factor * initial_loss_)
      throw Stop{"diverged", std::string(which) + " loss " + r_status_number(loss) +
                                 " after epoch " + std::to_string(epoch) +
                                 " is above diverge_factor " +
                                 r_status_number(hyper_.diverge_factor) + " x the initial loss " +
                                 r_status_number(initial_loss_)};
  }
  static std::string r_status_number(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
  }

  // One update; returns nothing, adds to stats.
  void update(const Batch& b, int epoch, long index, const cells::CellState<float>* initial,
              cells::CellState<float>* final, BatchStats& stats, double lr) {
    const float loss = model_.forward(theta_, b, initial, final, &stats,
                                      {.reduction = hyper_.reduction,
                                       .noise_rng = &noise_rng_,
                                       .noise_std = hyper_.input_noise,
                                       .dropout_rng = &dropout_rng_});
    if (!std::isfinite(loss))
      throw Stop{"diverged", "non-finite training loss in epoch " + std::to_string(epoch) +
                                 " (batch " + std::to_string(index + 1) + ")"};
    if (!have_initial_loss_ && stats.weight_sum > 0) {
      // The untrained model's loss per scored step (the unit of the epoch and validation
      // losses, whatever the reduction): the reference of check_blow_up.
      initial_loss_ = stats.loss_sum / stats.weight_sum;
      have_initial_loss_ = true;
    }
    model_.backward(theta_, b, grad_);
    // Without clipping only finiteness matters: one pass instead of a norm in double.
    const bool finite =
        hyper_.clip > 0 ? std::isfinite(clip_global_norm(grad_, hyper_.clip)) : all_finite(grad_);
    if (!finite)
      throw Stop{"diverged", "non-finite gradient in epoch " + std::to_string(epoch) + " (batch " +
                                 std::to_string(index + 1) + ")"};
    optimizer_->step(theta_, grad_, lr);
  }

  double train_epoch(int epoch, double lr) {
    BatchStats stats;
    if (streams_) {
      const Index n = hyper_.epoch_size > 0 ? hyper_.epoch_size : streams_->windows();
      if (hyper_.epoch_size == 0) cursor_ = 0;  // full passes start from the beginning
      for (Index i = 0; i < n; ++i) {
        check_interrupt();
        if (cursor_ == 0) state_.clear();  // a new pass over the stream: cold state
        const Batch b = streams_->window(cursor_);
        update(b, epoch, static_cast<long>(i), state_.empty() ? nullptr : &state_, &next_, stats,
               lr);
        std::swap(state_, next_);
        cursor_ = (cursor_ + 1) % streams_->windows();
      }
    } else {
      const auto& train = training_set(epoch);
      auto plan = plan_batches(train, hyper_.batch_size, &order_rng_);
      if (hyper_.epoch_size > 0 && static_cast<Index>(plan.size()) > hyper_.epoch_size)
        plan.resize(static_cast<std::size_t>(hyper_.epoch_size));
      long i = 0;
      for (const auto& members : plan) {
        check_interrupt();
        const Batch b = make_batch(train, members, data_.info);
        update(b, epoch, i++, nullptr, nullptr, stats, lr);
      }
    }
    return stats.weight_sum > 0 ? stats.loss_sum / stats.weight_sum : kNaN;
  }

  // The training sequences of `epoch`: after the first, a new set from the task when it
  // generates one per epoch (task.fresh = true).
  const std::vector<datasets::Sequence>& training_set(int epoch) {
    if (!data_.fresh_train || epoch == 1) return data_.train;
    fresh_ = data_.fresh_train(epoch);
    return fresh_;
  }

  const RunConfig& config_;
  const TrainConfig& hyper_;
  const TaskData& data_;
  TrainObserver* observer_;
  const std::atomic<bool>* cancel_;
  TrainResult& r_;
  Clock::time_point start_;
  Model<float> model_;
  Evaluator evaluator_;
  Rng order_rng_, noise_rng_, dropout_rng_;
  Vector<float> theta_, grad_;
  std::unique_ptr<Optimizer> optimizer_;
  std::optional<StreamBatcher> streams_;
  Index cursor_ = 0;
  cells::CellState<float> state_, next_;
  std::vector<datasets::Sequence> fresh_;  // this epoch's training set under task.fresh
  double initial_loss_ = 0;
  bool have_initial_loss_ = false;
};

}  // namespace

MemoryEstimate estimate_memory(const cells::CellEntry& cell, const datasets::TaskData& data,
                               const TrainConfig& hyper) {
  const Model<float> model(cell, data.info, hyper);  // sizes only: allocates no parameters
  MemoryEstimate m;
  m.parameters = static_cast<std::int64_t>(model.parameter_count());
  const double p = static_cast<double>(m.parameters);
  const double optimiser =
      hyper.optimizer == OptimizerKind::adam ? 2 : (hyper.momentum > 0 ? 1 : 0);
  m.parameter_bytes = sizeof(float) * p * (3 + optimiser);
  // The longest batch: a training batch of batch_size sequences (streams: bptt-step windows
  // of batch_size streams) or an evaluation batch of kEvalBatch sequences.
  std::int64_t train_steps = 0, eval_steps = 0;
  if (data.info.stream) {
    train_steps = eval_steps = hyper.bptt;
    m.batch_sequences = hyper.batch_size;
  } else {
    for (const auto& s : data.train) train_steps = std::max<std::int64_t>(train_steps, s.length());
    for (const auto* split : {&data.valid, &data.test})
      for (const auto& s : *split) eval_steps = std::max<std::int64_t>(eval_steps, s.length());
  }
  const double per_step = static_cast<double>(2 * model.state_count() * hyper.hidden +
                                              model.cell_input_size() + 2 * data.info.output_size);
  const double train_cost = static_cast<double>(train_steps) * hyper.batch_size;
  const double eval_cost =
      static_cast<double>(eval_steps) * (data.info.stream ? hyper.batch_size : kEvalBatch);
  m.longest_steps = train_cost >= eval_cost ? train_steps : eval_steps;
  m.batch_sequences = train_cost >= eval_cost ? hyper.batch_size
                                              : (data.info.stream ? hyper.batch_size : kEvalBatch);
  m.activation_bytes = sizeof(float) * per_step * std::max(train_cost, eval_cost);
  m.bytes = m.parameter_bytes + m.activation_bytes;
  return m;
}

double available_memory_bytes() {
  double limit = 0;
  const auto lower = [&](double v) {
    if (v > 0 && (limit == 0 || v < limit)) limit = v;
  };
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) lower(static_cast<double>(pages) * static_cast<double>(page));
  for (const char* path : {"/sys/fs/cgroup/memory.max",                       // cgroup v2
                           "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {  // cgroup v1
    std::ifstream in(path);
    double v = 0;
    if (in >> v) lower(v);  // "max" (no limit) does not parse
  }
  rlimit r{};
  if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY)
    lower(static_cast<double>(r.rlim_cur));
  return limit;
}

std::string format_bytes(double bytes) {
  const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  int u = 0;
  while (bytes >= 1024 && u < 6) bytes /= 1024, ++u;
  char buf[48];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return buf;
}

TrainResult::TrainResult()
    : train_loss(kNaN),
      valid_loss(kNaN),
      test_loss(kNaN),
      valid_metric(kNaN),
      test_metric(kNaN),
      valid_accuracy(kNaN),
      test_accuracy(kNaN),
      valid_sequence_accuracy(kNaN),
      test_sequence_accuracy(kNaN) {}

TrainResult run_one(const RunConfig& config, const TaskData& data, TrainObserver* observer,
                    const std::atomic<bool>* cancel) {
  const auto start = std::chrono::steady_clock::now();
  TrainResult r;
  try {
    Trainer(config, data, observer, cancel, r, start).run();
  } catch (const Stop& s) {
    r.status = s.status;
    r.error = s.error;
  } catch (const std::bad_alloc&) {  // the bare "std::bad_alloc" says nothing to a user
    r.status = "failed";
    r.error = "out of memory (std::bad_alloc) with hidden " + std::to_string(config.hyper.hidden) +
              ", batch_size " + std::to_string(config.hyper.batch_size);
  } catch (const std::exception& e) {
    r.status = "failed";
    r.error = e.what();
  } catch (...) {
    r.status = "failed";
    r.error = "unknown exception";
  }
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

const char* metric_name(Metric metric) {
  switch (metric) {
    case Metric::mse:
      return "mse";
    case Metric::accuracy:
      return "accuracy";
    case Metric::nll_per_step:
      return "nll_per_step";
    case Metric::bits_per_char:
      return "bits_per_char";
    case Metric::perplexity:
      return "perplexity";
    case Metric::sequence_accuracy:
      return "sequence_accuracy";
  }
  return "?";
}

bool metric_higher_is_better(Metric metric) {
  return metric == Metric::accuracy || metric == Metric::sequence_accuracy;
}

double metric_value(Metric metric, const BatchStats& s) {
  const double per_step = s.weight_sum > 0 ? s.loss_sum / s.weight_sum : kNaN;
  switch (metric) {
    case Metric::mse:
    case Metric::nll_per_step:
      return per_step;
    case Metric::bits_per_char:
      return per_step / std::numbers::ln2;
    case Metric::perplexity:
      return std::exp(per_step);
    case Metric::accuracy:
      return s.scored > 0 ? s.correct / s.scored : kNaN;
    case Metric::sequence_accuracy:
      return s.sequences > 0 ? s.sequences_correct / s.sequences : kNaN;
  }
  return kNaN;
}

double step_accuracy(const TaskInfo& task, const BatchStats& stats) {
  if (task.loss != datasets::LossKind::softmax_xent) return kNaN;
  return metric_value(Metric::accuracy, stats);
}

double sequence_accuracy(const TaskInfo& task, const BatchStats& stats) {
  if (task.loss != datasets::LossKind::softmax_xent || task.stream) return kNaN;
  return metric_value(Metric::sequence_accuracy, stats);
}

Evaluation evaluate(const RunConfig& config, const TaskData& data, Split split,
                    const Vector<float>& parameters) {
  Model<float> model(cells::CellRegistry::instance().get(config.cell), data.info, config.hyper);
  if (parameters.size() != model.parameter_count())
    throw Error("evaluate: " + std::to_string(parameters.size()) +
                " parameters given, the model of " + config.cell + " has " +
                std::to_string(model.parameter_count()));
  if (split_empty(data, split))
    throw Error(std::string("evaluate: task ") + data.info.name + " has no " + split_name(split) +
                " data");
  Evaluator evaluator(data, config.hyper);
  return evaluator.run(model, parameters, split);
}

StoppingRule::StoppingRule(const TrainConfig& config, bool higher_is_better)
    : config_(config), higher_(higher_is_better), lr_(config.lr) {}

StoppingRule::Decision StoppingRule::after_epoch(int epoch, double m) {
  Decision d;
  d.improved = !std::isnan(m) && (!have_best_ || (higher_ ? m > best_ : m < best_));
  if (d.improved) {
    best_ = m;
    have_best_ = true;
    since_best_ = 0;
  } else {
    ++since_best_;
  }
  if (config_.lr_decay == LrDecay::plateau_halve) {
    if (!decaying_ && since_best_ >= config_.decay_after) decaying_ = true;
    if (decaying_) {
      if (halvings_ >= config_.decay_epochs) {
        d.stop = true;
        d.reason = "learning-rate decay finished";
      } else {
        lr_ *= 0.5;
        ++halvings_;
      }
    }
  }
  if (!d.stop && config_.patience > 0 && since_best_ >= config_.patience) {
    d.stop = true;
    d.reason = "no validation improvement for " + std::to_string(since_best_) + " epochs";
  }
  if (!d.stop && epoch >= config_.max_epochs) {
    d.stop = true;
    d.reason = "max_epochs reached";
  }
  d.lr = lr_;
  return d;
}

}  // namespace cellzoo::train
