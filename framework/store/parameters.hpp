// Saving and loading a trained model's parameters in HDF5: one 2-D dataset per named
// tensor under /parameters/<group>/<tensor>, in the tensor's mathematical shape
// (rows x cols, row-major on disk), so that h5py's f["parameters/cell/W"][:] is the
// matrix of the equations. Independent of the training room: a model is described as
// groups of (ParamTensor list, flat parameter vector), the vector holding each tensor
// column-major at its offset (see cells/param_layout.hpp). Format: docs/parameters.md.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "framework/cells/param_layout.hpp"

namespace cellzoo::store {

inline constexpr const char* kParametersSchemaName = "cellzoo-parameters";

// Attributes of /parameters.
struct ParameterInfo {
  std::string cell;
  std::int64_t input_size = 0;
  std::int64_t hidden_size = 0;
  std::map<std::string, std::string> extra;  // more string attributes (run_key, task, ...)
};

// One group to save: tensors located in `values` by their offsets.
template <typename S>
struct ParameterSource {
  std::string group;  // "cell", "readout", "embedding": no '/'
  std::vector<cells::ParamTensor> tensors;
  std::span<const S> values;
};

// One group to load into: every tensor must be in the file with the same shape.
template <typename S>
struct ParameterTarget {
  std::string group;
  std::vector<cells::ParamTensor> tensors;
  std::span<S> values;
};

struct StoredTensor {
  std::string name;
  std::int64_t rows = 0;
  std::int64_t cols = 0;
  std::string kind;  // input_weight, recurrent_weight, bias, peephole ("" if unknown)
};

struct StoredGroup {
  std::string group;
  std::vector<StoredTensor> tensors;  // in the order they were saved
};

struct ParameterFile {
  ParameterInfo info;
  std::vector<StoredGroup> groups;
};

// Writes a new file (never overwriting an existing one). The values are stored as
// float64 for S = double and float32 for S = float.
template <typename S>
void save_parameters(const std::string& path, const ParameterInfo& info,
                     const std::vector<ParameterSource<S>>& groups);

// What a parameter file holds (to build the model before loading into it).
ParameterFile inspect_parameters(const std::string& path);

// Fills every target tensor from the file (converting float32 <-> float64 as needed) and
// returns the file's attributes. Throws cellzoo::Error naming the tensor when a group or
// tensor is missing or a shape differs; nothing is promised about `values` then.
template <typename S>
ParameterInfo load_parameters(const std::string& path,
                              const std::vector<ParameterTarget<S>>& groups);

// Where `cellzoo sweep --save-params` puts a run's parameter file: beside the results file
// X.h5, in the directory X.params/, as <run_key>.params.h5 (merge copies them along).
std::string params_dir_for(const std::string& results_path);
std::string run_params_path(const std::string& results_path, const std::string& run_key);

extern template void save_parameters<float>(const std::string&, const ParameterInfo&,
                                            const std::vector<ParameterSource<float>>&);
extern template void save_parameters<double>(const std::string&, const ParameterInfo&,
                                             const std::vector<ParameterSource<double>>&);
extern template ParameterInfo load_parameters<float>(const std::string&,
                                                     const std::vector<ParameterTarget<float>>&);
extern template ParameterInfo load_parameters<double>(const std::string&,
                                                      const std::vector<ParameterTarget<double>>&);

}  // namespace cellzoo::store
