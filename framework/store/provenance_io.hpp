// Reading and writing /provenance (provenance.hpp) over the HDF5 C API: the group
// /provenance holds one group per session, "0", "1", ..., whose string attributes are the
// session's facts and whose int64 dataset run_ids lists its runs. Internal to the store.
#pragma once

#include <hdf5.h>

#include <vector>

#include "framework/store/hdf5_util.hpp"
#include "framework/store/provenance.hpp"

namespace cellzoo::store::detail {

// The sessions in the file, in the order they were added ({} for a file without them).
std::vector<Session> read_sessions(hid_t file, const std::string& path);

// An open session whose run ids grow as runs are appended.
struct SessionWriter {
  Handle group;
  Handle run_ids;
  hsize_t n = 0;
};

// Adds a session with `facts` and `run_ids` and returns it open for more run ids.
SessionWriter add_session(hid_t file, const Session& session, const std::string& path);

void append_session_runs(SessionWriter& session, const std::vector<std::int64_t>& run_ids,
                         const std::string& path);

}  // namespace cellzoo::store::detail
