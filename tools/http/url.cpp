// Url: parsing, resolution of references and numeric hosts (see http_client.h).
#include <unicode/uidna.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <vector>

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/address_v6.hpp>

#include "common/text.h"
#include "tools/http/http_client.h"

namespace scout::tools::http {
namespace {


bool is_c0_or_space(char c) { return static_cast<unsigned char>(c) <= 0x20; }

// One part of an inet_aton address: "0x1f" hex, "017" octal, "15" decimal. nullopt when it is
// not a number, or is larger than 2^32 (too large for any position).
std::optional<std::uint64_t> parse_ipv4_part(std::string_view part) {
  int base = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    base = 16;
    part.remove_prefix(2);
    if (part.empty()) return 0;  // "0x" is 0, as browsers read it
  } else if (part.size() >= 2 && part[0] == '0') {
    base = 8;
    part.remove_prefix(1);
  }
  if (part.empty()) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : part) {
    int digit;
    if (c >= '0' && c <= '9') digit = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
    else return std::nullopt;
    if (digit >= base) return std::nullopt;
    value = value * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(digit);
    if (value > 0xffffffffull) return std::nullopt;
  }
  return value;
}

// True when the last label of a host looks like a number, which makes the host an IPv4
// address (or invalid) rather than a name: WHATWG's "ends in a number".
bool ends_in_number(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  const std::size_t dot = host.rfind('.');
  std::string_view last = dot == std::string_view::npos ? host : host.substr(dot + 1);
  if (last.empty()) return false;
  if (std::all_of(last.begin(), last.end(), [](char c) { return c >= '0' && c <= '9'; })) return true;
  return last.size() >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') &&
         std::all_of(last.begin() + 2, last.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

// Removes "." and ".." segments (RFC 3986 5.2.4), also in their %2e forms.
std::string remove_dot_segments(std::string_view path) {
  std::vector<std::string> out;
  std::size_t pos = 1;  // path starts with '/'
  bool trailing_slash = false;
  while (pos <= path.size()) {
    std::size_t next = path.find('/', pos);
    if (next == std::string_view::npos) next = path.size();
    std::string seg(path.substr(pos, next - pos));
    const std::string seg_lower = ascii_lower(seg);
    const bool is_dot = seg_lower == "." || seg_lower == "%2e";
    const bool is_dotdot = seg_lower == ".." || seg_lower == ".%2e" || seg_lower == "%2e." || seg_lower == "%2e%2e";
    trailing_slash = false;
    if (is_dotdot) {
      if (!out.empty()) out.pop_back();
      trailing_slash = true;
    } else if (is_dot) {
      trailing_slash = true;
    } else {
      out.push_back(std::move(seg));
    }
    pos = next + 1;
  }
  std::string result;
  for (const auto& s : out) result += "/" + s;
  if (trailing_slash || result.empty()) result += "/";
  return result;
}

// Percent-encodes the bytes a request target may not carry as they are.
std::string encode_target_chars(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' || c == '}' || c == '|' ||
        c == '^') {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += ch;
    }
  }
  return out;
}

Result<std::string> idna_to_ascii(std::string_view host) {
  UErrorCode status = U_ZERO_ERROR;
  UIDNA* idna = uidna_openUTS46(UIDNA_NONTRANSITIONAL_TO_ASCII | UIDNA_CHECK_BIDI, &status);
  if (U_FAILURE(status)) return make_error("IDNA is not available");
  char out[512];
  UIDNAInfo info = UIDNA_INFO_INITIALIZER;
  const int32_t n = uidna_nameToASCII_UTF8(idna, host.data(), static_cast<int32_t>(host.size()), out, sizeof out, &info, &status);
  uidna_close(idna);
  if (U_FAILURE(status) || info.errors != 0 || n <= 0 || n >= static_cast<int32_t>(sizeof out))
    return make_error("not a valid international domain name");
  return std::string(out, static_cast<std::size_t>(n));
}

