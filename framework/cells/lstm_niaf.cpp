// lstm-niaf: Greff et al.'s No Input Activation Function variant (Greff et al. 2015, NIAF).
//
//   z = W_z x + R_z y + b_z                          (linear block input)
//   i = sigmoid(W_i x + R_i y + p_i * c_prev + b_i)
//   f = sigmoid(W_f x + R_f y + p_f * c_prev + b_f)
//   c = z * i + c_prev * f
//   o = sigmoid(W_o x + R_o y + p_o * c + b_o)
//   y = tanh(c) * o
//
// Differs from lstm in one line: g(x) = x, so z is not squashed. Same tensors as lstm:
// W (4H x I), R (4H x H), b (4H), rows stacked z, i, f, o; p_i, p_f, p_o (H).
// Count: 4H(I+H+1) + 3H.
#include "framework/cells/lstm_kernel.hpp"
#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

void register_cell_lstm_niaf(CellRegistry& registry) {
  LstmOptions options;
  options.input_activation = LstmActivation::identity;
  registry.add<LstmCell>(
      {"lstm-niaf", "lstm", "LSTM with linear block input, g(x) = x (Greff et al. 2015: NIAF)",
       "4H(I+H+1) + 3H"},
      options);
}

}  // namespace cellzoo::cells
