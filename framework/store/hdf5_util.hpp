// Internal helpers of the store room over the HDF5 C API: RAII handles, quiet error
// handling that turns HDF5 failures into cellzoo::Error, and fixed-length string
// attributes. Not part of the public API (other rooms include results_file.hpp etc.).
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "framework/util/error.hpp"

namespace cellzoo::store::detail {

// Owns one hid_t and closes it with the matching H5?close function.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  ~Handle() { reset(); }
  Handle(Handle&& other) noexcept
      : id_(std::exchange(other.id_, H5I_INVALID_HID)), close_(other.close_) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      id_ = std::exchange(other.id_, H5I_INVALID_HID);
      close_ = other.close_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;

  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  // Closes now and reports whether HDF5 accepted the close (a failed close of a file
  // means data may not have reached the disk).
  // HDF5's automatic error printing is off during the close (a handle closed while an
  // exception unwinds, e.g. on a full disk, must not dump HDF5's stack on stderr).
  bool reset();

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer close_ = nullptr;
};

// Turns off HDF5's automatic printing of its error stack for the current thread while
// alive: the store reports failures itself, as one cellzoo::Error.
class QuietErrors {
 public:
  QuietErrors();
  ~QuietErrors();
  QuietErrors(const QuietErrors&) = delete;
  QuietErrors& operator=(const QuietErrors&) = delete;

 private:
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// The innermost description on HDF5's error stack of this thread (the most specific
// reason), on one line, or "" when empty. A failed system call is shown as what failed and
// the system's message ("file write failed: No space left on device"), without the
// driver's time stamp, buffer addresses and byte counts.
std::string hdf5_detail();

// The errno of the failed system call on HDF5's error stack of this thread (the file
// driver records "errno = N"), or 0 when none is recorded.
int hdf5_errno();

// A failed HDF5 call; sys_errno() is hdf5_errno() at the time (0 when no system call
// failed), so callers can tell a full disk or a read-only file from a damaged file.
class Hdf5Error : public Error {
 public:
  Hdf5Error(const std::string& what, std::string hint, int sys_errno)
      : Error(what, std::move(hint)), sys_errno_(sys_errno) {}
  int sys_errno() const { return sys_errno_; }

 private:
  int sys_errno_ = 0;
};

// The filesystem has no room (ENOSPC, or EDQUOT: the user's quota is used up).
bool is_no_space(int sys_errno);

// Throws Hdf5Error("<what> (HDF5: <detail>)", hint, hdf5_errno()) when id/status is negative.
hid_t check(hid_t id, const std::string& what, const std::string& hint = {});
void check_status(herr_t status, const std::string& what, const std::string& hint = {});

Handle file_handle(hid_t id);
Handle dataset_handle(hid_t id);
Handle type_handle(hid_t id);
Handle space_handle(hid_t id);
Handle plist_handle(hid_t id);
Handle group_handle(hid_t id);
Handle attribute_handle(hid_t id);

// A fixed-length, NUL-padded ASCII string type of `width` bytes (numpy 'S<width>').
Handle string_type(std::size_t width);

// The file access properties of every file the store creates or opens: a raw-data chunk
// cache of 64 KiB per dataset instead of HDF5's 1 MiB. Rows are appended and flushed a run
// at a time and read in blocks, so a larger cache only made a sweep's memory grow with its
// file (by up to 1 MiB per table) without making anything faster.
Handle file_access();

// The file is open for writing by another process (HDF5's file lock refused us).
class FileLocked : public Error {
 public:
  using Error::Error;
};

// Opens an existing HDF5 file (flags H5F_ACC_RDONLY or H5F_ACC_RDWR) with one clear
// cellzoo::Error for each way it can fail: missing ("<kind> '<path>' does not exist"), a
// directory, not HDF5 or damaged (corrupt_message), locked by a writing process
// (FileLocked). `file_locking` false opens without HDF5's lock (read-only snapshots of a
// file being written, results_file.hpp).
Handle open_existing(const std::string& path, unsigned flags, const std::string& kind,
                     bool file_locking = true);

// A regular file of 0 bytes: it holds no HDF5 superblock and no data (a process killed
// as it created the file, or a create that failed on a full disk, leaves one).
bool is_empty_file(const std::string& path);

// Removes `path` if it is still an empty regular file and no process holds a lock on it
// (an HDF5 writer locks its file); throws FileLocked when one does. Never touches a file
// that holds a byte.
void remove_empty_file(const std::string& path, const std::string& kind);

// The filesystem had no room for a file being written. The message says which file and
// what is safe in it; the hint says to free space and re-run.
class NoSpace : public Error {
 public:
  using Error::Error;
};

// Creating a new HDF5 file without ever touching an existing one, and without leaving an
// empty or half-made file at its path when the process is killed or the disk is full: the
// file is made under temp_path(path) and moved to `path` by publish() once complete.
class NewFile {
 public:
  // Refuses (Error naming `kind` and `exists_hint`) when `path` exists, except an empty
  // file (0 bytes), which holds nothing and is replaced. A temporary file left by a
  // creator that was killed is removed; one that a live creator holds (locked) is refused.
  NewFile(const std::string& path, const std::string& kind, const std::string& exists_hint);
  ~NewFile();  // removes the temporary file unless published
  NewFile(const NewFile&) = delete;
  NewFile& operator=(const NewFile&) = delete;

  // The open file (a Handle owned by the caller, who must flush it before publish()).
  Handle take();
  // Moves the complete file to its path (atomically, never over an existing file).
  void publish();
  static std::string temp_path(const std::string& path) { return path + ".creating"; }

 private:
  std::string path_, temp_, kind_, exists_hint_;
  Handle file_;
  bool published_ = false;
};
std::string corrupt_message(const std::string& path);
inline constexpr const char* kCorruptHint =
    "if the file was copied or downloaded, copy it again; otherwise it cannot be repaired by "
    "cellzoo, so rerun what it held";

// Root/object attributes. Strings are fixed-length (exactly the value's size, at least
// one byte); writing replaces an existing attribute of the same name.
void write_string_attribute(hid_t object, const std::string& name, const std::string& value);
void write_int_attribute(hid_t object, const std::string& name, std::int64_t value);
std::optional<std::string> read_string_attribute(hid_t object, const std::string& name);
std::optional<std::int64_t> read_int_attribute(hid_t object, const std::string& name);

// Facts about this process recorded in files: "1.10.8", host name, "2024-05-01T12:00:00Z".
std::string hdf5_library_version();
std::string host_name();
std::string utc_now();

}  // namespace cellzoo::store::detail
