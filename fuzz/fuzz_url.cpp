// libFuzzer target: URL parsing (tools/http/url.cpp) and the SSRF guard (address_policy.cpp),
// along the path a fetch takes — Url::parse, then the addresses a host stands for without DNS,
// then the vetting of each against the AddressPolicy — with no DNS and no network.
//
// Input: byte 0 picks the policy (allow_private; the URL's host among allowed_hosts) and the
// mode: a URL, or "BASE\nREFERENCE" resolved as a redirect's Location is. The rest is the text.
//
// Checked, for every URL the parser accepts:
//   - it is stable: parsing url.str() gives the same scheme, host, port and target;
//   - the host is canonical: an IP literal's text is what the system's own numeric parser
//     (getaddrinfo with AI_NUMERICHOST, no DNS) reads as the same address, and a host the client
//     would send to DNS is not numeric to the system either;
//   - where the host in the text is an IPv4 address in any inet_aton form (decimal, octal, hex,
//     short forms, a trailing dot) or a bracketed IPv6 address, the address the client connects
//     to is the one inet_aton / inet_pton read from that text;
//   - the client connects exactly when the policy allows the address: vetted_endpoints gives
//     the same answer as refused_address_reason, the endpoints are the addresses at the URL's
//     port, and an address in a range that must be refused (an independent table, below) is
//     refused — loopback, private, link-local, CGNAT, unique-local and IPv4-mapped forms of
//     them unless private addresses are allowed; unspecified, multicast, broadcast and cloud
//     metadata addresses whatever the policy.
#include <arpa/inet.h>
#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>

#include "fuzz/fuzz_check.h"
#include "tools/http/client_detail.h"
#include "tools/http/http_client.h"

namespace {

namespace asio = boost::asio;
namespace http = scout::tools::http;
using scout::fuzz::check;

// The ranges the guard must refuse, written independently of address_policy.cpp (as CIDR text,
// from the IANA special-purpose registries), and whether they are refused under every policy.
struct Must {
  const char* cidr;
  bool always;
};
const Must kMustV4[] = {
    {"0.0.0.0/32", true},       {"255.255.255.255/32", true}, {"224.0.0.0/4", true},  {"169.254.169.254/32", true},
    {"169.254.170.2/32", true}, {"100.100.100.200/32", true}, {"0.0.0.0/8", false},   {"10.0.0.0/8", false},
    {"100.64.0.0/10", false},   {"127.0.0.0/8", false},       {"169.254.0.0/16", false}, {"172.16.0.0/12", false},
    {"192.168.0.0/16", false},
};
const Must kMustV6[] = {
    {"::/128", true}, {"ff00::/8", true}, {"fd00:ec2::254/128", true}, {"::1/128", false}, {"fc00::/7", false},
    {"fe80::/10", false},
};

// nullopt: no rule says it must be refused; else whether it must be refused under every policy.
std::optional<bool> must_refuse(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return must_refuse(asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()));
  if (a.is_v4()) {
    for (const Must& m : kMustV4) {
      const auto net = asio::ip::make_network_v4(m.cidr);
      if ((a.to_v4().to_uint() & net.netmask().to_uint()) == net.network().to_uint()) return m.always;
    }
    return std::nullopt;
  }
  for (const Must& m : kMustV6) {
    const auto net = asio::ip::make_network_v6(m.cidr);
    const auto bytes = a.to_v6().to_bytes();
    const auto base = net.network().to_bytes();
    bool in = true;
    for (unsigned bit = 0; bit < net.prefix_length() && in; ++bit)
      in = ((bytes[bit / 8] ^ base[bit / 8]) & (0x80 >> (bit % 8))) == 0;
    if (in) return m.always;
  }
  return std::nullopt;
}

// The system's numeric reading of a host (no DNS: AI_NUMERICHOST).
std::optional<asio::ip::address> system_numeric(const std::string& host) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_flags = AI_NUMERICHOST;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0 || res == nullptr) return std::nullopt;
  std::optional<asio::ip::address> out;
  if (res->ai_family == AF_INET) {
    asio::ip::address_v4::bytes_type b;
    std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in*>(res->ai_addr)->sin_addr, 4);
    out = asio::ip::address_v4(b);
  } else if (res->ai_family == AF_INET6) {
    asio::ip::address_v6::bytes_type b;
    std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in6*>(res->ai_addr)->sin6_addr, 16);
    out = asio::ip::address_v6(b);
  }
  ::freeaddrinfo(res);
  return out;
}

