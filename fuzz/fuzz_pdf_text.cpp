// libFuzzer target: PDF to text (tools/fetch/content_decode.h, pdf_to_text with poppler), which
// fetch_url and the offline index run on documents from anywhere.
//
// Input: byte 0 picks the text cap (in units of 16 bytes, 0 for "stop at once"); the rest is the
// document.
//
// Checked: no crash, hang or leak in our code or poppler's (poppler is not instrumented for
// coverage, but ASan still sees its heap); an accepted document has a page count that is not
// negative and no NUL in its text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.h"
#include "tools/fetch/content_decode.h"

using scout::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  scout::fuzz::Input in(data, size);
  const std::size_t cap = std::size_t{in.byte()} * 16;
  const std::string_view pdf = in.rest();
  const auto text = scout::tools::fetch::pdf_to_text(pdf, cap);
  if (!text) {
    check(!text.error().message.empty(), "a refusal without a message");
    return 0;
  }
  check(text->pages >= 0, "a negative page count");
  check(text->text.find('\0') == std::string::npos, "PDF text with NUL");
  return 0;
}
