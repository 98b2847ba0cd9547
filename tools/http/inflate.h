// Inflater: Content-Encoding gzip / deflate decoding for the HTTP client, fed the body as it
// arrives and handing out decoded pieces of at most 16 KiB, so a consumer that stops taking
// output (the body cap) stops the decompression too: a decompression bomb never expands past
// one piece beyond the cap. Internal to tools/http.
#pragma once

#include <zlib.h>

#include <functional>
#include <string>
#include <string_view>

namespace scout::tools::http::detail {

class Inflater {
 public:
  // gzip (several members one after another are allowed) or deflate, which servers send both
  // zlib-wrapped (as the HTTP spec says) and raw: told apart by the first two bytes.
  enum class Format { gzip, deflate };
  // Receives decoded bytes; returns false to stop decoding.
  using Output = std::function<bool(std::string_view)>;

  explicit Inflater(Format format) : format_(format) {}
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Decodes `input`, calling out(piece) for each decoded piece. Returns false on corrupt data
  // (error() says why). Bytes after the end of the compressed stream are ignored.
  bool feed(std::string_view input, const Output& out);

  // The compressed stream has ended (a body that stops before this is incomplete).
  bool finished() const { return done_ || between_members_; }
  const std::string& error() const { return error_; }

 private:
  bool start(int window_bits);
  bool run(std::string_view input, const Output& out);

  Format format_;
  z_stream zs_{};
  bool initialized_ = false;
  bool between_members_ = false;  // a gzip member ended exactly at the end of a piece of input
  bool done_ = false;
  std::string pending_;  // the first bytes of a deflate body, until the format is known
  std::string error_;
};

}  // namespace scout::tools::http::detail