// The host part of an authority, checked and put in canonical form.
Result<std::string> canonical_host(std::string_view host, std::string_view url_text) {
  if (host.empty()) return make_error("URL " + std::string(url_text) + " has no host");
  if (host.front() == '[') {
    if (host.back() != ']') return make_error("URL " + std::string(url_text) + " has an unterminated IPv6 address");
    std::string inner(host.substr(1, host.size() - 2));
    if (inner.find('%') != std::string::npos)
      return make_error("URL " + std::string(url_text) + " has an IPv6 zone identifier, which cannot be fetched");
    boost::system::error_code ec;
    auto v6 = asio::ip::make_address_v6(inner, ec);
    if (ec) return make_error("URL " + std::string(url_text) + " has an invalid IPv6 address [" + inner + "]");
    return v6.to_string();
  }
  if (host.find('%') != std::string_view::npos)
    return make_error("URL " + std::string(url_text) + " has '%' in its host name, which is not allowed");
  std::string h;
  if (std::any_of(host.begin(), host.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    auto ascii = idna_to_ascii(host);
    if (!ascii) return make_error("URL " + std::string(url_text) + " has a host that is " + ascii.error().message);
    h = ascii_lower(*ascii);
  } else {
    h = ascii_lower(host);
  }
  if (ends_in_number(h)) {
    auto address = parse_numeric_host(h);
    if (!address || !address->is_v4())
      return make_error("URL " + std::string(url_text) + " has host \"" + h + "\", which is not a valid IPv4 address");
    return address->to_string();
  }
  for (char c : h) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    if (!ok) return make_error("URL " + std::string(url_text) + " has an invalid character in its host name");
  }
  if (h.find("..") != std::string::npos || h.front() == '.')
    return make_error("URL " + std::string(url_text) + " has an empty label in its host name");
  return h;
}

std::uint16_t default_port(std::string_view scheme) { return scheme == "https" ? 443 : 80; }

}  // namespace

std::optional<asio::ip::address> parse_numeric_host(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.find(':') != std::string_view::npos) {
    if (host.find('%') != std::string_view::npos) return std::nullopt;
    boost::system::error_code ec;
    auto v6 = asio::ip::make_address_v6(std::string(host), ec);
    if (ec) return std::nullopt;
    return asio::ip::address(v6);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::vector<std::uint64_t> parts;
  std::size_t pos = 0;
  while (true) {
    const std::size_t dot = host.find('.', pos);
    const std::string_view part = host.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
    auto value = parse_ipv4_part(part);
    if (!value) return std::nullopt;
    parts.push_back(*value);
    if (parts.size() > 4) return std::nullopt;
    if (dot == std::string_view::npos) break;
    pos = dot + 1;
  }
  const std::size_t n = parts.size();
  for (std::size_t i = 0; i + 1 < n; ++i)
    if (parts[i] > 255) return std::nullopt;
  if (parts[n - 1] >= (1ull << (8 * (5 - n)))) return std::nullopt;
  std::uint64_t value = parts[n - 1];
  for (std::size_t i = 0; i + 1 < n; ++i) value += parts[i] << (8 * (3 - i));
  return asio::ip::address(asio::ip::address_v4(static_cast<std::uint32_t>(value)));
}

