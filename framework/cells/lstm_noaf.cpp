// lstm-noaf: Greff et al.'s No Output Activation Function variant (Greff et al. 2015,
// NOAF). The unbounded cell state reaches the output directly.
//
//   z = tanh(W_z x + R_z y + b_z)
//   i = sigmoid(W_i x + R_i y + p_i * c_prev + b_i)
//   f = sigmoid(W_f x + R_f y + p_f * c_prev + b_f)
//   c = z * i + c_prev * f
//   o = sigmoid(W_o x + R_o y + p_o * c + b_o)
//   y = c * o
//
// Differs from lstm in one line: h(x) = x, so y = c * o. Same tensors as lstm:
// W (4H x I), R (4H x H), b (4H), rows stacked z, i, f, o; p_i, p_f, p_o (H).
// Count: 4H(I+H+1) + 3H.
#include "framework/cells/lstm_kernel.hpp"
#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

void register_cell_lstm_noaf(CellRegistry& registry) {
  LstmOptions options;
  options.output_activation = LstmActivation::identity;
  registry.add<LstmCell>(
      {"lstm-noaf", "lstm", "LSTM with linear output, y = c * o (Greff et al. 2015: NOAF)",
       "4H(I+H+1) + 3H"},
      options);
}

}  // namespace cellzoo::cells
