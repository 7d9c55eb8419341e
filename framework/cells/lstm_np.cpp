// lstm-np: Greff et al.'s No Peepholes variant (Greff et al. 2015, NP).
//
//   z = tanh(W_z x + R_z y + b_z)
//   i = sigmoid(W_i x + R_i y + b_i)
//   f = sigmoid(W_f x + R_f y + b_f)
//   c = z * i + c_prev * f
//   o = sigmoid(W_o x + R_o y + b_o)
//   y = tanh(c) * o
//
// Differs from lstm in one respect: p_i = p_f = p_o = 0, and the peephole tensors are gone.
// Parameters: W (4H x I), R (4H x H), b (4H), rows stacked z, i, f, o. Count: 4H(I+H+1).
// PyTorch twin: nn.LSTM, whose rows are stacked [i | f | g | o]: W = weight_ih_l0 with the
// blocks reordered to [g | i | f | o], likewise R = weight_hh_l0, b = bias_ih_l0 + bias_hh_l0.
#include "framework/cells/lstm_kernel.hpp"
#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

void register_cell_lstm_np(CellRegistry& registry) {
  LstmOptions options;
  options.peepholes = false;
  registry.add<LstmCell>(
      {"lstm-np", "lstm", "LSTM without peepholes, = PyTorch nn.LSTM (Greff et al. 2015: NP)",
       "4H(I+H+1)"},
      options);
}

}  // namespace cellzoo::cells
