// mut2: the second of the three best mutants of Jozefowicz, Zaremba & Sutskever 2015
// ("An Empirical Exploration of Recurrent Network Architectures", ICML), as printed there.
//
//   z_t = sigmoid(W_z x_t + R_z h_{t-1} + b_z)
//   r_t = sigmoid(x_t + R_r h_{t-1} + b_r)             (raw x, no input weights)
//   n_t = tanh(R_h (r_t * h_{t-1}) + W_h x_t + b_h)
//   h_t = z_t * n_t + (1 - z_t) * h_{t-1}             (z takes the new candidate)
//
// x enters r without a weight matrix, so the input size must equal the hidden size.
// Parameters, gate order r, z, n: W (2H x I) = [W_z; W_h] (rows of z and n),
// R (2H x H) = [R_r; R_z], Rh (H x H), b (3H) = [b_r; b_z; b_h]. Count: 2HI + 3H^2 + 3H.
// Compared with gru: r loses its input weights to the raw x, and z's role is flipped.
// Kernel: gru_kernel.hpp.
#include "framework/cells/gru_kernel.hpp"
#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

void register_cell_mut2(CellRegistry& registry) {
  GruOptions options;
  options.reset_input = GruOptions::ResetInput::raw;
  options.update_keeps_old = false;
  options.name = "mut2";
  CellInfo info{"mut2", "mut", "MUT2: raw x into the reset gate (Jozefowicz et al. 2015)",
                "2HI + 3H^2 + 3H"};
  info.square_input = true;
  registry.add<GruCell>(std::move(info), options);
}

}  // namespace cellzoo::cells
