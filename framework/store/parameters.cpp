// Parameter files (see parameters.hpp and docs/parameters.md).
#include "framework/store/parameters.hpp"

#include <algorithm>
#include <filesystem>
#include <set>
#include <type_traits>

#include "framework/store/hdf5_util.hpp"
#include "framework/util/error.hpp"

namespace cellzoo::store {

using detail::check;
using detail::check_status;
using detail::Handle;
using detail::QuietErrors;

namespace {

constexpr const char* kRoot = "parameters";
const std::set<std::string> kReservedAttributes = {"schema", "cell", "input_size", "hidden_size"};

const char* kind_name(cells::ParamKind kind) {
  switch (kind) {
    case cells::ParamKind::input_weight:
      return "input_weight";
    case cells::ParamKind::recurrent_weight:
      return "recurrent_weight";
    case cells::ParamKind::bias:
      return "bias";
    case cells::ParamKind::peephole:
      return "peephole";
  }
  return "";
}

void check_name(const std::string& what, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "." || name == "..")
    throw Error(what + " name '" + name + "' cannot be an HDF5 object name",
                "use a non-empty name without '/'");
}

// Objects created under a group are listed in creation order (not alphabetically), so
// inspect_parameters() reports tensors in the model's order.
Handle ordered_group_plist() {
  Handle gcpl =
      detail::plist_handle(check(H5Pcreate(H5P_GROUP_CREATE), "creating a property list"));
  check_status(
      H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
      "tracking creation order");
  return gcpl;
}

herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

std::vector<std::string> children(hid_t group) {
  std::vector<std::string> names;
  hsize_t index = 0;
  if (H5Literate(group, H5_INDEX_CRT_ORDER, H5_ITER_INC, &index, collect_link, &names) < 0) {
    names.clear();  // written without creation order: list by name
    index = 0;
    check_status(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &index, collect_link, &names),
                 "listing a group");
  }
  return names;
}

Handle open_parameter_file(const std::string& path, Handle& root) {
  Handle file = detail::open_existing(path, H5F_ACC_RDONLY, "parameter file");
  const hid_t id = H5Lexists(file.get(), kRoot, H5P_DEFAULT) > 0
                       ? H5Gopen2(file.get(), kRoot, H5P_DEFAULT)
                       : H5I_INVALID_HID;
  if (id < 0 || detail::read_string_attribute(id, "schema") != kParametersSchemaName) {
    if (id >= 0) H5Gclose(id);
    throw Error("'" + path +
                    "' is not a cellzoo parameter file (no /parameters group with schema '" +
                    kParametersSchemaName + "')",
                "pass a file written by cellzoo's parameter saving");
  }
  root = detail::group_handle(id);
  return file;
}

herr_t collect_attribute(hid_t, const char* name, const H5A_info_t*, void* out) {
  static_cast<std::vector<std::string>*>(out)->push_back(name);
  return 0;
}

ParameterInfo read_info(hid_t root) {
  ParameterInfo info;
  info.cell = detail::read_string_attribute(root, "cell").value_or("");
  info.input_size = detail::read_int_attribute(root, "input_size").value_or(0);
  info.hidden_size = detail::read_int_attribute(root, "hidden_size").value_or(0);
  std::vector<std::string> names;
  hsize_t index = 0;
  check_status(H5Aiterate2(root, H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute, &names),
               "listing the attributes of /parameters");
  for (const auto& name : names) {
    if (kReservedAttributes.count(name)) continue;
    if (auto value = detail::read_string_attribute(root, name)) info.extra[name] = *value;
  }
  return info;
}

StoredTensor describe_tensor(hid_t group, const std::string& name, const std::string& where) {
  Handle dataset = detail::dataset_handle(
      check(H5Dopen2(group, name.c_str(), H5P_DEFAULT), "opening tensor " + where));
  Handle space = detail::space_handle(check(H5Dget_space(dataset.get()), "reading a shape"));
  if (H5Sget_simple_extent_ndims(space.get()) != 2)
    throw Error("tensor " + where + " is not a 2-D dataset", "parameter tensors are matrices");
  hsize_t dims[2] = {0, 0};
  H5Sget_simple_extent_dims(space.get(), dims, nullptr);
  return {name, static_cast<std::int64_t>(dims[0]), static_cast<std::int64_t>(dims[1]),
          detail::read_string_attribute(dataset.get(), "kind").value_or("")};
}

template <typename S>
hid_t native_type() {
  return std::is_same_v<S, float> ? H5T_NATIVE_FLOAT : H5T_NATIVE_DOUBLE;
}

