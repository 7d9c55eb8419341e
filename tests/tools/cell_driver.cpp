// cell_driver: runs one cellzoo cell forward and backward in double on weights given in
// PyTorch's layout, for tests/python/test_torch_crosscheck.py.
//
//   cell_driver IN OUT
//
// IN is text: "cell NAME", "input I", "hidden H", optionally "layers L" (default 1),
// "lengths l_0 ... l_{B-1}" (non-increasing), then tensors as "tensor NAME ROWS COLS"
// followed by ROWS*COLS numbers in row-major order: x (T*B x I, PyTorch's (T, B, I)
// flattened), h0 (L*B x H, PyTorch's (L, B, H)), c0 (the same, LSTMs only), and per layer k
// weight_ih_lk, weight_hh_lk, bias_ih_lk, bias_hh_lk (biases as N x 1), and dy (T*B x H,
// the upstream gradient on the top layer's outputs). OUT gets tensors in the same format:
// y, h_n, c_n (LSTMs), grad_x, and the gradients of every PyTorch parameter. With L > 1 the
// cell is a CellStack (cells/cell_stack.hpp): PyTorch's layer k is cellzoo's cell_k.
//
// The mapping between layouts is the point of the exercise: rnn and gru-ra take PyTorch's
// rows as they are (gru-ra splits bias_hh's n block off as b_hn); lstm-np reorders PyTorch's
// gate blocks [i | f | g | o] to cellzoo's [z | i | f | o] (z = g). Single-bias tensors
// get b_ih + b_hh, and both PyTorch biases receive the gradient of that sum.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "framework/cells/cell_stack.hpp"
#include "framework/cells/registry.hpp"
#include "framework/util/error.hpp"

using namespace cellzoo;
using namespace cellzoo::cells;

