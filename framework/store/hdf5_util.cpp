// Internal HDF5 helpers of the store room (see hdf5_util.hpp).
#include "framework/store/hdf5_util.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
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

// Set when a write or a close failed in the file driver (a full disk). HDF5 1.10 then
// keeps what it could not flush (a file, or blocks of its free lists), and its own
// clean-up at exit loops over them, printing "HDF5: infinite loop closing library" and a
// line of internal names after cellzoo's error. So cellzoo runs that clean-up itself at
// exit and skips it after such a failure: what the file's last successful flush wrote is
// on disk, and there is nothing more to save.
std::atomic<bool> g_io_failed{false};

void close_library_at_exit() {
  if (!g_io_failed.load()) H5close();
}

// Before any HDF5 call (H5dont_atexit must precede the library's initialisation).
const bool g_exit_handler_installed = [] {
  H5dont_atexit();
  std::atexit(close_library_at_exit);
  return true;
}();

}  // namespace

bool Handle::reset() {
  bool ok = true;
  if (id_ >= 0 && close_) {
    QuietErrors quiet;
    ok = close_(id_) >= 0;
    if (!ok) g_io_failed = true;
  }
  id_ = H5I_INVALID_HID;
  return ok;
}

namespace {

herr_t collect_description(unsigned, const H5E_error2_t* error, void* out) {
  auto* descriptions = static_cast<std::vector<std::string>*>(out);
  descriptions->push_back(error->desc ? error->desc : "");
  return 0;
}

// The descriptions on this thread's error stack, innermost (the first detector) first.
std::vector<std::string> descriptions() {
  std::vector<std::string> out;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, collect_description, &out);
  return out;
}

// "errno = 28" in an HDF5 file driver's message, or 0.
int errno_in(const std::string& text) {
  const auto at = text.find("errno = ");
  if (at == std::string::npos) return 0;
  return std::atoi(text.c_str() + at + 8);
}

}  // namespace

std::string hdf5_detail() {
  for (const auto& d : descriptions()) {
    if (d.empty()) continue;
    // The sec2 driver's "file write failed: time = <ctime with a newline>, filename = ...,
    // errno = 28, error message = 'No space left on device', buf = 0x..., ...".
    const auto message = d.find("error message = '");
    if (errno_in(d) != 0 && message != std::string::npos) {
      const auto start = message + 17;
      const auto end = d.find('\'', start);
      std::string head = d.substr(0, d.find(':'));
      return head + ": " + d.substr(start, end == std::string::npos ? end : end - start);
    }
    std::string line = d;
    for (char& c : line)
      if (c == '\n' || c == '\r') c = ' ';
    return line;
  }
  return {};
}

int hdf5_errno() {
  for (const auto& d : descriptions())
    if (const int e = errno_in(d)) return e;
  return 0;
}

bool is_no_space(int sys_errno) {
  return sys_errno == ENOSPC || sys_errno == EDQUOT;
}

