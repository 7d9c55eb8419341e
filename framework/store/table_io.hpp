// The results file's tables as HDF5 datasets (internal to the store): one-dimensional,
// chunked, extendible datasets of compound rows, created, counted, grown, shrunk and read
// whole.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "framework/store/hdf5_util.hpp"
#include "framework/store/row_layout.hpp"

namespace cellzoo::store::detail {

// Creates the empty table /`name` of rows of `file_type` (`row_bytes` each) in `file`.
Handle create_table(hid_t file, const char* name, hid_t file_type, std::size_t row_bytes,
                    const std::string& path);

hsize_t table_rows(hid_t dataset);

// Writes `count` rows of `data` (in `memory_type`) after the `rows` already there and
// advances `rows`; `what` names the table in errors.
void append_rows(hid_t dataset, hid_t memory_type, hsize_t& rows, const std::vector<char>& data,
                 hsize_t count, const std::string& what);

// Cuts the table to `new_rows` rows when it has more.
void shrink_table(hid_t dataset, hsize_t& rows, hsize_t new_rows, const std::string& what);

// The first `rows` rows in `layout`; an unreadable table is reported as a corrupt file.
std::vector<char> read_table(hid_t dataset, const RowLayout& layout, hsize_t rows,
                             const std::string& path);

// Rows [start, start + count) in `layout`, which may name only some of the table's columns
// (HDF5 reads just those members): how a resume reads a million run keys without the rest.
std::vector<char> read_rows(hid_t dataset, const RowLayout& layout, hsize_t start, hsize_t count,
                            const std::string& path);

}  // namespace cellzoo::store::detail
