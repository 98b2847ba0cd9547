#include "common/text.h"
#include "tools/fetch/content_decode.h"

#include <unicode/ucnv.h>
#include <unicode/ucnv_cb.h>
#include <unicode/ucnv_err.h>
#include <unicode/ustring.h>

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <memory>
#include <mutex>
#include <optional>

namespace scout::tools::fetch {
namespace {


std::string unquote(std::string_view s) {
  s = trim(s);
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) s = s.substr(1, s.size() - 2);
  return ascii_lower(trim(s));
}

// Length of the valid UTF-8 sequence at s[i], or 0 when it is invalid. `partial_ok` accepts a
// sequence cut off by the end of the input (a body truncated at a byte cap).
std::size_t utf8_sequence(std::string_view s, std::size_t i, bool partial_ok) {
  const auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) n = 2;
  else if (c == 0xE0) { n = 3; lo = 0xA0; }
  else if (c >= 0xE1 && c <= 0xEC) n = 3;
  else if (c == 0xED) { n = 3; hi = 0x9F; }
  else if (c >= 0xEE && c <= 0xEF) n = 3;
  else if (c == 0xF0) { n = 4; lo = 0x90; }
  else if (c >= 0xF1 && c <= 0xF3) n = 4;
  else if (c == 0xF4) { n = 4; hi = 0x8F; }
  else return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if (i + k >= s.size()) return partial_ok ? s.size() - i : 0;
    const auto b = static_cast<unsigned char>(s[i + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) return 0;
  }
  return n;
}

// Valid UTF-8, allowing a sequence cut off at the end (a body truncated at a byte cap) only
// when complete multi-byte sequences came before it: a lone "\xE9" at the end of otherwise
// ASCII text is Latin-1, not a cut UTF-8 character.
bool valid_utf8(std::string_view s) {
  bool multibyte_seen = false;
  for (std::size_t i = 0; i < s.size();) {
    if (const std::size_t n = utf8_sequence(s, i, false); n > 0) {
      multibyte_seen |= n > 1;
      i += n;
      continue;
    }
    // Invalid, or a sequence cut off by the end of the input.
    return multibyte_seen && utf8_sequence(s, i, true) == s.size() - i;
  }
  return true;
}

// The converter name for an encoding label, as the WHATWG Encoding standard maps labels
// (the common ones; any other label is handed to ICU, which knows many aliases).
std::string converter_for_label(std::string_view label) {
  const std::string l = ascii_lower(trim(label));
  static const std::pair<const char*, const char*> kLabels[] = {
      {"utf-8", "UTF-8"}, {"utf8", "UTF-8"}, {"unicode-1-1-utf-8", "UTF-8"}, {"x-unicode20utf8", "UTF-8"},
      {"iso-8859-1", "windows-1252"}, {"iso8859-1", "windows-1252"}, {"iso_8859-1", "windows-1252"},
      {"iso_8859-1:1987", "windows-1252"}, {"iso88591", "windows-1252"}, {"latin1", "windows-1252"},
      {"l1", "windows-1252"}, {"us-ascii", "windows-1252"}, {"ascii", "windows-1252"},
      {"ansi_x3.4-1968", "windows-1252"}, {"cp1252", "windows-1252"}, {"windows-1252", "windows-1252"},
      {"x-cp1252", "windows-1252"}, {"cp819", "windows-1252"}, {"ibm819", "windows-1252"},
      {"csisolatin1", "windows-1252"}, {"iso-ir-100", "windows-1252"},
      {"shift_jis", "Shift_JIS"}, {"shift-jis", "Shift_JIS"}, {"sjis", "Shift_JIS"}, {"x-sjis", "Shift_JIS"},
      {"ms_kanji", "Shift_JIS"}, {"csshiftjis", "Shift_JIS"}, {"windows-31j", "Shift_JIS"}, {"ms932", "Shift_JIS"},
      {"gb2312", "GBK"}, {"gbk", "GBK"}, {"x-gbk", "GBK"}, {"chinese", "GBK"}, {"csgb2312", "GBK"},
      {"gb_2312-80", "GBK"}, {"iso-ir-58", "GBK"},
      {"euc-kr", "windows-949"}, {"ks_c_5601-1987", "windows-949"}, {"windows-949", "windows-949"},
      {"utf-16", "UTF-16LE"}, {"utf-16le", "UTF-16LE"}, {"utf-16be", "UTF-16BE"},
  };
  for (const auto& [from, to] : kLabels)
    if (l == from) return to;
  return l;
}