hid_t check(hid_t id, const std::string& what, const std::string& hint) {
  if (id < 0) {
    const std::string detail = hdf5_detail();
    const int sys_errno = hdf5_errno();
    if (sys_errno != 0) g_io_failed = true;
    throw Hdf5Error(detail.empty() ? what : what + " (HDF5: " + detail + ")", hint, sys_errno);
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

Handle file_access() {
  Handle access = plist_handle(check(H5Pcreate(H5P_FILE_ACCESS), "creating a property list"));
  check_status(H5Pset_cache(access.get(), 0, 101, 64 * 1024, 0.75), "sizing the chunk cache");
  return access;
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

namespace {

// One clear error for a file that the system refused to open (`sys_errno` from the
// driver), or nothing when the refusal was not the system's (a damaged file).
void throw_if_refused(const std::string& path, unsigned flags, const std::string& kind,
                      int sys_errno) {
  const bool writing = flags & H5F_ACC_RDWR;
  const std::string keep =
      writing ? " It is intact: cellzoo report can still read it; do not delete it." : "";
  if (sys_errno == EROFS)
    throw Error("cannot open " + kind + " '" + path +
                    "' for writing: it is on a read-only filesystem." + keep,
                "remount that filesystem read-write, or copy the file to a writable place and "
                "pass the copy to --out, then re-run the same command");
  if (sys_errno == EACCES || sys_errno == EPERM)
    throw Error("cannot open " + kind + " '" + path + "' for " + (writing ? "writing" : "reading") +
                    ": permission denied." + keep,
                std::string("give yourself ") + (writing ? "write" : "read") +
                    " permission (chmod u+" + (writing ? "w" : "r") + " '" + path +
                    "' and its directory), or work on a copy");
  if (is_no_space(sys_errno))
    throw Error("cannot open " + kind + " '" + path + "': no space left on device." + keep,
                "free space on that filesystem, then re-run the same command");
}

}  // namespace

bool is_empty_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0;
}

namespace {

// Removes the regular file `path` (only when empty if `only_empty`) unless a process holds
// a lock on it (HDF5 locks the files it writes); FileLocked then.
void remove_unless_locked(const std::string& path, const std::string& what, bool only_empty) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return;  // gone already (or a link: left alone)
  struct stat st {};
  const bool fits =
      ::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (!only_empty || st.st_size == 0);
  if (fits && ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    throw FileLocked(what + " is being created by another process right now (it is locked)",
                     "wait until that process has finished, or choose another output file");
  }
  if (fits) ::unlink(path.c_str());  // under our lock: nobody is writing it
  ::close(fd);
}

}  // namespace

void remove_empty_file(const std::string& path, const std::string& kind) {
  remove_unless_locked(path, kind + " '" + path + "' (empty)", true);
}

NewFile::NewFile(const std::string& path, const std::string& kind, const std::string& exists_hint)
    : path_(path), temp_(temp_path(path)), kind_(kind), exists_hint_(exists_hint) {
  std::error_code ec;
  if (is_empty_file(path_)) remove_empty_file(path_, kind_);
  if (std::filesystem::exists(path_, ec) || std::filesystem::is_symlink(path_, ec))
    throw Error(kind_ + " '" + path_ + "' already exists; cellzoo never overwrites a " + kind_,
                exists_hint_);
  // Ours, from a creator that was killed before it finished: it never held a result.
  remove_unless_locked(temp_, kind_ + " '" + path_ + "' (temporary file '" + temp_ + "')", false);
  // Kept until the error stack is read below: closing it would clear the stack.
  const Handle access = file_access();
  const hid_t id = H5Fcreate(temp_.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, access.get());
  if (id >= 0) {
    file_ = file_handle(id);
    return;
  }
  const std::string detail = hdf5_detail();
  const int sys_errno = hdf5_errno();
  g_io_failed = true;       // a failed create can leave blocks in HDF5's free lists
  ::unlink(temp_.c_str());  // and an empty file behind
  if (is_no_space(sys_errno))
    throw NoSpace(
        "no space left on device to create " + kind_ + " '" + path_ + "'; nothing was written",
        "free space on that filesystem (df -h '" +
            std::filesystem::absolute(path_, ec).parent_path().string() +
            "'), then re-run the same command");
  const std::filesystem::path parent = std::filesystem::absolute(path_, ec).parent_path();
  std::string why = "cannot create " + kind_ + " '" + path_ + "'";
  if (!std::filesystem::exists(parent, ec))
    why += ": directory '" + parent.string() + "' does not exist";
  else if (!std::filesystem::is_directory(parent, ec))
    why += ": '" + parent.string() + "' is not a directory";
  else if (sys_errno == EACCES || sys_errno == EPERM)
    why += ": permission denied in directory '" + parent.string() + "'";
  else if (sys_errno == EROFS)
    why += ": '" + parent.string() + "' is on a read-only filesystem";
  else if (!detail.empty())
    why += " (HDF5: " + detail + ")";
  throw Hdf5Error(why,
                  "write to an existing directory you may write in (mkdir -p it), or choose "
                  "another output file",
                  sys_errno);
}

NewFile::~NewFile() {
  file_.reset();
  if (!published_) ::unlink(temp_.c_str());
}

Handle NewFile::take() {
  return std::move(file_);
}

void NewFile::publish() {
  // renameat2(RENAME_NOREPLACE) moves atomically and fails if the target exists; where the
  // filesystem lacks it, a hard link does the same; where that fails too, check and move.
  int rc = ::renameat2(AT_FDCWD, temp_.c_str(), AT_FDCWD, path_.c_str(), RENAME_NOREPLACE);
  if (rc != 0 && errno != EEXIST) {
    rc = ::link(temp_.c_str(), path_.c_str());
    if (rc == 0) {
      ::unlink(temp_.c_str());
    } else if (errno != EEXIST) {
      std::error_code ec;
      if (!std::filesystem::exists(path_, ec)) rc = ::rename(temp_.c_str(), path_.c_str());
      if (rc != 0 && errno != EEXIST && !std::filesystem::exists(path_, ec))
        throw Error("cannot move '" + temp_ + "' to '" + path_ + "': " + std::strerror(errno),
                    "check the permissions of the directory");
      if (rc != 0) errno = EEXIST;
    }
  }
  if (rc != 0)
    throw Error(kind_ + " '" + path_ +
                    "' was created by another process meanwhile; cellzoo "
                    "never overwrites a " +
                    kind_,
                exists_hint_);
  published_ = true;
}

Handle open_existing(const std::string& path, unsigned flags, const std::string& kind,
                     bool file_locking) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw Error(kind + " '" + path + "' does not exist", "check the path");
  if (std::filesystem::is_directory(path, ec))
    throw Error("'" + path + "' is a directory, not a " + kind, "give the path of a .h5 file");
  if (is_empty_file(path))
    throw Error(kind + " '" + path +
                    "' is empty (0 bytes): it holds no runs (a process was killed as it created "
                    "it, or the disk was full)",
                "re-run the command that writes it (a sweep starts such a file afresh), or "
                "delete it");
  if (!std::filesystem::is_regular_file(path, ec))  // /dev/null, a pipe, a socket
    throw Error("'" + path + "' is not a regular file, so not a " + kind,
                "give the path of a .h5 file");
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 < 0) throw_if_refused(path, H5F_ACC_RDONLY, kind, hdf5_errno());
  if (is_hdf5 <= 0) throw Error(corrupt_message(path), kCorruptHint);
  Handle access = file_access();
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
    if (hdf5_errno() != 0) g_io_failed = true;
    throw_if_refused(path, flags, kind, hdf5_errno());
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
