// Internal HDF5 helpers of the store room (see hdf5_util.hpp).
#include "framework/store/hdf5_util.hpp"

#include <unistd.h>

#include <array>
#include <ctime>
#include <filesystem>
#include <vector>

#include "framework/util/error.hpp"

namespace cellzoo::store::detail {

QuietErrors::QuietErrors() {
  H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
}

QuietErrors::~QuietErrors() {
  H5Eset_auto2(H5E_DEFAULT, func_, data_);
}

namespace {

herr_t collect_description(unsigned, const H5E_error2_t* error, void* out) {
  auto* descriptions = static_cast<std::vector<std::string>*>(out);
  descriptions->push_back(error->desc ? error->desc : "");
  return 0;
}

}  // namespace

std::string hdf5_detail() {
  std::vector<std::string> descriptions;
  // Walking upward starts at the function that first detected the problem.
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_description, &descriptions);
  for (const auto& d : descriptions)
    if (!d.empty()) return d;
  return {};
}

hid_t check(hid_t id, const std::string& what, const std::string& hint) {
  if (id < 0) {
    const std::string detail = hdf5_detail();
    throw Error(detail.empty() ? what : what + " (HDF5: " + detail + ")", hint);
  }
  return id;
}

void check_status(herr_t status, const std::string& what, const std::string& hint) {
  check(status < 0 ? H5I_INVALID_HID : 0, what, hint);
}

Handle file_handle(hid_t id) {
  return {id, H5Fclose};
}
Handle dataset_handle(hid_t id) {
  return {id, H5Dclose};
}
Handle type_handle(hid_t id) {
  return {id, H5Tclose};
}
Handle space_handle(hid_t id) {
  return {id, H5Sclose};
}
Handle plist_handle(hid_t id) {
  return {id, H5Pclose};
}
Handle group_handle(hid_t id) {
  return {id, H5Gclose};
}
Handle attribute_handle(hid_t id) {
  return {id, H5Aclose};
}

Handle string_type(std::size_t width) {
  Handle type = type_handle(check(H5Tcopy(H5T_C_S1), "copying the string type"));
  check_status(H5Tset_size(type.get(), width == 0 ? 1 : width), "sizing a string type");
  check_status(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), "padding a string type");
  check_status(H5Tset_cset(type.get(), H5T_CSET_ASCII), "setting a string's character set");
  return type;
}

namespace {

Handle scalar_space() {
  return space_handle(check(H5Screate(H5S_SCALAR), "creating a scalar dataspace"));
}

void delete_if_present(hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) > 0)
    check_status(H5Adelete(object, name.c_str()), "replacing attribute '" + name + "'");
}

}  // namespace

void write_string_attribute(hid_t object, const std::string& name, const std::string& value) {
  delete_if_present(object, name);
  Handle type = string_type(value.size());
  Handle space = scalar_space();
  Handle attr = attribute_handle(
      check(H5Acreate2(object, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
            "creating attribute '" + name + "'"));
  std::string buffer = value;
  if (buffer.empty()) buffer.push_back('\0');
  check_status(H5Awrite(attr.get(), type.get(), buffer.data()), "writing attribute '" + name + "'");
}

void write_int_attribute(hid_t object, const std::string& name, std::int64_t value) {
  delete_if_present(object, name);
  Handle space = scalar_space();
  Handle attr = attribute_handle(
      check(H5Acreate2(object, name.c_str(), H5T_STD_I64LE, space.get(), H5P_DEFAULT, H5P_DEFAULT),
            "creating attribute '" + name + "'"));
  check_status(H5Awrite(attr.get(), H5T_NATIVE_INT64, &value), "writing attribute '" + name + "'");
}

std::optional<std::string> read_string_attribute(hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) <= 0) return std::nullopt;
  Handle attr = attribute_handle(
      check(H5Aopen(object, name.c_str(), H5P_DEFAULT), "opening attribute '" + name + "'"));
  Handle file_type = type_handle(check(H5Aget_type(attr.get()), "reading an attribute type"));
  if (H5Tget_class(file_type.get()) != H5T_STRING || H5Tis_variable_str(file_type.get()) > 0)
    return std::nullopt;
  const std::size_t width = H5Tget_size(file_type.get());
  Handle memory_type = string_type(width);
  std::string value(width, '\0');
  check_status(H5Aread(attr.get(), memory_type.get(), value.data()),
               "reading attribute '" + name + "'");
  value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
  return value;
}

std::optional<std::int64_t> read_int_attribute(hid_t object, const std::string& name) {
  if (H5Aexists(object, name.c_str()) <= 0) return std::nullopt;
  Handle attr = attribute_handle(
      check(H5Aopen(object, name.c_str(), H5P_DEFAULT), "opening attribute '" + name + "'"));
  Handle file_type = type_handle(check(H5Aget_type(attr.get()), "reading an attribute type"));
  if (H5Tget_class(file_type.get()) != H5T_INTEGER) return std::nullopt;
  std::int64_t value = 0;
  check_status(H5Aread(attr.get(), H5T_NATIVE_INT64, &value), "reading attribute '" + name + "'");
  return value;
}

std::string corrupt_message(const std::string& path) {
  return "'" + path + "' is not a readable HDF5 file (truncated or corrupt?)";
}

Handle open_existing(const std::string& path, unsigned flags, const std::string& kind,
                     bool file_locking) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(kind + " '" + path + "' does not exist", "check the path");
  if (std::filesystem::is_directory(path, ec))
    throw Error("'" + path + "' is a directory, not a " + kind, "give the path of a .h5 file");
  if (H5Fis_hdf5(path.c_str()) <= 0) throw Error(corrupt_message(path), kCorruptHint);
  Handle access = plist_handle(check(H5Pcreate(H5P_FILE_ACCESS), "creating a property list"));
  if (!file_locking)
    check_status(H5Pset_file_locking(access.get(), false, true), "turning file locking off");
  const hid_t id = H5Fopen(path.c_str(), flags, access.get());
  if (id < 0) {
    const std::string detail = hdf5_detail();
    if (detail.find("unable to lock file") != std::string::npos)
      throw FileLocked("'" + path + "' is open for writing by another process (HDF5 file lock)",
                       "wait until that process finishes (cellzoo report and top read it "
                       "as it is being written)");
    if (detail.find("already open") != std::string::npos)
      throw Error("'" + path + "' is already open in this process (" + detail + ")",
                  "close the other reader or writer of this file first");
    throw Error(corrupt_message(path) + (detail.empty() ? "" : " (HDF5: " + detail + ")"),
                kCorruptHint);
  }
  return file_handle(id);
}

std::string hdf5_library_version() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
}

std::string host_name() {
  std::array<char, 256> buffer{};
  if (gethostname(buffer.data(), buffer.size() - 1) != 0) return "unknown";
  return buffer.data();
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  std::array<char, 32> buffer{};
  std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return buffer.data();
}

}  // namespace cellzoo::store::detail