// The host as written in an absolute http(s) URL's text (read the way the parser reads it:
// outer blanks trimmed, '\\' as '/'), when it is plain ASCII; "" otherwise.
std::string written_host(std::string_view text) {
  while (!text.empty() && static_cast<unsigned char>(text.front()) <= 0x20) text.remove_prefix(1);
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) return {};
  std::string rest(text.substr(colon + 1));
  std::replace(rest.begin(), rest.end(), '\\', '/');
  if (!rest.starts_with("//")) return {};
  std::string authority = rest.substr(2, rest.find_first_of("/?#", 2) - 2);
  if (!authority.empty() && authority.front() == '[') return authority.substr(0, authority.find(']') + 1);
  if (const std::size_t port = authority.rfind(':'); port != std::string::npos) authority.resize(port);
  for (char c : authority)
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return {};
  return authority;
}

// What inet_aton (IPv4, every form) or inet_pton (bracketed IPv6) reads from a written host.
std::optional<asio::ip::address> classic_reading(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    in6_addr a6;
    if (::inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &a6) != 1) return std::nullopt;
    asio::ip::address_v6::bytes_type b;
    std::memcpy(b.data(), &a6, 16);
    return asio::ip::address_v6(b);
  }
  for (char& c : host) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!host.empty() && host.back() == '.') host.pop_back();
  in_addr a4;
  if (host.empty() || ::inet_aton(host.c_str(), &a4) == 0) return std::nullopt;
  asio::ip::address_v4::bytes_type b;
  std::memcpy(b.data(), &a4, 4);
  return asio::ip::address_v4(b);
}

void check_url(const http::Url& url, std::string_view text, std::uint8_t selector) {
  check(url.scheme == "http" || url.scheme == "https", "a URL with another scheme");
  check(!url.host.empty() && url.port != 0 && !url.target.empty() && url.target.front() == '/', "a URL without host, port or target");
  const auto again = http::Url::parse(url.str());
  check(again.has_value(), "url.str() does not parse");
  check(again->scheme == url.scheme && again->host == url.host && again->port == url.port && again->target == url.target,
        "url.str() parses to another URL");

  const auto addresses = http::detail::addresses_without_dns(url);
  const auto numeric = http::parse_numeric_host(url.host);
  const auto system = system_numeric(url.host);
  if (!numeric) {
    check(!system.has_value(), "a host the client looks up in DNS is an IP address to the system");
    return;
  }
  check(addresses && addresses->size() == 1 && addresses->front() == *numeric, "an IP literal does not stand for its address");
  check(system.has_value() && *system == *numeric, "the host's canonical text means another address to the system");
  if (const std::string written = written_host(text); !written.empty())
    if (const auto classic = classic_reading(written))
      check(*classic == *numeric, "the host as written is another address to inet_aton / inet_pton");

  http::AddressPolicy policy;
  policy.allow_private = selector & 1;
  if (selector & 2) policy.allowed_hosts = {"example.org", url.host};
  http::AddressPolicy effective = policy;
  if (selector & 2) effective.allow_private = true;
  const auto reason = http::refused_address_reason(*numeric, effective);
  const auto endpoints = http::detail::vetted_endpoints(url, *addresses, policy);
  check(endpoints.has_value() == !reason.has_value(), "the client's vetting disagrees with the address policy");
  if (endpoints) {
    check(endpoints->size() == 1 && endpoints->front().address() == *numeric && endpoints->front().port() == url.port,
          "the client connects somewhere other than the vetted address");
  } else {
    check(endpoints.error().kind == http::ErrorKind::refused_address && !endpoints.error().message.empty(),
          "a refusal without its kind or message");
  }
  if (const auto must = must_refuse(*numeric); must && (*must || !effective.allow_private))
    check(reason.has_value(), "an address that must be refused is allowed");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  scout::fuzz::Input in(data, size);
  const std::uint8_t selector = in.byte();
  const std::string_view text = in.rest();
  if (selector & 4) {
    const std::size_t nl = text.find('\n');
    if (nl == std::string_view::npos) return 0;
    const auto base = http::Url::parse(text.substr(0, nl));
    if (!base) return 0;
    const std::string_view reference = text.substr(nl + 1);
    const auto url = base->resolve(reference);
    if (!url) return 0;
    // An absolute reference resolves to itself; the written-host oracle then applies to it.
    const auto absolute = http::Url::parse(reference);
    if (absolute)
      check(absolute->str() == url->str(), "an absolute reference resolves to another URL");
    check_url(*url, absolute ? reference : std::string_view(), selector);
    return 0;
  }
  const auto url = http::Url::parse(text);
  if (!url) {
    check(!url.error().message.empty(), "a refusal without a message");
    return 0;
  }
  check_url(*url, text, selector);
  return 0;
}
