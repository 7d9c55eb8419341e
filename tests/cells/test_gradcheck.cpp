// The finite-difference gradient check itself: it catches a wrong gradient, and the
// GRU-family kernel passes it under every option set. Every registered cell is checked by
// the cell contract (tests/contract).
#include <catch2/catch.hpp>

#include "framework/cells/gradcheck.hpp"
#include "framework/cells/gru_kernel.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo;
using namespace cellzoo::cells;

TEST_CASE("gradcheck catches a wrong gradient", "[cells][gradcheck]") {
  // A cell whose backward is off by a factor must fail: the check can fail.
  auto entry = CellRegistry::instance().get("rnn");
  struct Broken : Cell<double> {
    std::unique_ptr<Cell<double>> inner;
    explicit Broken(std::unique_ptr<Cell<double>> c)
        : Cell<double>(c->input_size(), c->hidden_size()), inner(std::move(c)) {
      layout_ = inner->layout();
    }
    void do_forward(ConstVectorRef<double> th, ConstMatrixRef<double> x, const SequenceLayout& s,
                    const CellState<double>* i, MatrixRef<double> h,
                    CellState<double>* f) override {
      inner->forward(th, x, s, i, h, f);
    }
    void do_backward(ConstVectorRef<double> th, ConstMatrixRef<double> x, const SequenceLayout& s,
                     ConstMatrixRef<double> dh, VectorRef<double> dth,
                     Matrix<double>* dx) override {
      inner->backward(th, x, s, dh, dth, dx);
      dth *= 1.001;
    }
  };
  CellEntry broken = entry;
  broken.make_double = [entry](Index i, Index h) -> std::unique_ptr<Cell<double>> {
    return std::make_unique<Broken>(entry.make_double(i, h));
  };
  CHECK(gradcheck(broken, default_gradcheck_problems(false)).max_error > 1e-4);
}

TEST_CASE("unknown cell names list the registered ones", "[cells][registry]") {
  try {
    CellRegistry::instance().get("lstm-xyz");
    FAIL("expected an error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("unknown cell 'lstm-xyz'") != std::string::npos);
    CHECK(e.hint().find("rnn") != std::string::npos);
  }
}

TEST_CASE("the GRU-family kernel matches finite differences for every option set",
          "[cells][gradcheck]") {
  // The registered cells use four of the 24 option sets; the kernel's other branch
  // combinations (e.g. z reading tanh(h) while keeping the old state) are checked here.
  using O = GruOptions;
  for (const auto reset : {O::ResetInput::weighted, O::ResetInput::raw})
    for (const auto update :
         {O::UpdateRecurrence::h, O::UpdateRecurrence::tanh_h, O::UpdateRecurrence::none})
      for (const auto candidate : {O::CandidateInput::weighted, O::CandidateInput::tanh})
        for (const bool keeps_old : {true, false}) {
          O options;
          options.reset_input = reset;
          options.update_recurrence = update;
          options.candidate_input = candidate;
          options.update_keeps_old = keeps_old;
          const bool square = reset == O::ResetInput::raw || candidate == O::CandidateInput::tanh;
          CellEntry entry;
          entry.info = {"gru-options", "gru", "", "", square};
          entry.make_float = [=](Index i, Index h) {
            return std::make_unique<GruCell<float>>(i, h, options);
          };
          entry.make_double = [=](Index i, Index h) {
            return std::make_unique<GruCell<double>>(i, h, options);
          };
          const auto r = gradcheck(entry, default_gradcheck_problems(square));
          INFO("reset " << int(reset) << ", update " << int(update) << ", candidate "
                        << int(candidate) << ", keeps old " << keeps_old << ": worst tensor "
                        << r.worst_tensor << ", error " << r.max_error);
          CHECK(r.problems == 4);
          CHECK(r.max_error < 1e-7);
        }
}
