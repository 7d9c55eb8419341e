// RowLayout's HDF5 types and the layouts of the four tables (docs/results-format.md).
#include "framework/store/row_layout.hpp"

namespace cellzoo::store::detail {

Handle RowLayout::make_type(bool for_file) const {
  Handle type = type_handle(check(H5Tcreate(H5T_COMPOUND, size_), "creating a compound row type"));
  for (const auto& f : fields_) {
    Handle string;
    hid_t member = H5I_INVALID_HID;
    switch (f.type) {
      case FieldType::i64:
        member = for_file ? H5T_STD_I64LE : H5T_NATIVE_INT64;
        break;
      case FieldType::f64:
        member = for_file ? H5T_IEEE_F64LE : H5T_NATIVE_DOUBLE;
        break;
      case FieldType::str:
        string = string_type(f.width);
        member = string.get();
        break;
    }
    check_status(H5Tinsert(type.get(), f.name.c_str(), f.offset, member),
                 "adding column '" + f.name + "' to a row type");
  }
  return type;
}

namespace {

FieldType run_field_type(const std::string& name) {
  if (name == "run_key" || name == "cell" || name == "task" || name == "status" || name == "error")
    return FieldType::str;
  if (name == "run_id" || name == "trial" || name == "seed" || name == "best_epoch" ||
      name == "epochs" || name == "n_params")
    return FieldType::i64;
  return FieldType::f64;
}

std::size_t run_field_width(const std::string& name) {
  if (name == "run_key") return kRunKeyWidth;
  if (name == "cell") return kCellWidth;
  if (name == "task") return kTaskWidth;
  if (name == "status") return kStatusWidth;
  if (name == "error") return kErrorWidth;
  return 0;
}

}  // namespace

bool is_fixed_run_column(const std::string& name) {
  for (const char* c : kRunHead)
    if (name == c) return true;
  for (const char* c : kRunTail)
    if (name == c) return true;
  for (const char* c : kRunOptional)
    if (name == c) return true;
  return false;
}

RowLayout default_run_layout(const std::vector<HyperColumn>& hyper) {
  RowLayout layout;
  for (const char* c : kRunHead) layout.add(c, run_field_type(c), run_field_width(c));
  for (const auto& h : hyper)
    layout.add(h.name, h.kind == HyperColumn::text ? FieldType::str : FieldType::f64,
               h.kind == HyperColumn::text ? kHyperTextWidth : 0);
  for (const char* c : kRunTail) layout.add(c, run_field_type(c));
  for (const char* c : kRunOptional) layout.add(c, FieldType::f64);
  return layout;
}

RowLayout default_curve_layout() {
  RowLayout layout;
  layout.add("run_id", FieldType::i64);
  layout.add("epoch", FieldType::i64);
  for (const char* c : {"train_loss", "valid_loss", "valid_metric", "learning_rate", "seconds"})
    layout.add(c, FieldType::f64);
  return layout;
}

RowLayout default_cell_layout() {
  RowLayout layout;
  layout.add("name", FieldType::str, kCellWidth);
  layout.add("hash", FieldType::str, kCellHashWidth);
  layout.add("text", FieldType::str, kCellTextWidth);
  return layout;
}

// /candidates (search = evolution); integer and float columns are 8 bytes like the others.
RowLayout default_candidate_layout() {
  RowLayout layout;
  layout.add("shard", FieldType::i64);
  layout.add("generation", FieldType::i64);
  layout.add("index", FieldType::i64);
  layout.add("kind", FieldType::str, kCandidateKindWidth);
  layout.add("name", FieldType::str, kCellWidth);
  layout.add("hash", FieldType::str, kCellHashWidth);
  layout.add("parent_hash", FieldType::str, kCellHashWidth);
  layout.add("stage", FieldType::i64);
  layout.add("stage_task", FieldType::str, kTaskWidth);
  layout.add("status", FieldType::str, kStatusWidth);
  layout.add("fitness", FieldType::f64);
  return layout;
}

RowLayout layout_from_dataset(hid_t dataset, const RowLayout& wanted, const std::string& path,
                              const std::string& dataset_name) {
  Handle file_type =
      type_handle(check(H5Dget_type(dataset), "reading the row type of /" + dataset_name));
  if (H5Tget_class(file_type.get()) != H5T_COMPOUND)
    throw Error(
        "'" + path + "' is not a cellzoo results file: /" + dataset_name + " is not a table",
        "pass a file written by cellzoo");
  RowLayout layout;
  for (const auto& f : wanted.fields()) {
    const int index = H5Tget_member_index(file_type.get(), f.name.c_str());
    if (index < 0 && dataset_name == "runs" &&
        std::any_of(std::begin(kRunOptional), std::end(kRunOptional),
                    [&](const char* c) { return f.name == c; }))
      continue;  // an older file: read as NaN, not written on resume
    if (index < 0)
      throw Error("'" + path + "' is not a cellzoo results file: /" + dataset_name +
                      " has no column '" + f.name + "'",
                  "pass a file written by cellzoo (schema in docs/results-format.md)");
    Handle member =
        type_handle(check(H5Tget_member_type(file_type.get(), static_cast<unsigned>(index)),
                          "reading column '" + f.name + "'"));
    const H5T_class_t cls = H5Tget_class(member.get());
    const bool ok = f.type == FieldType::str
                        ? cls == H5T_STRING && H5Tis_variable_str(member.get()) <= 0
                    : f.type == FieldType::i64 ? cls == H5T_INTEGER
                                               : cls == H5T_FLOAT || cls == H5T_INTEGER;
    if (!ok)
      throw Error("'" + path + "' is not a cellzoo results file: column '" + f.name + "' of /" +
                      dataset_name + " has an unexpected type",
                  "pass a file written by cellzoo (schema in docs/results-format.md)");
    layout.add(f.name, f.type, f.type == FieldType::str ? H5Tget_size(member.get()) : 0);
  }
  return layout;
}

}  // namespace cellzoo::store::detail