bool converter_exists(const std::string& name) {
  if (name.empty()) return false;
  UErrorCode err = U_ZERO_ERROR;
  UConverter* c = ucnv_open(name.c_str(), &err);
  if (c != nullptr) ucnv_close(c);
  return c != nullptr && U_SUCCESS(err);
}

// The to-Unicode callback: every invalid or unmappable sequence becomes one U+FFFD, counted.
void replace_with_fffd(const void* context, UConverterToUnicodeArgs* args, const char*, int32_t,
                       UConverterCallbackReason reason, UErrorCode* err) {
  if (reason > UCNV_IRREGULAR) return;  // reset, close, clone
  *err = U_ZERO_ERROR;
  ++*static_cast<std::size_t*>(const_cast<void*>(context));
  static const UChar kReplacement = 0xFFFD;
  ucnv_cbToUWriteUChars(args, &kReplacement, 1, 0, err);
}

// Converts with ICU; nullopt when the converter cannot be opened.
std::optional<std::string> convert(std::string_view bytes, const std::string& converter, std::size_t& replaced) {
  UErrorCode err = U_ZERO_ERROR;
  UConverter* cnv = ucnv_open(converter.c_str(), &err);
  if (cnv == nullptr || U_FAILURE(err)) return std::nullopt;
  std::unique_ptr<UConverter, decltype(&ucnv_close)> guard(cnv, &ucnv_close);
  ucnv_setToUCallBack(cnv, replace_with_fffd, &replaced, nullptr, nullptr, &err);
  std::u16string units(bytes.size() + 16, u'\0');
  const char* source = bytes.data();
  const char* source_end = bytes.data() + bytes.size();
  std::size_t used = 0;
  for (;;) {
    UChar* target = reinterpret_cast<UChar*>(units.data()) + used;
    UChar* target_start = target;
    err = U_ZERO_ERROR;
    ucnv_toUnicode(cnv, &target, reinterpret_cast<UChar*>(units.data()) + units.size(), &source, source_end, nullptr, true, &err);
    used += static_cast<std::size_t>(target - target_start);
    if (err == U_BUFFER_OVERFLOW_ERROR) {
      units.resize(units.size() * 2);
      continue;
    }
    if (U_FAILURE(err)) return std::nullopt;
    break;
  }
  units.resize(used);
  std::erase(units, u'\0');
  int32_t length = 0;
  err = U_ZERO_ERROR;
  u_strToUTF8WithSub(nullptr, 0, &length, reinterpret_cast<const UChar*>(units.data()), static_cast<int32_t>(units.size()),
                     0xFFFD, nullptr, &err);
  std::string out(static_cast<std::size_t>(length), '\0');
  err = U_ZERO_ERROR;
  u_strToUTF8WithSub(out.data(), length, &length, reinterpret_cast<const UChar*>(units.data()),
                     static_cast<int32_t>(units.size()), 0xFFFD, nullptr, &err);
  if (U_FAILURE(err)) return std::nullopt;
  return out;
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ascii_lower(s.substr(0, prefix.size())) == prefix;
}

}  // namespace

std::string media_type(std::string_view content_type) {
  return ascii_lower(trim(content_type.substr(0, content_type.find(';'))));
}

std::string charset_parameter(std::string_view content_type) {
  std::size_t pos = content_type.find(';');
  while (pos != std::string_view::npos) {
    const std::size_t next = content_type.find(';', pos + 1);
    const std::string_view param = trim(content_type.substr(pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1));
    const std::size_t eq = param.find('=');
    if (eq != std::string_view::npos && ascii_lower(trim(param.substr(0, eq))) == "charset") return unquote(param.substr(eq + 1));
    pos = next;
  }
  return {};
}

