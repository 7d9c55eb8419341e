// mut3: the third of the three best mutants of Jozefowicz, Zaremba & Sutskever 2015
// ("An Empirical Exploration of Recurrent Network Architectures", ICML), as printed there.
//
//   z_t = sigmoid(W_z x_t + R_z tanh(h_{t-1}) + b_z)   (z sees tanh(h))
//   r_t = sigmoid(W_r x_t + R_r h_{t-1} + b_r)
//   n_t = tanh(R_h (r_t * h_{t-1}) + W_h x_t + b_h)
//   h_t = z_t * n_t + (1 - z_t) * h_{t-1}             (z takes the new candidate)
//
// Parameters, gate order r, z, n: W (3H x I), R (H x H) = R_r, Rz (H x H), Rh (H x H),
// b (3H). Count: 3H(I + H + 1), the same as gru.
// Compared with gru: z reads tanh(h) instead of h, and z's role is flipped. The three
// recurrent matrices multiply three different vectors (h, tanh h, r * h), hence three
// tensors. Kernel: gru_kernel.hpp.
#include "framework/cells/gru_kernel.hpp"
#include "framework/cells/registry.hpp"

namespace cellzoo::cells {

void register_cell_mut3(CellRegistry& registry) {
  GruOptions options;
  options.update_recurrence = GruOptions::UpdateRecurrence::tanh_h;
  options.update_keeps_old = false;
  options.name = "mut3";
  registry.add<GruCell>(
      {"mut3", "mut", "MUT3: tanh(h) into the update gate (Jozefowicz et al. 2015)", "3H(I+H+1)"},
      options);
}

}  // namespace cellzoo::cells
