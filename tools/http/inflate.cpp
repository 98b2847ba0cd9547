#include "tools/http/inflate.h"

namespace scout::tools::http::detail {
namespace {
constexpr std::size_t kOutChunk = 16 * 1024;
}  // namespace

Inflater::~Inflater() {
  if (initialized_) inflateEnd(&zs_);
}

bool Inflater::start(int window_bits) {
  zs_ = z_stream{};
  if (inflateInit2(&zs_, window_bits) != Z_OK) {
    error_ = "zlib could not start";
    return false;
  }
  initialized_ = true;
  return true;
}

bool Inflater::feed(std::string_view input, const Output& out) {
  if (done_ || input.empty()) return true;
  if (between_members_) {
    if (static_cast<unsigned char>(input[0]) != 0x1f) {  // not another gzip member: trailing bytes
      done_ = true;
      return true;
    }
    between_members_ = false;
    inflateReset(&zs_);
  }
  if (!initialized_) {
    if (format_ == Format::gzip) {
      if (!start(15 + 16)) return false;
      return run(input, out);
    }
    pending_.append(input);
    if (pending_.size() < 2) return true;
    const auto b0 = static_cast<unsigned char>(pending_[0]);
    const auto b1 = static_cast<unsigned char>(pending_[1]);
    const bool zlib_header = (b0 & 0x0f) == 8 && ((b0 << 8) | b1) % 31 == 0;
    if (!start(zlib_header ? 15 : -15)) return false;
    const std::string first = std::move(pending_);
    pending_.clear();
    return run(first, out);
  }
  return run(input, out);
}

bool Inflater::run(std::string_view input, const Output& out) {
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
  zs_.avail_in = static_cast<uInt>(input.size());
  char buf[kOutChunk];
  while (!done_) {
    zs_.next_out = reinterpret_cast<Bytef*>(buf);
    zs_.avail_out = sizeof buf;
    const int ret = inflate(&zs_, Z_NO_FLUSH);
    const std::size_t produced = sizeof buf - zs_.avail_out;
    // What was decoded before any corruption goes out first: a consumer that stops within it
    // never reaches the corruption, however the input was cut into pieces.
    if (produced > 0 && !out(std::string_view(buf, produced))) return true;  // the consumer stopped
    if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR) {
      error_ = zs_.msg != nullptr ? zs_.msg : "corrupt compressed data";
      return false;
    }
    if (ret == Z_STREAM_END) {
      if (format_ == Format::gzip && zs_.avail_in == 0) {
        between_members_ = true;  // another member may follow in the next piece
        break;
      }
      if (format_ == Format::gzip && static_cast<unsigned char>(zs_.next_in[0]) == 0x1f) {
        inflateReset(&zs_);
        continue;
      }
      done_ = true;
      break;
    }
    if (zs_.avail_in == 0 && produced < sizeof buf) break;  // needs more input
    if (ret == Z_BUF_ERROR && produced == 0) break;
  }
  return true;
}

}  // namespace scout::tools::http::detail
