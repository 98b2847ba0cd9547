// The SSRF guard: address classification (see http_client.h) and the vetting of a hop's
// addresses (see client_detail.h).
#include <algorithm>
#include <array>
#include <cstdint>

#include "tools/http/client_detail.h"
#include "tools/http/http_client.h"

namespace scout::tools::http {
namespace {

struct Classification {
  std::string reason;
  bool always = false;  // refused even under allow_private
};

struct V4Range {
  std::uint32_t base;
  int prefix;
  const char* reason;
  bool always;
};

// Most specific first: the first match names the address.
constexpr std::array<V4Range, 20> kV4Ranges{{
    {0xA9FEA9FE, 32, "cloud metadata (169.254.169.254)", true},
    {0xA9FEAA02, 32, "cloud metadata (169.254.170.2)", true},
    {0x646464C8, 32, "cloud metadata (100.100.100.200)", true},  // Alibaba Cloud, inside CGNAT
    {0x00000000, 32, "unspecified (0.0.0.0)", true},
    {0xFFFFFFFF, 32, "broadcast (255.255.255.255)", true},
    {0xE0000000, 4, "multicast (224.0.0.0/4)", true},
    {0x00000000, 8, "\"this network\" (0.0.0.0/8)", false},
    {0x0A000000, 8, "private (10.0.0.0/8)", false},
    {0x64400000, 10, "shared address space, CGNAT (100.64.0.0/10)", false},
    {0x7F000000, 8, "loopback (127.0.0.0/8)", false},
    {0xA9FE0000, 16, "link-local (169.254.0.0/16)", false},
    {0xAC100000, 12, "private (172.16.0.0/12)", false},
    {0xC0000000, 24, "IETF protocol assignments (192.0.0.0/24)", false},
    {0xC0000200, 24, "documentation (192.0.2.0/24)", false},
    {0xC0586300, 24, "6to4 relay anycast (192.88.99.0/24)", false},
    {0xC0A80000, 16, "private (192.168.0.0/16)", false},
    {0xC6120000, 15, "benchmarking (198.18.0.0/15)", false},
    {0xC6336400, 24, "documentation (198.51.100.0/24)", false},
    {0xCB007100, 24, "documentation (203.0.113.0/24)", false},
    {0xF0000000, 4, "reserved (240.0.0.0/4)", false},
}};

std::optional<Classification> classify_v4(const asio::ip::address_v4& address) {
  const std::uint32_t a = address.to_uint();
  for (const V4Range& r : kV4Ranges) {
    const std::uint32_t mask = r.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - r.prefix);
    if ((a & mask) == r.base) return Classification{r.reason, r.always};
  }
  return std::nullopt;
}

asio::ip::address_v4 v4_from(const asio::ip::address_v6::bytes_type& b, int offset) {
  return asio::ip::address_v4(asio::ip::address_v4::bytes_type{b[offset], b[offset + 1], b[offset + 2], b[offset + 3]});
}

bool all_zero(const asio::ip::address_v6::bytes_type& b, int from, int to) {
  for (int i = from; i < to; ++i)
    if (b[i] != 0) return false;
  return true;
}

// An IPv6 form that embeds an IPv4 address: refused when the IPv4 address is, under its name.
std::optional<Classification> embedded(const char* form, const asio::ip::address_v4& v4) {
  auto c = classify_v4(v4);
  if (!c) return std::nullopt;
  return Classification{std::string(form) + " " + c->reason + " [" + v4.to_string() + "]", c->always};
}

std::optional<Classification> classify_v6(const asio::ip::address_v6& address) {
  const auto b = address.to_bytes();
  if (all_zero(b, 0, 16)) return Classification{"unspecified (::)", true};
  if (all_zero(b, 0, 15) && b[15] == 1) return Classification{"loopback (::1)", false};
  if (all_zero(b, 0, 10) && b[10] == 0xff && b[11] == 0xff) return embedded("IPv4-mapped", v4_from(b, 12));
  if (all_zero(b, 0, 12)) {
    if (auto c = embedded("IPv4-compatible", v4_from(b, 12))) return c;
    return Classification{"deprecated IPv4-compatible (::/96)", false};
  }
  if (all_zero(b, 0, 8) && b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0) {
    if (auto c = embedded("IPv4-translated", v4_from(b, 12))) return c;
    return Classification{"IPv4-translated (::ffff:0:0:0/96)", false};
  }
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b) {
    if (all_zero(b, 4, 12)) return embedded("NAT64", v4_from(b, 12));
    if (b[4] == 0 && b[5] == 1) return Classification{"local-use NAT64 (64:ff9b:1::/48)", false};
  }
  if (b[0] == 0x20 && b[1] == 0x02) return embedded("6to4", v4_from(b, 2));
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x00 && b[3] == 0x00) return Classification{"Teredo tunnel (2001::/32)", false};
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return Classification{"documentation (2001:db8::/32)", false};
  if (b[0] == 0x01 && b[1] == 0x00 && all_zero(b, 2, 8)) return Classification{"discard-only (100::/64)", false};
  if (b[0] == 0xfd && b[1] == 0x00 && b[2] == 0x0e && b[3] == 0xc2 && all_zero(b, 4, 14) && b[14] == 0x02 && b[15] == 0x54)
    return Classification{"cloud metadata (fd00:ec2::254)", true};
  if ((b[0] & 0xfe) == 0xfc) return Classification{"unique-local (fc00::/7)", false};
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return Classification{"link-local (fe80::/10)", false};
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return Classification{"site-local (fec0::/10)", false};
  if (b[0] == 0xff) return Classification{"multicast (ff00::/8)", true};
  if ((b[0] & 0xe0) != 0x20) return Classification{"reserved (outside 2000::/3)", false};
  return std::nullopt;
}

}  // namespace

