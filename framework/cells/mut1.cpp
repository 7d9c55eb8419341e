// mut1: the first of the three best mutants of Jozefowicz, Zaremba & Sutskever 2015
// ("An Empirical Exploration of Recurrent Network Architectures", ICML), as printed there.
//
//   z_t = sigmoid(W_z x_t + b_z)                       (z does not see h)
//   r_t = sigmoid(W_r x_t + R_r h_{t-1} + b_r)
//   n_t = tanh(R_h (r_t * h_{t-1}) + tanh(x_t) + b_h)
//   h_t = z_t * n_t + (1 - z_t) * h_{t-1}             (z takes the new candidate)
//
// tanh(x) enters without a weight matrix, so the input size must equal the hidden size.
// Parameters, gate order r, z, n: W (2H x I) = [W_r; W_z], R (H x H) = R_r,
// Rh (H x H), b (3H) = [b_r; b_z; b_h]. Count: 2HI + 2H^2 + 3H.
// Compared with gru: z loses its recurrent weights, the candidate's input weights become
// tanh(x), and z's role is flipped. Kernel: gru_kernel.hpp.
#include "framework/cells/gru_kernel.hpp"
#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

void register_cell_mut1(CellRegistry& registry) {
  GruOptions options;
  options.update_recurrence = GruOptions::UpdateRecurrence::none;
  options.candidate_input = GruOptions::CandidateInput::tanh;
  options.update_keeps_old = false;
  options.name = "mut1";
  CellInfo info{"mut1", "mut",
                "MUT1: z from x only, tanh(x) into the candidate (Jozefowicz et al. 2015)",
                "2HI + 2H^2 + 3H"};
  info.square_input = true;
  registry.add<GruCell>(std::move(info), options);
}

}  // namespace cellzoo::cells
