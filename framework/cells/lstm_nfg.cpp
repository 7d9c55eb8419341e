// lstm-nfg: Greff et al.'s No Forget Gate variant (Greff et al. 2015, NFG): the pure
// constant error carousel of the 1997 LSTM.
//
//   z = tanh(W_z x + R_z y + b_z)
//   i = sigmoid(W_i x + R_i y + p_i * c_prev + b_i)
//   c = z * i + c_prev
//   o = sigmoid(W_o x + R_o y + p_o * c + b_o)
//   y = tanh(c) * o
//
// Differs from lstm in one line: f = 1 (and W_f, R_f, b_f, p_f are gone, so there is no
// forget-gate bias to initialise).
// Parameters: W (3H x I), R (3H x H), b (3H), rows stacked z, i, o; p_i, p_o (H).
// Count: 3H(I+H+1) + 2H.
#include "framework/cells/lstm_kernel.hpp"
#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

void register_cell_lstm_nfg(CellRegistry& registry) {
  LstmOptions options;
  options.forget_gate = false;
  registry.add<LstmCell>(
      {"lstm-nfg", "lstm", "LSTM without forget gate, f = 1 (Greff et al. 2015: NFG)",
       "3H(I+H+1) + 2H"},
      options);
}

}  // namespace cellzoo::cells
