// lstm-fgr: Greff et al.'s Full Gate Recurrence variant (Greff et al. 2015, FGR; the
// gate-to-gate recurrence of the 1997 LSTM). Every gate also sees the previous step's
// activations of all three gates, a = [i_{t-1}; f_{t-1}; o_{t-1}]:
//
//   z = tanh(W_z x + R_z y + b_z)
//   i = sigmoid(W_i x + R_i y + p_i * c_prev + R_ii i' + R_fi f' + R_oi o' + b_i)
//   f = sigmoid(W_f x + R_f y + p_f * c_prev + R_if i' + R_ff f' + R_of o' + b_f)
//   c = z * i + c_prev * f
//   o = sigmoid(W_o x + R_o y + p_o * c + R_io i' + R_fo f' + R_oo o' + b_o)
//   y = tanh(c) * o
//
// Differs from lstm in one term per gate: + R_gates * a, the nine H x H matrices stored as
// one R_gates (3H x 3H) whose block (r, s) maps gate s at t-1 to gate r at t, both in the
// order i, f, o (so R_fi, gate f into gate i, is block (0, 1)).
// Parameters: lstm's W (4H x I), R (4H x H), b (4H), p_i, p_f, p_o (H), then R_gates.
// Count: 4H(I+H+1) + 3H + 9H^2. States: y, c, then i, f, o of the previous step (zero in a
// zero initial state), so that a sequence split into windows runs exactly as a whole.
#include "framework/cells/lstm_kernel.hpp"
#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

void register_cell_lstm_fgr(CellRegistry& registry) {
  LstmOptions options;
  options.full_gate_recurrence = true;
  registry.add<LstmCell>(
      {"lstm-fgr", "lstm", "LSTM with full gate recurrence, 9 extra HxH (Greff et al. 2015: FGR)",
       "4H(I+H+1) + 3H + 9H^2"},
      options);
}

}  // namespace cellzoo::cells