namespace {

using Mat = Matrix<double>;

struct Input {
  std::string cell;
  Index input = 0, hidden = 0;
  int layers = 1;
  std::vector<Index> lengths;
  std::map<std::string, Mat> tensors;
  const Mat& at(const std::string& name) const {
    const auto it = tensors.find(name);
    if (it == tensors.end()) throw Error("input file has no tensor '" + name + "'");
    return it->second;
  }
};

Input read_input(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error("cannot read " + path);
  Input r;
  std::string key;
  while (in >> key) {
    if (key == "cell") {
      in >> r.cell;
    } else if (key == "input") {
      in >> r.input;
    } else if (key == "hidden") {
      in >> r.hidden;
    } else if (key == "layers") {
      in >> r.layers;
    } else if (key == "lengths") {
      std::string line;
      std::getline(in, line);
      std::istringstream ls(line);
      for (Index l; ls >> l;) r.lengths.push_back(l);
    } else if (key == "tensor") {
      std::string name;
      Index rows = 0, cols = 0;
      in >> name >> rows >> cols;
      Mat m(rows, cols);
      for (Index i = 0; i < rows; ++i)
        for (Index j = 0; j < cols; ++j) in >> m(i, j);
      r.tensors[name] = m;
    } else {
      throw Error("unknown key '" + key + "' in " + path);
    }
    if (!in) throw Error("malformed input near '" + key + "' in " + path);
  }
  return r;
}

void write_tensor(std::FILE* f, const std::string& name, const Mat& m) {
  std::fprintf(f, "tensor %s %ld %ld\n", name.c_str(), static_cast<long>(m.rows()),
               static_cast<long>(m.cols()));
  for (Index i = 0; i < m.rows(); ++i) {
    for (Index j = 0; j < m.cols(); ++j) std::fprintf(f, "%.17g ", m(i, j));
    std::fprintf(f, "\n");
  }
}

// PyTorch's LSTM gate blocks are [i | f | g | o], cellzoo's [z | i | f | o] with z = g:
// cellzoo block k is PyTorch block kLstmFromTorch[k].
constexpr Index kLstmFromTorch[4] = {2, 0, 1, 3};

Mat torch_to_lstm(const Mat& m, Index H) {
  Mat out(m.rows(), m.cols());
  for (Index k = 0; k < 4; ++k) out.middleRows(k * H, H) = m.middleRows(kLstmFromTorch[k] * H, H);
  return out;
}

Mat lstm_to_torch(const Mat& m, Index H) {
  Mat out(m.rows(), m.cols());
  for (Index k = 0; k < 4; ++k) out.middleRows(kLstmFromTorch[k] * H, H) = m.middleRows(k * H, H);
  return out;
}

int run(const std::string& in_path, const std::string& out_path) {
  const Input in = read_input(in_path);
  const Index I = in.input, H = in.hidden;
  const int L = in.layers;
  const auto seq = SequenceLayout::from_lengths(in.lengths);
  const Index cols = seq.columns(), B = seq.batch();
  const auto& entry = CellRegistry::instance().get(in.cell);
  CellStack<double> cell(entry, I, H, L, 0.0);
  Vector<double> theta = Vector<double>::Zero(cell.parameter_count());
  // Tensor `name` of layer k inside theta (or dtheta).
  auto find = [&](int k, const std::string& name) -> ParamTensor {
    ParamTensor t = cell.layer(k).layout().find(name);
    t.offset += cell.layer_offset(k);
    return t;
  };
  auto put = [&](int k, const std::string& name, const Mat& v) {
    const auto t = find(k, name);
    if (v.rows() != t.rows || v.cols() != t.cols)
      throw Error("tensor " + name + " has the wrong shape");
    Eigen::Map<Mat>(theta.data() + t.offset, t.rows, t.cols) = v;
  };
  auto get = [&](const Vector<double>& v, int k, const std::string& name) -> Mat {
    const auto t = find(k, name);
    return Eigen::Map<const Mat>(v.data() + t.offset, t.rows, t.cols);
  };

  const bool lstm = in.cell == "lstm-np";
  for (int k = 0; k < L; ++k) {
    const std::string l = "_l" + std::to_string(k);
    const Mat& w_ih = in.at("weight_ih" + l);
    const Mat& w_hh = in.at("weight_hh" + l);
    const Mat& b_ih = in.at("bias_ih" + l);
    const Mat& b_hh = in.at("bias_hh" + l);
    if (in.cell == "rnn") {
      put(k, "W", w_ih);
      put(k, "R", w_hh);
      put(k, "b", b_ih + b_hh);
    } else if (lstm) {
      put(k, "W", torch_to_lstm(w_ih, H));
      put(k, "R", torch_to_lstm(w_hh, H));
      put(k, "b", torch_to_lstm(b_ih + b_hh, H));
    } else if (in.cell == "gru-ra") {
      put(k, "W", w_ih);
      put(k, "R", w_hh);
      Mat b = b_ih;
      b.topRows(2 * H) += b_hh.topRows(2 * H);
      put(k, "b", b);
      put(k, "b_hn", b_hh.bottomRows(H));
    } else {
      throw Error("cell_driver maps PyTorch weights for rnn, lstm-np and gru-ra only, not '" +
                  in.cell + "'");
    }
  }

  // h0 and c0 are PyTorch's (L, B, H) as L*B x H: layer k's rows k*B .. (k+1)*B-1.
  CellState<double> initial;
  for (int k = 0; k < L; ++k) {
    initial.push_back(in.at("h0").middleRows(k * B, B).transpose());
    if (lstm) initial.push_back(in.at("c0").middleRows(k * B, B).transpose());
  }
  const Mat x = in.at("x").transpose();  // I x T*B: PyTorch's (T, B, I) memory order
  Mat h(H, cols);
  CellState<double> final;
  cell.forward(theta, x, seq, &initial, h, &final);
  const Mat dh = in.at("dy").transpose();
  Vector<double> dtheta(theta.size());
  Mat dx(I, cols);
  cell.backward(theta, x, seq, dh, dtheta, &dx);

  std::FILE* f = std::fopen(out_path.c_str(), "w");
  if (!f) throw Error("cannot write " + out_path);
  write_tensor(f, "y", h.transpose());
  const Index per = lstm ? 2 : 1;
  Mat h_n(L * B, H), c_n(L * B, H);
  for (int k = 0; k < L; ++k) {
    h_n.middleRows(k * B, B) = final.at(static_cast<std::size_t>(k * per)).transpose();
    if (lstm)
      c_n.middleRows(k * B, B) = final.at(static_cast<std::size_t>(k * per + 1)).transpose();
  }
  write_tensor(f, "h_n", h_n);
  if (lstm) write_tensor(f, "c_n", c_n);
  write_tensor(f, "grad_x", dx.transpose());
  for (int k = 0; k < L; ++k) {
    Mat g_ih, g_hh, g_bih, g_bhh;
    if (in.cell == "rnn") {
      g_ih = get(dtheta, k, "W");
      g_hh = get(dtheta, k, "R");
      g_bih = g_bhh = get(dtheta, k, "b");
    } else if (lstm) {
      g_ih = lstm_to_torch(get(dtheta, k, "W"), H);
      g_hh = lstm_to_torch(get(dtheta, k, "R"), H);
      g_bih = g_bhh = lstm_to_torch(get(dtheta, k, "b"), H);
    } else {
      g_ih = get(dtheta, k, "W");
      g_hh = get(dtheta, k, "R");
      g_bih = get(dtheta, k, "b");
      g_bhh = g_bih;
      g_bhh.bottomRows(H) = get(dtheta, k, "b_hn");
    }
    const std::string l = "_l" + std::to_string(k);
    write_tensor(f, "grad_weight_ih" + l, g_ih);
    write_tensor(f, "grad_weight_hh" + l, g_hh);
    write_tensor(f, "grad_bias_ih" + l, g_bih);
    write_tensor(f, "grad_bias_hh" + l, g_bhh);
  }
  return std::fclose(f) == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: cell_driver IN OUT (see tests/tools/cell_driver.cpp)\n";
    return 2;
  }
  try {
    return run(argv[1], argv[2]);
  } catch (const Error& e) {
    std::cerr << "cell_driver: " << e.what() << (e.hint().empty() ? "" : " (" + e.hint() + ")")
              << "\n";
    return 2;
  }
}
