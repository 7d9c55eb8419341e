#include "framework/cells/param_layout.hpp"

#include "framework/util/error.hpp"

namespace cellzoo::cells {

Index ParamLayout::add(std::string name, Index rows, Index cols, ParamKind kind) {
  if (has(name)) throw Error("parameter '" + name + "' declared twice");
  const Index offset = size_;
  tensors_.push_back({std::move(name), rows, cols, offset, kind});
  size_ += rows * cols;
  return offset;
}

bool ParamLayout::has(std::string_view name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return true;
  return false;
}

const ParamTensor& ParamLayout::find(std::string_view name) const {
  for (const auto& t : tensors_)
    if (t.name == name) return t;
  std::string known;
  for (const auto& t : tensors_) known += (known.empty() ? "" : ", ") + t.name;
  throw Error("no parameter tensor '" + std::string(name) + "'; this cell has: " + known);
}

}  // namespace cellzoo::cells
