// Writing files: only ever regular files, and so that readers see the old content or the new,
// never half of it.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <sys/stat.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

namespace scout {

// Why Scout must not write `path`: it exists and is not a regular file (symlinks followed): a
// device, a FIFO, a socket or a folder. Renaming a new file over such a node replaces it (as
// root, an output of /dev/null would break the machine) and writing into it blocks or sends the
// bytes elsewhere. The answer names what it is ("a FIFO, not a regular file: …"), for the
// caller to put after the path; nullopt when `path` does not exist or is a regular file. Every
// writer of files asks before it creates, opens or renames anything.
inline std::optional<std::string> not_a_regular_file(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || S_ISREG(st.st_mode)) return std::nullopt;
  const char* kind = S_ISCHR(st.st_mode)    ? "a character device"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                     : S_ISDIR(st.st_mode)  ? "a folder"
                                            : "a special file";
  return std::string(kind) + ", not a regular file: Scout writes only regular files; choose another path";
}

// Makes `text` the whole content of `path`: it is written to PATH.new, created afresh with
// `mode` (a leftover is removed first, so its permissions never carry over), then renamed over
// PATH. Missing folders are made. False when a step fails or PATH is not a regular file; PATH
// is then untouched.
inline bool write_file_whole(const std::filesystem::path& path, std::string_view text, mode_t mode = 0644) {
  if (not_a_regular_file(path)) return false;
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  const std::string temporary = path.string() + ".new";
  ::unlink(temporary.c_str());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return false;
  bool written = true;
  for (std::size_t done = 0; written && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    written = n > 0;
    if (written) done += static_cast<std::size_t>(n);
  }
  written = ::close(fd) == 0 && written;
  if (written) std::filesystem::rename(temporary, path, ec);
  if (!written || ec) {
    std::filesystem::remove(temporary, ec);
    return false;
  }
  return true;
}

}  // namespace scout
