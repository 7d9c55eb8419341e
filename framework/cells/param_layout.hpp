// Named tensors inside one flat parameter vector. The model owns the vector (so the
// optimiser, clipping, gradient checks and HDF5 I/O see one contiguous block); a cell
// only holds offsets into it. Matrices are stored column-major.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "framework/util/eigen.hpp"

namespace cellzoo::cells {

enum class ParamKind { input_weight, recurrent_weight, bias, peephole };

struct ParamTensor {
  std::string name;
  Index rows = 0;
  Index cols = 0;
  Index offset = 0;
  ParamKind kind = ParamKind::input_weight;
  Index size() const { return rows * cols; }
};

class ParamLayout {
 public:
  // Appends a tensor and returns its offset. Names must be unique.
  Index add(std::string name, Index rows, Index cols, ParamKind kind);
  Index size() const { return size_; }
  const std::vector<ParamTensor>& tensors() const { return tensors_; }
  bool has(std::string_view name) const;
  // Throws cellzoo::Error listing the tensor names when `name` is unknown.
  const ParamTensor& find(std::string_view name) const;

 private:
  std::vector<ParamTensor> tensors_;
  Index size_ = 0;
};

}  // namespace cellzoo::cells