ContentKind classify_content(std::string_view mt, std::string_view body) {
  const std::string m = ascii_lower(mt);
  if (m == "text/html" || m == "application/xhtml+xml") return ContentKind::html;
  if (m == "text/markdown" || m == "text/x-markdown") return ContentKind::markdown;
  if (m == "application/json" || m == "text/json" || m == "application/x-ndjson" || m.ends_with("+json")) return ContentKind::json;
  if (m == "application/pdf" || m == "application/x-pdf") return ContentKind::pdf;
  if (m.starts_with("text/") || m.ends_with("+xml") || m == "application/xml" || m == "application/javascript" ||
      m == "application/x-javascript" || m == "application/ecmascript" || m == "application/x-yaml" ||
      m == "application/yaml" || m == "application/toml" || m == "application/x-sh" || m == "application/sql" ||
      m == "application/x-tex")
    return ContentKind::text;
  if (!(m.empty() || m == "application/octet-stream" || m == "binary/octet-stream" || m == "application/unknown"))
    return ContentKind::unsupported;
  // No useful type: look at the bytes.
  if (body.starts_with("%PDF-")) return ContentKind::pdf;
  std::string_view start = body.substr(0, 512);
  if (start.starts_with("\xEF\xBB\xBF")) start.remove_prefix(3);
  start = trim(start);
  for (std::string_view tag : {"<!doctype html", "<html", "<head", "<body", "<!--", "<title", "<p>", "<div"})
    if (starts_with_icase(start, tag)) return ContentKind::html;
  const std::string_view prefix = body.substr(0, 4096);
  if (prefix.find('\0') != std::string_view::npos) return ContentKind::unsupported;
  // Text has few control characters, whatever its charset; binary formats have many.
  const auto control = std::count_if(prefix.begin(), prefix.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 && u != '\n' && u != '\r' && u != '\t' && u != '\f';
  });
  return static_cast<std::size_t>(control) * 20 < prefix.size() ? ContentKind::text : ContentKind::unsupported;
}

std::string meta_charset(std::string_view html) {
  const std::string s = ascii_lower(html.substr(0, 4096));
  std::size_t pos = 0;
  while ((pos = s.find('<', pos)) != std::string::npos) {
    if (s.compare(pos, 4, "<!--") == 0) {
      const std::size_t end = s.find("-->", pos + 4);
      if (end == std::string::npos) return {};
      pos = end + 3;
      continue;
    }
    if (s.compare(pos, 5, "<meta") != 0 || pos + 5 >= s.size() ||
        !(std::isspace(static_cast<unsigned char>(s[pos + 5])) || s[pos + 5] == '/')) {
      ++pos;
      continue;
    }
    // Attributes of this <meta>.
    std::size_t i = pos + 5;
    std::string charset, http_equiv, content;
    while (i < s.size() && s[i] != '>') {
      while (i < s.size() && (std::isspace(static_cast<unsigned char>(s[i])) || s[i] == '/')) ++i;
      const std::size_t name_start = i;
      while (i < s.size() && s[i] != '=' && s[i] != '>' && !std::isspace(static_cast<unsigned char>(s[i])) && s[i] != '/') ++i;
      const std::string name = s.substr(name_start, i - name_start);
      while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
      std::string value;
      if (i < s.size() && s[i] == '=') {
        ++i;
        while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
        if (i < s.size() && (s[i] == '"' || s[i] == '\'')) {
          const char quote = s[i];
          const std::size_t end = s.find(quote, i + 1);
          if (end == std::string::npos) return {};
          value = s.substr(i + 1, end - i - 1);
          i = end + 1;
        } else {
          const std::size_t start = i;
          while (i < s.size() && s[i] != '>' && !std::isspace(static_cast<unsigned char>(s[i]))) ++i;
          value = s.substr(start, i - start);
        }
      }
      if (name.empty() && i < s.size() && s[i] != '>') ++i;  // stray character
      if (name == "charset") charset = std::string(trim(value));
      else if (name == "http-equiv") http_equiv = std::string(trim(value));
      else if (name == "content") content = value;
    }
    if (!charset.empty()) return charset;
    if (http_equiv == "content-type") {
      const std::size_t at = content.find("charset");
      if (at != std::string::npos) {
        std::size_t v = content.find('=', at);
        if (v != std::string::npos) {
          std::string_view rest = trim(std::string_view(content).substr(v + 1));
          if (!rest.empty() && (rest.front() == '"' || rest.front() == '\'')) rest.remove_prefix(1);
          const std::size_t end = rest.find_first_of(";\"' \t");
          return std::string(rest.substr(0, end));
        }
      }
    }
    pos = i;
  }
  return {};
}

