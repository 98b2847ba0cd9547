#include "agent/trace.h"

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
  w.file_ = std::fopen(path.c_str(), "wb");
  if (!w.file_)
    return make_error("trace " + path + ": cannot create the file (" + std::strerror(errno) +
                      "); choose another with --trace FILE or [trace] dir");
  w.path_ = path;
  for (auto& s : secrets)
    if (s.size() >= 8) w.secrets_.push_back(std::move(s));
  return w;
}

TraceWriter TraceWriter::disabled() { return TraceWriter(); }

TraceWriter::TraceWriter(TraceWriter&& other) noexcept
    : file_(std::exchange(other.file_, nullptr)),
      path_(std::move(other.path_)),
      secrets_(std::move(other.secrets_)),
      failure_(std::move(other.failure_)),
      start_(other.start_) {}

TraceWriter& TraceWriter::operator=(TraceWriter&& other) noexcept {
  if (this != &other) {
    if (file_) std::fclose(file_);
    file_ = std::exchange(other.file_, nullptr);
    path_ = std::move(other.path_);
    secrets_ = std::move(other.secrets_);
    failure_ = std::move(other.failure_);
    start_ = other.start_;
  }
  return *this;
}

TraceWriter::~TraceWriter() {
  if (file_) std::fclose(file_);
}

double TraceWriter::elapsed_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
}

std::string TraceWriter::redact(std::string text) const {
  for (const auto& secret : secrets_) replace_all(text, secret, "[redacted]");
  return text;
}

void TraceWriter::write(std::string_view type, ojson event) {
  if (!file_) return;
  ojson line = ojson::object();
  line["type"] = type;
  line["t_ms"] = static_cast<std::int64_t>(elapsed_ms());
  for (auto& [key, value] : event.items()) line[key] = std::move(value);
  // Replace invalid UTF-8 (tool output may carry any bytes) rather than fail the event.
  std::string text = redact(line.dump(-1, ' ', false, ojson::error_handler_t::replace));
  text += '\n';
  if (std::fwrite(text.data(), 1, text.size(), file_) != text.size() || std::fflush(file_) != 0) {
    failure_ = "trace " + path_ + ": writing failed (" + std::strerror(errno) + "); tracing stopped";
    std::fclose(file_);
    file_ = nullptr;
  }
}

}  // namespace scout::agent
