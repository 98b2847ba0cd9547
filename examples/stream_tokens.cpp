// Scout as a library: load a vocabulary from a GGUF file, encode text, and decode it back one
// token at a time the way a generation loop streams its output — never printing half a UTF-8
// character. Each streamed chunk is shown between brackets.
//
//   ./build/release/examples/stream_tokens MODEL.gguf "text to encode"
#include <cstdio>
#include <string>

#include "engine/gguf/gguf.h"
#include "engine/tokenizer/tokenizer.h"
#include "engine/tokenizer/vocab_gguf.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s MODEL.gguf TEXT\n", argv[0]);
    return 2;
  }
  auto file = scout::gguf::File::open(argv[1]);
  if (!file) {
    std::fprintf(stderr, "%s\n", file.error().describe().c_str());
    return 3;
  }
  auto vocab = scout::vocab_from_gguf(*file);
  if (!vocab) {
    std::fprintf(stderr, "%s: %s\n", argv[1], vocab.error().message.c_str());
    return 3;
  }
  auto tokenizer = scout::Tokenizer::create(std::move(*vocab));
  if (!tokenizer) {
    std::fprintf(stderr, "%s: %s\n", argv[1], tokenizer.error().message.c_str());
    return 3;
  }
  const auto ids = tokenizer->encode(argv[2], /*add_special=*/false, /*parse_special=*/true);
  std::printf("%zu tokens\n", ids.size());
  scout::StreamingDecoder decoder(*tokenizer);
  for (int32_t id : ids) {
    const std::string chunk = decoder.push(id);
    std::printf("%6d -> [%s]%s\n", id, chunk.c_str(), chunk.empty() ? "  (held back: incomplete character)" : "");
  }
  const std::string rest = decoder.flush();
  if (!rest.empty()) std::printf("flush -> [%s]\n", rest.c_str());
  return 0;
}