DecodedText decode_to_utf8(std::string_view body, std::string_view header_charset, bool is_html) {
  DecodedText out;
  std::string converter;
  if (body.starts_with("\xEF\xBB\xBF")) {
    body.remove_prefix(3);
    converter = "UTF-8";
    out.charset_source = "BOM";
  } else if (body.starts_with("\xFF\xFE")) {
    body.remove_prefix(2);
    converter = "UTF-16LE";
    out.charset_source = "BOM";
  } else if (body.starts_with("\xFE\xFF")) {
    body.remove_prefix(2);
    converter = "UTF-16BE";
    out.charset_source = "BOM";
  }
  if (converter.empty() && !header_charset.empty()) {
    const std::string c = converter_for_label(header_charset);
    if (converter_exists(c)) {
      converter = c;
      out.charset_source = "Content-Type";
    }
  }
  if (converter.empty() && is_html) {
    std::string c = converter_for_label(meta_charset(body));
    // A <meta> readable as ASCII cannot be UTF-16: the WHATWG rule reads it as UTF-8.
    if (c == "UTF-16LE" || c == "UTF-16BE") c = "UTF-8";
    if (converter_exists(c)) {
      converter = c;
      out.charset_source = "meta";
    }
  }
  if (converter.empty()) {
    converter = valid_utf8(body) ? "UTF-8" : "windows-1252";
    out.charset_source = "detected";
  }
  auto text = convert(body, converter, out.replaced);
  if (!text) {  // cannot happen for a converter that opened; keep a safe fallback anyway
    out.replaced = 0;
    converter = "UTF-8";
    text = convert(body, converter, out.replaced);
  }
  out.text = text ? std::move(*text) : std::string();
  out.charset = converter;
  return out;
}

Result<PdfText> pdf_to_text(std::string_view pdf, std::size_t max_chars) {
  // Poppler's global state is not meant for concurrent documents; PDFs are rare enough to take
  // turns. Its error chatter goes nowhere: failures are reported through the result.
  static std::mutex poppler_mu;
  std::lock_guard lock(poppler_mu);
  static std::once_flag quiet;
  std::call_once(quiet, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
  if (pdf.size() > static_cast<std::size_t>(INT_MAX)) return make_error("the PDF is too large to read");
  if (!pdf.starts_with("%PDF-") && pdf.substr(0, 1024).find("%PDF-") == std::string_view::npos)
    return make_error("the data is not a PDF (no %PDF- header)");
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(pdf.data(), static_cast<int>(pdf.size())));
  if (!doc) return make_error("the PDF is damaged or incomplete and could not be opened");
  if (doc->is_locked()) return make_error("the PDF is encrypted with a password");
  PdfText out;
  out.pages = doc->pages();
  const auto title = doc->get_title().to_utf8();
  out.title = std::string(title.begin(), title.end());
  for (int i = 0; i < out.pages; ++i) {
    if (out.text.size() >= max_chars) {
      out.text_truncated = true;
      break;
    }
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;
    const auto bytes = page->text().to_utf8();
    std::string text(bytes.begin(), bytes.end());
    std::erase(text, '\0');
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
    if (!out.text.empty() && !text.empty()) out.text += "\n\n";
    out.text += text;
  }
  return out;
}

std::string truncate_utf8(std::string_view text, std::size_t max_chars, bool& cut) {
  std::size_t chars = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) continue;  // continuation byte
    if (chars == max_chars) {
      cut = true;
      return std::string(text.substr(0, i));
    }
    ++chars;
  }
  return std::string(text);
}

}  // namespace scout::tools::fetch