std::string shape(std::int64_t rows, std::int64_t cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

}  // namespace

template <typename S>
void save_parameters(const std::string& path, const ParameterInfo& info,
                     const std::vector<ParameterSource<S>>& groups) {
  std::set<std::string> group_names;
  for (const auto& g : groups) {
    check_name("parameter group", g.group);
    if (!group_names.insert(g.group).second)
      throw Error("parameter group '" + g.group + "' is given twice", "give each group once");
    std::set<std::string> tensor_names;
    for (const auto& t : g.tensors) {
      check_name("parameter tensor", t.name);
      if (!tensor_names.insert(t.name).second)
        throw Error("tensor '" + t.name + "' appears twice in group '" + g.group + "'");
      if (t.rows < 0 || t.cols < 0 || t.offset < 0 ||
          static_cast<std::size_t>(t.offset + t.size()) > g.values.size())
        throw Error("tensor " + g.group + "/" + t.name + " (" + shape(t.rows, t.cols) +
                    " at offset " + std::to_string(t.offset) + ") lies outside its " +
                    std::to_string(g.values.size()) + " values");
    }
  }
  for (const auto& [name, value] : info.extra)
    if (kReservedAttributes.count(name) || name.empty())
      throw Error("extra parameter attribute '" + name + "' clashes with a reserved name",
                  "rename it");

  QuietErrors quiet;
  detail::NewFile created(path, "parameter file",
                          "choose another path, or delete the old file yourself");
  try {
    Handle file = created.take();
    const hid_t id = file.get();
    Handle gcpl = ordered_group_plist();
    Handle root = detail::group_handle(
        check(H5Gcreate2(id, kRoot, H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), "creating /parameters"));
    detail::write_string_attribute(root.get(), "schema", kParametersSchemaName);
    detail::write_string_attribute(root.get(), "cell", info.cell);
    detail::write_int_attribute(root.get(), "input_size", info.input_size);
    detail::write_int_attribute(root.get(), "hidden_size", info.hidden_size);
    for (const auto& [name, value] : info.extra)
      detail::write_string_attribute(root.get(), name, value);
    const hid_t file_type = std::is_same_v<S, float> ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
    std::vector<S> row_major;
    for (const auto& g : groups) {
      Handle group = detail::group_handle(
          check(H5Gcreate2(root.get(), g.group.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT),
                "creating group /parameters/" + g.group));
      for (const auto& t : g.tensors) {
        hsize_t dims[2] = {static_cast<hsize_t>(t.rows), static_cast<hsize_t>(t.cols)};
        Handle space = detail::space_handle(check(H5Screate_simple(2, dims, nullptr), "shape"));
        Handle dataset = detail::dataset_handle(
            check(H5Dcreate2(group.get(), t.name.c_str(), file_type, space.get(), H5P_DEFAULT,
                             H5P_DEFAULT, H5P_DEFAULT),
                  "creating tensor " + g.group + "/" + t.name));
        // The flat vector is column-major; the dataset is row-major.
        row_major.assign(static_cast<std::size_t>(t.size()), S(0));
        for (Index r = 0; r < t.rows; ++r)
          for (Index c = 0; c < t.cols; ++c)
            row_major[static_cast<std::size_t>(r * t.cols + c)] =
                g.values[static_cast<std::size_t>(t.offset + c * t.rows + r)];
        if (t.size() > 0)
          check_status(H5Dwrite(dataset.get(), native_type<S>(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                                row_major.data()),
                       "writing tensor " + g.group + "/" + t.name);
        detail::write_string_attribute(dataset.get(), "kind", kind_name(t.kind));
      }
    }
    check_status(H5Fflush(id, H5F_SCOPE_GLOBAL), "flushing '" + path + "'");
    created.publish();
  } catch (const detail::Hdf5Error& e) {  // `created` removes the incomplete file
    if (detail::is_no_space(e.sys_errno()))
      throw detail::NoSpace(
          "no space left on device while writing parameter file '" + path + "'; nothing was kept",
          "free space on that filesystem, then save again");
    throw;
  }
}

ParameterFile inspect_parameters(const std::string& path) {
  QuietErrors quiet;
  Handle root;
  Handle file = open_parameter_file(path, root);
  ParameterFile out;
  out.info = read_info(root.get());
  for (const auto& name : children(root.get())) {
    Handle group = detail::group_handle(
        check(H5Gopen2(root.get(), name.c_str(), H5P_DEFAULT), "opening group " + name));
    StoredGroup stored{name, {}};
    for (const auto& tensor : children(group.get()))
      stored.tensors.push_back(describe_tensor(group.get(), tensor, name + "/" + tensor));
    out.groups.push_back(std::move(stored));
  }
  return out;
}

template <typename S>
ParameterInfo load_parameters(const std::string& path,
                              const std::vector<ParameterTarget<S>>& groups) {
  QuietErrors quiet;
  Handle root;
  Handle file = open_parameter_file(path, root);
  const ParameterInfo info = read_info(root.get());
  const auto group_names = children(root.get());
  auto list = [](const std::vector<std::string>& names) {
    std::string text;
    for (const auto& n : names) text += (text.empty() ? "" : ", ") + n;
    return text.empty() ? std::string("none") : text;
  };
  const std::string for_cell = " (file saved for cell '" + info.cell + "', input " +
                               std::to_string(info.input_size) + ", hidden " +
                               std::to_string(info.hidden_size) + ")";
  std::vector<S> row_major;
  for (const auto& g : groups) {
    if (std::find(group_names.begin(), group_names.end(), g.group) == group_names.end())
      throw Error("parameter file '" + path + "' has no group '" + g.group +
                      "' (it has: " + list(group_names) + ")",
                  "load the file into the model it was saved from" + for_cell);
    Handle group = detail::group_handle(
        check(H5Gopen2(root.get(), g.group.c_str(), H5P_DEFAULT), "opening group " + g.group));
    const auto stored = children(group.get());
    std::vector<std::string> expected;
    for (const auto& t : g.tensors) expected.push_back(t.name);
    for (const auto& name : stored)
      if (std::find(expected.begin(), expected.end(), name) == expected.end())
        throw Error("parameter file '" + path + "' has tensor " + g.group + "/" + name +
                        ", which the model lacks (model: " + list(expected) + ")",
                    "load the file into the model it was saved from" + for_cell);
    for (const auto& t : g.tensors) {
      const std::string where = g.group + "/" + t.name;
      if (std::find(stored.begin(), stored.end(), t.name) == stored.end())
        throw Error("parameter file '" + path + "' has no tensor " + where +
                        " (it has: " + list(stored) + ")",
                    "load the file into the model it was saved from" + for_cell);
      const StoredTensor s = describe_tensor(group.get(), t.name, where);
      if (s.rows != t.rows || s.cols != t.cols)
        throw Error("tensor " + where + " is " + shape(s.rows, s.cols) + " in '" + path +
                        "' but the model's is " + shape(t.rows, t.cols),
                    "load the file into a model of the same sizes" + for_cell);
      if (t.offset < 0 || static_cast<std::size_t>(t.offset + t.size()) > g.values.size())
        throw Error("tensor " + where + " lies outside the " + std::to_string(g.values.size()) +
                    " values to load into");
      if (t.size() == 0) continue;
      Handle dataset = detail::dataset_handle(
          check(H5Dopen2(group.get(), t.name.c_str(), H5P_DEFAULT), "opening tensor " + where));
      row_major.assign(static_cast<std::size_t>(t.size()), S(0));
      if (H5Dread(dataset.get(), native_type<S>(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                  row_major.data()) < 0)
        throw Error(detail::corrupt_message(path) + ": reading tensor " + where + " failed",
                    detail::kCorruptHint);
      for (Index r = 0; r < t.rows; ++r)
        for (Index c = 0; c < t.cols; ++c)
          g.values[static_cast<std::size_t>(t.offset + c * t.rows + r)] =
              row_major[static_cast<std::size_t>(r * t.cols + c)];
    }
  }
  return info;
}

template void save_parameters<float>(const std::string&, const ParameterInfo&,
                                     const std::vector<ParameterSource<float>>&);
template void save_parameters<double>(const std::string&, const ParameterInfo&,
                                      const std::vector<ParameterSource<double>>&);
template ParameterInfo load_parameters<float>(const std::string&,
                                              const std::vector<ParameterTarget<float>>&);
template ParameterInfo load_parameters<double>(const std::string&,
                                               const std::vector<ParameterTarget<double>>&);

std::string params_dir_for(const std::string& results_path) {
  const auto& p = results_path;
  return (p.size() > 3 && p.ends_with(".h5") ? p.substr(0, p.size() - 3) : p) + ".params";
}

std::string run_params_path(const std::string& results_path, const std::string& run_key) {
  return params_dir_for(results_path) + "/" + run_key + ".params.h5";
}

}  // namespace cellzoo::store