Result<Url> Url::parse(std::string_view text) {
  while (!text.empty() && is_c0_or_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_c0_or_space(text.back())) text.remove_suffix(1);
  const std::string shown(text.substr(0, 200));
  for (char c : text)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return make_error("URL " + shown + " contains control characters");

  const std::size_t colon = text.find(':');
  const bool has_scheme = colon != std::string_view::npos && colon > 0 && std::isalpha(static_cast<unsigned char>(text[0])) &&
                          std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
                            return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
                          });
  if (!has_scheme) return make_error("\"" + shown + "\" is not an absolute URL (it needs http:// or https://)");
  Url url;
  url.scheme = ascii_lower(text.substr(0, colon));
  if (url.scheme != "http" && url.scheme != "https")
    return make_error("URL " + shown + " has scheme \"" + url.scheme + ":\"; only http and https can be fetched");
  std::string rest(text.substr(colon + 1));
  std::replace(rest.begin(), rest.end(), '\\', '/');  // as browsers read http(s) URLs
  if (!rest.starts_with("//")) return make_error("URL " + shown + " has no host (expected \"" + url.scheme + "://host/...\")");
  rest.erase(0, 2);

  const std::size_t authority_end = rest.find_first_of("/?#");
  const std::string authority = rest.substr(0, authority_end);
  std::string path_and_more = authority_end == std::string::npos ? std::string() : rest.substr(authority_end);
  if (authority.find('@') != std::string::npos)
    return make_error("URL " + shown + " contains user credentials (user@host); they are not allowed because they hide the real host");

  std::string host_part = authority;
  std::string port_text;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string::npos) return make_error("URL " + shown + " has an unterminated IPv6 address");
    host_part = authority.substr(0, close + 1);
    const std::string after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return make_error("URL " + shown + " has text after its IPv6 address");
      port_text = after.substr(1);
    }
  } else if (const std::size_t c = authority.rfind(':'); c != std::string::npos) {
    host_part = authority.substr(0, c);
    port_text = authority.substr(c + 1);
  }
  auto host = canonical_host(host_part, shown);
  if (!host) return Unexpected(host.error());
  url.host = std::move(*host);
  url.port = default_port(url.scheme);
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return make_error("URL " + shown + " has an invalid port \"" + port_text.substr(0, 20) + "\"");
    const unsigned long port = std::stoul(port_text);
    if (port == 0 || port > 65535) return make_error("URL " + shown + " has port " + port_text + ", outside 1-65535");
    url.port = static_cast<std::uint16_t>(port);
  }

  if (const std::size_t hash = path_and_more.find('#'); hash != std::string::npos) path_and_more.resize(hash);
  std::string path = path_and_more;
  std::string query;
  bool has_query = false;
  if (const std::size_t q = path_and_more.find('?'); q != std::string::npos) {
    path = path_and_more.substr(0, q);
    query = path_and_more.substr(q + 1);
    has_query = true;
  }
  if (path.empty()) path = "/";
  url.target = encode_target_chars(remove_dot_segments(path));
  if (has_query) url.target += "?" + encode_target_chars(query);
  return url;
}

Result<Url> Url::resolve(std::string_view reference) const {
  while (!reference.empty() && is_c0_or_space(reference.front())) reference.remove_prefix(1);
  while (!reference.empty() && is_c0_or_space(reference.back())) reference.remove_suffix(1);
  std::string ref(reference);
  std::replace(ref.begin(), ref.end(), '\\', '/');
  const std::string host_text = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  const std::string origin = scheme + "://" + host_text + ":" + std::to_string(port);

  const std::size_t colon = ref.find(':');
  const std::size_t first_delim = ref.find_first_of("/?#");
  if (colon != std::string::npos && colon > 0 && (first_delim == std::string::npos || colon < first_delim) &&
      std::isalpha(static_cast<unsigned char>(ref[0])) &&
      std::all_of(ref.begin(), ref.begin() + static_cast<std::ptrdiff_t>(colon), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
      })) {
    return Url::parse(ref);
  }
  if (ref.starts_with("//")) return Url::parse(scheme + ":" + ref);
  if (ref.starts_with("/")) return Url::parse(origin + ref);
  const std::size_t q = target.find('?');
  const std::string base_path = target.substr(0, q);
  if (ref.empty() || ref.starts_with("#")) return Url::parse(origin + target);
  if (ref.starts_with("?")) return Url::parse(origin + base_path + ref);
  return Url::parse(origin + base_path.substr(0, base_path.rfind('/') + 1) + ref);
}

std::string Url::str() const {
  std::string out = scheme + "://";
  out += host.find(':') != std::string::npos ? "[" + host + "]" : host;
  if (port != default_port(scheme)) out += ":" + std::to_string(port);
  out += target;
  return out;
}

std::string percent_encode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    const bool unreserved = (u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
                            u == '.' || u == '_' || u == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0x0F];
    }
  }
  return out;
}

std::string base64_encode(std::string_view bytes) {
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t v = (std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16) |
                            (std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8) |
                            std::uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t v = std::uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) v |= std::uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += rest == 2 ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

}  // namespace scout::tools::http
