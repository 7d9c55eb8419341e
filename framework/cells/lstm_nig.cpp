// lstm-nig: Greff et al.'s No Input Gate variant (Greff et al. 2015, NIG).
//
//   z = tanh(W_z x + R_z y + b_z)
//   f = sigmoid(W_f x + R_f y + p_f * c_prev + b_f)
//   c = z + c_prev * f
//   o = sigmoid(W_o x + R_o y + p_o * c + b_o)
//   y = tanh(c) * o
//
// Differs from lstm in one line: i = 1 (and W_i, R_i, b_i, p_i are gone).
// Parameters: W (3H x I), R (3H x H), b (3H), rows stacked z, f, o; p_f, p_o (H).
// Count: 3H(I+H+1) + 2H.
#include "framework/cells/lstm_kernel.hpp"
#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

void register_cell_lstm_nig(CellRegistry& registry) {
  LstmOptions options;
  options.input_gate = false;
  registry.add<LstmCell>(
      {"lstm-nig", "lstm", "LSTM without input gate, i = 1 (Greff et al. 2015: NIG)",
       "3H(I+H+1) + 2H"},
      options);
}

}  // namespace cellzoo::cells