std::optional<std::string> refused_address_reason(const asio::ip::address& address, const AddressPolicy& policy) {
  const auto c = address.is_v4() ? classify_v4(address.to_v4()) : classify_v6(address.to_v6());
  if (!c) return std::nullopt;
  if (!c->always && policy.allow_private) return std::nullopt;
  return c->reason;
}

namespace detail {

std::optional<std::vector<asio::ip::address>> addresses_without_dns(const Url& url) {
  if (auto numeric = parse_numeric_host(url.host)) return std::vector<asio::ip::address>{*numeric};
  // A trailing dot only says the name is fully qualified: "localhost." is "localhost".
  const std::string_view name =
      url.host.ends_with('.') ? std::string_view(url.host).substr(0, url.host.size() - 1) : std::string_view(url.host);
  // RFC 6761: always the loopback interface, never a DNS question.
  if (name == "localhost" || name.ends_with(".localhost"))
    return std::vector<asio::ip::address>{asio::ip::make_address("127.0.0.1"), asio::ip::make_address("::1")};
  return std::nullopt;
}

HttpResult<std::vector<asio::ip::tcp::endpoint>> vetted_endpoints(const Url& url,
                                                                  const std::vector<asio::ip::address>& addresses,
                                                                  const AddressPolicy& policy) {
  const auto& allowed = policy.allowed_hosts;
  AddressPolicy effective = policy;
  if (std::find(allowed.begin(), allowed.end(), url.host) != allowed.end())
    effective.allow_private = true;  // the never-allowed kinds stay refused
  const bool literal = parse_numeric_host(url.host).has_value();
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const auto& a : addresses) {
    if (auto reason = refused_address_reason(a, effective)) {
      const std::string where = shown_url(url);
      std::string msg = literal ? "refused to fetch " + where + ": " + a.to_string() + " is a " + *reason + " address"
                                : "refused to fetch " + where + ": host " + url.host + " resolves to " + a.to_string() +
                                      ", a " + *reason + " address";
      msg += "; only public internet addresses may be fetched";
      return Unexpected(make_http_error(ErrorKind::refused_address, std::move(msg)));
    }
    endpoints.emplace_back(a, url.port);
  }
  return endpoints;
}

}  // namespace detail

}  // namespace scout::tools::http
