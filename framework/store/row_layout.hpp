// The rows of the results file's tables as packed byte buffers (internal to the store).
// A RowLayout names each column's type, width and offset, builds the matching HDF5
// compound types and reads and writes single fields. The default layouts are those of a
// newly created file; layout_from_dataset takes the string widths an existing file was
// written with, so a reader or a resumed writer honours them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "framework/store/hdf5_util.hpp"
#include "framework/store/results_file.hpp"

namespace cellzoo::store::detail {

enum class FieldType { i64, f64, str };

struct Field {
  std::string name;
  FieldType type;
  std::size_t width = 0;  // bytes (strings only)
  std::size_t offset = 0;
};

class RowLayout {
 public:
  void add(std::string name, FieldType type, std::size_t width = 0) {
    const std::size_t bytes = type == FieldType::str ? width : 8;
    fields_.push_back({std::move(name), type, width, size_});
    size_ += bytes;
  }
  std::size_t size() const { return size_; }
  const std::vector<Field>& fields() const { return fields_; }
  const Field& operator[](std::size_t i) const { return fields_[i]; }

  // The in-memory compound type (native numbers); with `for_file`, the explicit
  // little-endian types stored on disk.
  Handle make_type(bool for_file) const;

  void put(char* row, std::size_t i, std::int64_t v) const {
    std::memcpy(row + fields_[i].offset, &v, 8);
  }
  void put(char* row, std::size_t i, double v) const {
    std::memcpy(row + fields_[i].offset, &v, 8);
  }
  void put(char* row, std::size_t i, const std::string& v) const {
    const Field& f = fields_[i];
    std::memset(row + f.offset, 0, f.width);
    std::memcpy(row + f.offset, v.data(), std::min(v.size(), f.width));
  }
  std::int64_t get_i64(const char* row, std::size_t i) const {
    std::int64_t v;
    std::memcpy(&v, row + fields_[i].offset, 8);
    return v;
  }
  double get_f64(const char* row, std::size_t i) const {
    double v;
    std::memcpy(&v, row + fields_[i].offset, 8);
    return v;
  }
  std::string get_str(const char* row, std::size_t i) const {
    const Field& f = fields_[i];
    const char* begin = row + f.offset;
    return std::string(begin, std::find(begin, begin + f.width, '\0'));
  }

 private:
  std::vector<Field> fields_;
  std::size_t size_ = 0;
};

// The fixed columns of /runs around the hyperparameters, in file order.
inline constexpr const char* kRunHead[] = {"run_id", "run_key", "cell",   "task",
                                           "trial",  "seed",    "status", "error"};
inline constexpr const char* kRunTail[] = {"train_loss",   "valid_loss",   "test_loss",
                                           "valid_metric", "test_metric",  "best_epoch",
                                           "epochs",       "wall_seconds", "n_params"};
// Last, the columns added after schema version 1 was fixed (2026-12): a file without them
// is still a version-1 file; its layout (layout_from_dataset) lacks them.
inline constexpr const char* kRunOptional[] = {"valid_accuracy", "test_accuracy",
                                               "valid_sequence_accuracy", "test_sequence_accuracy"};
inline constexpr std::size_t kHead = std::size(kRunHead);
inline constexpr std::size_t kTail = std::size(kRunTail);

bool is_fixed_run_column(const std::string& name);

RowLayout default_run_layout(const std::vector<HyperColumn>& hyper);
RowLayout default_curve_layout();
RowLayout default_cell_layout();
RowLayout default_candidate_layout();

// A layout with `wanted`'s columns and order, but the string widths (and presence) of the
// table `dataset` (named /`dataset_name` in `path`, for errors). Of /runs, the kRunOptional
// columns may be missing (a file written before them): the layout then ends at n_params.
RowLayout layout_from_dataset(hid_t dataset, const RowLayout& wanted, const std::string& path,
                              const std::string& dataset_name);

}  // namespace cellzoo::store::detail
