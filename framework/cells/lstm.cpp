// lstm: Greff et al.'s "vanilla" LSTM (Greff et al. 2015, "LSTM: A Search Space Odyssey",
// §1.2 of papers.md; the Graves & Schmidhuber 2005 cell): forget gate, diagonal
// peepholes, tanh block input and output activations.
//
//   z = tanh(W_z x + R_z y + b_z)
//   i = sigmoid(W_i x + R_i y + p_i * c_prev + b_i)
//   f = sigmoid(W_f x + R_f y + p_f * c_prev + b_f)
//   c = z * i + c_prev * f
//   o = sigmoid(W_o x + R_o y + p_o * c + b_o)      (the output gate peeks at the NEW c)
//   y = tanh(c) * o
//
// Parameters: W (4H x I), R (4H x H), b (4H), rows stacked z, i, f, o; p_i, p_f, p_o (H).
// Count: 4H(I+H+1) + 3H. States: 0 = y, 1 = c. The base of the eight variants.
#include "framework/cells/lstm_kernel.hpp"
#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

void register_cell_lstm(CellRegistry& registry) {
  registry.add<LstmCell>(
      {"lstm", "lstm", "vanilla LSTM: forget gate, peepholes, tanh g and h (Greff et al. 2015)",
       "4H(I+H+1) + 3H"},
      LstmOptions{});
}

}  // namespace cellzoo::cells
