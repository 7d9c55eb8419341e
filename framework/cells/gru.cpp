// gru: the gated recurrent unit with the reset gate applied to h BEFORE the recurrent
// product (Cho et al. 2014, arXiv:1406.1078 v3; the GRU of Jozefowicz et al. 2015).
//
//   r_t = sigmoid(W_r x_t + R_r h_{t-1} + b_r)
//   z_t = sigmoid(W_z x_t + R_z h_{t-1} + b_z)
//   n_t = tanh(W_n x_t + R_h (r_t * h_{t-1}) + b_n)
//   h_t = z_t * h_{t-1} + (1 - z_t) * n_t            (z keeps the old state)
//
// Parameters, gate order r, z, n: W (3H x I), R (2H x H) = [R_r; R_z], Rh (H x H),
// b (3H). Count: 3H(I + H + 1).
// Differs from gru-ra only in where r acts: R_h (r * h) here, r * (R_n h + b_hn) there;
// the two differ whenever R_h is not diagonal, and only gru-ra matches PyTorch's nn.GRU.
// R_h is a tensor of its own because its operand r * h exists only after the step's gates.
// The kernel is the GRU family's (gru_kernel.hpp) with its default options.
#include "framework/cells/gru_kernel.hpp"
#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

void register_cell_gru(CellRegistry& registry) {
  GruOptions options;  // the defaults are gru
  registry.add<GruCell>({"gru", "gru",
                         "GRU, reset before the recurrent product (Cho et al. 2014 v3; "
                         "Jozefowicz et al. 2015)",
                         "3H(I+H+1)"},
                        options);
}

}  // namespace cellzoo::cells
