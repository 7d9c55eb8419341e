// Table I/O over the HDF5 C API: chunking, extension and whole-table reads.
#include "framework/store/table_io.hpp"

#include <algorithm>

namespace cellzoo::store::detail {

Handle create_table(hid_t file, const char* name, hid_t file_type, std::size_t row_bytes,
                    const std::string& path) {
  hsize_t dims[1] = {0};
  hsize_t max_dims[1] = {H5S_UNLIMITED};
  // About 16 KiB per chunk: each flush rewrites the partly filled last chunk, so small
  // chunks keep the per-run flush cheap; readers read whole tables anyway.
  hsize_t chunk[1] = {std::max<hsize_t>(8, 16384 / row_bytes)};
  Handle space = space_handle(check(H5Screate_simple(1, dims, max_dims),
                                    "creating the dataspace of /" + std::string(name)));
  Handle dcpl = plist_handle(check(H5Pcreate(H5P_DATASET_CREATE), "creating a property list"));
  check_status(H5Pset_chunk(dcpl.get(), 1, chunk), "setting the chunk size");
  // No compression filter: a compressed chunk changes size and moves on every rewrite, and
  // HDF5 may reuse the space it left for another chunk before the next flush, so a kill
  // between two flushes left the on-disk index pointing at overwritten data ("inflate()
  // failed"; measured with test_crash.cpp). Uncompressed chunks are rewritten in place.
  return dataset_handle(
      check(H5Dcreate2(file, name, file_type, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
            "creating /" + std::string(name) + " in '" + path + "'"));
}

hsize_t table_rows(hid_t dataset) {
  Handle space = space_handle(check(H5Dget_space(dataset), "reading a table's size"));
  hsize_t n = 0;
  check_status(H5Sget_simple_extent_dims(space.get(), &n, nullptr) < 0 ? -1 : 0,
               "reading a table's size");
  return n;
}

void append_rows(hid_t dataset, hid_t memory_type, hsize_t& rows, const std::vector<char>& data,
                 hsize_t count, const std::string& what) {
  if (count == 0) return;
  hsize_t new_rows = rows + count;
  check_status(H5Dset_extent(dataset, &new_rows), "extending " + what);
  const hsize_t start = rows;
  rows = new_rows;
  Handle file_space = space_handle(check(H5Dget_space(dataset), "selecting in " + what));
  check_status(
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr),
      "selecting in " + what);
  Handle memory_space =
      space_handle(check(H5Screate_simple(1, &count, nullptr), "creating a memory dataspace"));
  check_status(H5Dwrite(dataset, memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT,
                        data.data()),
               "writing " + what);
}

void shrink_table(hid_t dataset, hsize_t& rows, hsize_t new_rows, const std::string& what) {
  if (new_rows >= rows) return;
  check_status(H5Dset_extent(dataset, &new_rows), "shrinking " + what);
  rows = new_rows;
}

namespace {

[[noreturn]] void unreadable(const std::string& path) {
  const std::string detail = hdf5_detail();
  throw Error("'" + path + "' is not a readable HDF5 file (truncated or corrupt?): reading " +
                  "its tables failed" + (detail.empty() ? "" : " (HDF5: " + detail + ")"),
              "copy the file again if it was transferred; otherwise rerun its runs");
}

}  // namespace

std::vector<char> read_table(hid_t dataset, const RowLayout& layout, hsize_t rows,
                             const std::string& path) {
  std::vector<char> data(layout.size() * rows);
  if (rows == 0) return data;
  Handle memory_type = layout.make_type(false);
  if (H5Dread(dataset, memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, data.data()) < 0)
    unreadable(path);
  return data;
}

std::vector<char> read_rows(hid_t dataset, const RowLayout& layout, hsize_t start, hsize_t count,
                            const std::string& path) {
  std::vector<char> data(layout.size() * count);
  if (count == 0) return data;
  Handle memory_type = layout.make_type(false);
  Handle file_space = space_handle(check(H5Dget_space(dataset), "selecting rows"));
  check_status(
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr),
      "selecting rows");
  Handle memory_space =
      space_handle(check(H5Screate_simple(1, &count, nullptr), "creating a memory dataspace"));
  if (H5Dread(dataset, memory_type.get(), memory_space.get(), file_space.get(), H5P_DEFAULT,
              data.data()) < 0)
    unreadable(path);
  return data;
}

}  // namespace cellzoo::store::detail
