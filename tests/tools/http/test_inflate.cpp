// The HTTP client's Content-Encoding decoder (tools/http/inflate.h) on a stream that turns
// corrupt part way: what came before the corruption is decoded the same however the input is
// cut, and a consumer that stops before the corruption never sees an error.
#include <catch2/catch.hpp>

#include <zlib.h>

#include <string>
#include <string_view>

#include "tools/http/inflate.h"

using scout::tools::http::detail::Inflater;

namespace {

// 1000 bytes of text compressed with zlib up to a flush point, then a deflate block of the
// reserved type 3: decoding gives the text, then fails ("invalid block type").
struct CorruptAfterText {
  std::string text;
  std::string stream;
  CorruptAfterText() {
    for (int i = 0; i < 1000; ++i) text += static_cast<char>('a' + (i * 7 + i / 13) % 26);
    z_stream zs{};
    REQUIRE(deflateInit(&zs, 9) == Z_OK);
    zs.next_in = reinterpret_cast<Bytef*>(text.data());
    zs.avail_in = static_cast<uInt>(text.size());
    char buf[4096];
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    REQUIRE(deflate(&zs, Z_SYNC_FLUSH) == Z_OK);
    stream.assign(buf, sizeof buf - zs.avail_out);
    deflateEnd(&zs);
    stream += "\x07\xff\xff\xff";  // BFINAL = 1, BTYPE = 3 (reserved)
  }
};

// Feeds `stream` in pieces of `piece` bytes (0: whole) to a consumer that keeps at most `cap`
// bytes and then stops; returns what feed() last said, with what was kept.
bool decode(const std::string& stream, std::size_t piece, std::size_t cap, std::string& kept, std::string& error) {
  Inflater inflater(Inflater::Format::deflate);
  auto take = [&](std::string_view out) {
    kept.append(out.substr(0, cap - kept.size()));
    return kept.size() < cap;
  };
  const std::size_t step = piece == 0 ? stream.size() : piece;
  bool ok = true;
  for (std::size_t at = 0; at < stream.size() && ok && kept.size() < cap; at += step)
    ok = inflater.feed(std::string_view(stream).substr(at, step), take);
  error = inflater.error();
  return ok;
}

}  // namespace

TEST_CASE("a consumer that stops before a compressed stream's corruption gets no error, however the input is cut",
          "[http][inflate]") {
  const CorruptAfterText c;
  for (std::size_t piece : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{64}}) {
    INFO("pieces of " << piece << " bytes");
    std::string kept, error;
    CHECK(decode(c.stream, piece, 64, kept, error));
    CHECK(kept == c.text.substr(0, 64));
    CHECK(error.empty());
  }
}

TEST_CASE("the text before a compressed stream's corruption is handed out before the error, fed whole or in pieces",
          "[http][inflate]") {
  const CorruptAfterText c;
  for (std::size_t piece : {std::size_t{0}, std::size_t{5}, std::size_t{300}}) {
    INFO("pieces of " << piece << " bytes");
    std::string kept, error;
    CHECK_FALSE(decode(c.stream, piece, 1 << 20, kept, error));
    CHECK(kept == c.text);
    CHECK(error == "invalid block type");
  }
}
