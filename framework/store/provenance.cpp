// /provenance: sessions of the processes that wrote a file's runs (provenance.hpp).
#include "framework/store/provenance.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

#include "framework/store/provenance_io.hpp"
#include "framework/store/table_io.hpp"
#include "framework/util/build_info.hpp"

namespace cellzoo::store {

std::map<std::string, std::string> this_process_facts(const std::string& role,
                                                      const std::string& shard,
                                                      const std::string& command_line) {
  const BuildInfo& b = build_info();
  const HostInfo& h = host_info();
  std::map<std::string, std::string> f = {
      {"role", role},
      {"started_utc", detail::utc_now()},
      {"host", detail::host_name()},
      {"cpu_model", h.cpu_model},
      {"os", h.os},
      {"numerical_path", numerical_path()},
      {"cellzoo_version", b.version},
      {"git_commit", b.git_commit},
      {"git_dirty", b.git_dirty},
      {"git_diff_hash", b.git_diff_hash},
      {"compiler", b.compiler},
      {"compile_flags", b.compile_flags},
      {"isa", b.isa},
      {"eigen_version", b.eigen_version},
      {"libc", h.libc},
      {"libm_variant", h.libm_variant},
      {"shard", shard},
      {"command_line", command_line},
  };
  // A SLURM job (array task) says which one; outside SLURM these are absent.
  for (const auto& [fact, variable] : {std::pair{"slurm_job_id", "SLURM_JOB_ID"},
                                       {"slurm_array_job_id", "SLURM_ARRAY_JOB_ID"},
                                       {"slurm_array_task_id", "SLURM_ARRAY_TASK_ID"},
                                       {"slurm_cluster", "SLURM_CLUSTER_NAME"},
                                       {"slurm_partition", "SLURM_JOB_PARTITION"},
                                       {"slurm_restart_count", "SLURM_RESTART_COUNT"}})
    if (const char* v = std::getenv(variable); v && *v) f[fact] = v;
  return f;
}

std::vector<std::pair<std::string, std::int64_t>> paths_of(const std::vector<Session>& sessions) {
  std::map<std::string, std::int64_t> runs;
  for (const auto& s : sessions) {
    if (s.run_ids.empty()) continue;
    auto path = s.fact("numerical_path");
    if (path.empty()) path = "unknown";
    runs[path] += static_cast<std::int64_t>(s.run_ids.size());
  }
  std::vector<std::pair<std::string, std::int64_t>> out(runs.begin(), runs.end());
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

std::string describe_mixed_paths(const std::vector<Session>& sessions) {
  const auto paths = paths_of(sessions);
  if (paths.size() < 2) return "";
  std::string text;
  for (const auto& [path, n] : paths)
    text += (text.empty() ? "" : "\n") + std::to_string(n) + " runs: " +
            (path == "unknown" ? "unknown (written by a cellzoo that did not record it)" : path);
  return text;
}

namespace detail {

namespace {

herr_t collect_attribute(hid_t object, const char* name, const H5A_info_t*, void* data) {
  auto& facts = *static_cast<std::map<std::string, std::string>*>(data);
  if (auto value = read_string_attribute(object, name)) facts[name] = *value;
  return 0;
}

}  // namespace

std::vector<Session> read_sessions(hid_t file, const std::string& path) {
  std::vector<Session> sessions;
  if (H5Lexists(file, "provenance", H5P_DEFAULT) <= 0) return sessions;
  Handle root = group_handle(
      check(H5Gopen2(file, "provenance", H5P_DEFAULT), "opening /provenance of '" + path + "'"));
  for (int i = 0;; ++i) {
    const std::string name = std::to_string(i);
    if (H5Lexists(root.get(), name.c_str(), H5P_DEFAULT) <= 0) break;
    Handle group = group_handle(check(H5Gopen2(root.get(), name.c_str(), H5P_DEFAULT),
                                      "opening /provenance/" + name + " of '" + path + "'"));
    Session s;
    hsize_t index = 0;
    check_status(
        H5Aiterate2(group.get(), H5_INDEX_NAME, H5_ITER_INC, &index, collect_attribute, &s.facts),
        "reading /provenance/" + name + " of '" + path + "'");
    if (H5Lexists(group.get(), "run_ids", H5P_DEFAULT) > 0) {
      Handle ids = dataset_handle(check(H5Dopen2(group.get(), "run_ids", H5P_DEFAULT),
                                        "opening /provenance/" + name + "/run_ids"));
      s.run_ids.resize(table_rows(ids.get()));
      if (!s.run_ids.empty())
        check_status(
            H5Dread(ids.get(), H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, s.run_ids.data()),
            "reading /provenance/" + name + "/run_ids of '" + path + "'");
    }
    sessions.push_back(std::move(s));
  }
  return sessions;
}

SessionWriter add_session(hid_t file, const Session& session, const std::string& path) {
  Handle root;
  if (H5Lexists(file, "provenance", H5P_DEFAULT) > 0)
    root = group_handle(
        check(H5Gopen2(file, "provenance", H5P_DEFAULT), "opening /provenance of '" + path + "'"));
  else
    root = group_handle(check(H5Gcreate2(file, "provenance", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
                              "creating /provenance in '" + path + "'"));
  int index = 0;
  while (H5Lexists(root.get(), std::to_string(index).c_str(), H5P_DEFAULT) > 0) ++index;
  const std::string name = std::to_string(index);
  SessionWriter w;
  w.group = group_handle(
      check(H5Gcreate2(root.get(), name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT),
            "creating /provenance/" + name + " in '" + path + "'"));
  for (const auto& [key, value] : session.facts) write_string_attribute(w.group.get(), key, value);
  w.run_ids = create_table(w.group.get(), "run_ids", H5T_STD_I64LE, sizeof(std::int64_t), path);
  append_session_runs(w, session.run_ids, path);
  return w;
}

void append_session_runs(SessionWriter& session, const std::vector<std::int64_t>& run_ids,
                         const std::string& path) {
  if (run_ids.empty()) return;
  std::vector<char> bytes(run_ids.size() * sizeof(std::int64_t));
  std::copy_n(reinterpret_cast<const char*>(run_ids.data()), bytes.size(), bytes.data());
  append_rows(session.run_ids.get(), H5T_NATIVE_INT64, session.n, bytes, run_ids.size(),
              "/provenance run ids of '" + path + "'");
}

}  // namespace detail
}  // namespace cellzoo::store
