// lstm-nog: Greff et al.'s No Output Gate variant (Greff et al. 2015, NOG).
//
//   z = tanh(W_z x + R_z y + b_z)
//   i = sigmoid(W_i x + R_i y + p_i * c_prev + b_i)
//   f = sigmoid(W_f x + R_f y + p_f * c_prev + b_f)
//   c = z * i + c_prev * f
//   y = tanh(c)
//
// Differs from lstm in one line: o = 1 (and W_o, R_o, b_o, p_o are gone).
// Parameters: W (3H x I), R (3H x H), b (3H), rows stacked z, i, f; p_i, p_f (H).
// Count: 3H(I+H+1) + 2H.
#include "framework/cells/lstm_kernel.hpp"
#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

void register_cell_lstm_nog(CellRegistry& registry) {
  LstmOptions options;
  options.output_gate = false;
  registry.add<LstmCell>(
      {"lstm-nog", "lstm", "LSTM without output gate, y = tanh(c) (Greff et al. 2015: NOG)",
       "3H(I+H+1) + 2H"},
      options);
}

}  // namespace cellzoo::cells
