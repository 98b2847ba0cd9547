#include "agent/trace.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "common/files.h"

namespace scout::agent {

namespace {

using ojson = nlohmann::ordered_json;

void replace_all(std::string& text, std::string_view from, std::string_view to) {
  if (from.empty()) return;
  for (std::size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

}  // namespace

Result<TraceWriter> TraceWriter::open(const std::string& path, std::vector<std::string> secrets) {
  TraceWriter w;
  if (path.empty()) return w;
  std::error_code ec;
  const auto parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (const auto refused = not_a_regular_file(path))
    return make_error("trace " + path + ": " + *refused + " with --trace FILE or [trace] dir");
  w.fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (w.fd_ < 0)
    return make_error("trace " + path + ": cannot create the file (" + std::strerror(errno) +
                      "); choose another with --trace FILE or [trace] dir");
  w.path_ = path;
  for (auto& s : secrets)
    if (s.size() >= 8) w.secrets_.push_back(std::move(s));
  return w;
}

TraceWriter TraceWriter::disabled() { return TraceWriter(); }

TraceWriter::TraceWriter(TraceWriter&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      path_(std::move(other.path_)),
      secrets_(std::move(other.secrets_)),
      failure_(std::move(other.failure_)),
      start_(other.start_) {}

TraceWriter& TraceWriter::operator=(TraceWriter&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    path_ = std::move(other.path_);
    secrets_ = std::move(other.secrets_);
    failure_ = std::move(other.failure_);
    start_ = other.start_;
  }
  return *this;
}

TraceWriter::~TraceWriter() {
  if (fd_ >= 0) ::close(fd_);
}

double TraceWriter::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
}

std::string TraceWriter::redact(std::string text) const {
  for (const auto& secret : secrets_) replace_all(text, secret, "[redacted]");
  return text;
}

void TraceWriter::write(std::string_view type, ojson event) {
  if (fd_ < 0) return;
  ojson line = ojson::object();
  line["type"] = type;
  line["t_ms"] = static_cast<std::int64_t>(elapsed_ms());
  for (auto& [key, value] : event.items()) line[key] = std::move(value);
  // Replace invalid UTF-8 (tool output may carry any bytes) rather than fail the event.
  std::string text = redact(line.dump(-1, ' ', false, ojson::error_handler_t::replace));
  text += '\n';
  // The whole line in one write(): buffered stdio would send a line longer than its buffer in
  // pieces, and a kill between two of them would cut the line. A second write happens only when
  // the kernel wrote part of the line (a full disk; a kill in the middle of a large write).
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      failure_ = "trace " + path_ + ": writing failed (" + (n < 0 ? std::strerror(errno) : "nothing written") +
                 "); tracing stopped";
      ::close(fd_);
      fd_ = -1;
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace scout::agent
