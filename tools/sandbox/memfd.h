// Anonymous in-memory files for handing data to bubblewrap by descriptor (--seccomp, --file):
// nothing is written to the host's disk, and nothing is left behind when the descriptor closes.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>

#include "common/expected.h"

namespace scout {

// Owns one file descriptor and closes it. Move-only.
class ScopedFd {
 public:
  ScopedFd() = default;
  explicit ScopedFd(int fd) : fd_(fd) {}
  ScopedFd(ScopedFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  ScopedFd& operator=(ScopedFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ScopedFd(const ScopedFd&) = delete;
  ScopedFd& operator=(const ScopedFd&) = delete;
  ~ScopedFd() { reset(); }

  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

// A close-on-exec memfd holding `bytes`, sealed against any change, its offset back at 0 so
// that a reader (bwrap reads to end of file) sees the whole content. `name` shows in
// /proc/PID/fd only.
inline Result<ScopedFd> sealed_memfd(const char* name, std::string_view bytes) {
  ScopedFd fd(memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING));
  if (fd.get() < 0) return make_error(std::string("memfd_create failed: ") + std::strerror(errno));
  for (std::size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return make_error(std::string("cannot fill a memfd: ") + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
  if (fcntl(fd.get(), F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) != 0 ||
      lseek(fd.get(), 0, SEEK_SET) != 0)
    return make_error(std::string("cannot seal a memfd: ") + std::strerror(errno));
  return fd;
}

}  // namespace scout
