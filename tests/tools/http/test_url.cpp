// Url parsing and resolution, numeric hosts and the SSRF address classification: pure functions.
#include <catch2/catch.hpp>

#include "tools/http/http_client.h"

using namespace scout::tools::http;

namespace {

Url parse_ok(std::string_view text) {
  auto u = Url::parse(text);
  INFO(text);
  if (!u) FAIL(u.error().message);
  return *u;
}

std::string parse_error(std::string_view text) {
  auto u = Url::parse(text);
  INFO(text);
  REQUIRE_FALSE(u);
  return u.error().message;
}

std::string numeric(std::string_view host) {
  auto a = parse_numeric_host(host);
  return a ? a->to_string() : "none";
}

std::string reason(std::string_view address, bool allow_private = false) {
  AddressPolicy policy;
  policy.allow_private = allow_private;
  auto r = refused_address_reason(asio::ip::make_address(std::string(address)), policy);
  return r ? *r : "allowed";
}

}  // namespace

TEST_CASE("Url::parse splits http and https URLs", "[http]") {
  Url u = parse_ok("https://Example.COM/a/b?q=1#frag");
  CHECK(u.scheme == "https");
  CHECK(u.host == "example.com");
  CHECK(u.port == 443);
  CHECK(u.target == "/a/b?q=1");
  CHECK(u.str() == "https://example.com/a/b?q=1");

  u = parse_ok("HTTP://example.com:8080");
  CHECK(u.scheme == "http");
  CHECK(u.port == 8080);
  CHECK(u.target == "/");
  CHECK(u.str() == "http://example.com:8080/");

  u = parse_ok("http://[2001:DB8::1]:81/x");
  CHECK(u.host == "2001:db8::1");
  CHECK(u.str() == "http://[2001:db8::1]:81/x");

  CHECK(parse_ok("http://example.com:80/").str() == "http://example.com/");
  CHECK(parse_ok("  http://example.com/a b\n").target == "/a%20b");
  CHECK(parse_ok("http://example.com/caf\xC3\xA9").target == "/caf%C3%A9");
  CHECK(parse_ok("http://example.com/a/./b/../c/").target == "/a/c/");
  CHECK(parse_ok("http://example.com/a/%2e%2E/b").target == "/b");
  CHECK(parse_ok("http://example.com/../../etc").target == "/etc");
  CHECK(parse_ok("http://example.com?q").target == "/?q");
  CHECK(parse_ok("http://example.com\\path\\x").target == "/path/x");
  CHECK(parse_ok("http://b\xC3\xBC" "cher.example/").host == "xn--bcher-kva.example");
}

TEST_CASE("Url::parse canonicalises numeric IPv4 hosts the way browsers do", "[http]") {
  CHECK(parse_ok("http://2130706433/").host == "127.0.0.1");
  CHECK(parse_ok("http://0177.0.0.1/").host == "127.0.0.1");
  CHECK(parse_ok("http://0x7f000001/").host == "127.0.0.1");
  CHECK(parse_ok("http://0x7f.1/").host == "127.0.0.1");
  CHECK(parse_ok("http://127.1/").host == "127.0.0.1");
  CHECK(parse_ok("http://127.0.0.1./").host == "127.0.0.1");
  CHECK(parse_ok("http://[::ffff:127.0.0.1]/").host == "::ffff:127.0.0.1");
  CHECK_THAT(parse_error("http://1.2.3.256/"), Catch::Contains("not a valid IPv4 address"));
  CHECK_THAT(parse_error("http://99999999999/"), Catch::Contains("not a valid IPv4 address"));
  CHECK_THAT(parse_error("http://0xffffffffff/"), Catch::Contains("not a valid IPv4 address"));
  CHECK_THAT(parse_error("http://1.2.3.4.5/"), Catch::Contains("not a valid IPv4 address"));
  CHECK_THAT(parse_error("http://example.09/"), Catch::Contains("not a valid IPv4 address"));
  // A host whose last label is not a number is a name.
  CHECK(parse_ok("http://0xzz/").host == "0xzz");
  CHECK(parse_ok("http://1.2.3.example/").host == "1.2.3.example");
}

TEST_CASE("Url::parse refuses what cannot or must not be fetched", "[http][hostile]") {
  CHECK_THAT(parse_error("http://example.com@127.0.0.1/"), Catch::Contains("user credentials"));
  CHECK_THAT(parse_error("http://user:pw@example.com/"), Catch::Contains("user credentials"));
  // '\' ends the host as '/' does (as in browsers), so the host a reader sees is the real one.
  CHECK(parse_ok("http://127.0.0.1\\@example.com/").host == "127.0.0.1");
  CHECK_THAT(parse_error("file:///etc/passwd"), Catch::Contains("scheme \"file:\"") && Catch::Contains("only http and https"));
  CHECK_THAT(parse_error("gopher://127.0.0.1:25/"), Catch::Contains("scheme \"gopher:\""));
  CHECK_THAT(parse_error("ftp://example.com/"), Catch::Contains("scheme \"ftp:\""));
  CHECK_THAT(parse_error("javascript:alert(1)"), Catch::Contains("scheme \"javascript:\""));
  CHECK_THAT(parse_error("example.com/page"), Catch::Contains("not an absolute URL"));
  CHECK_THAT(parse_error("http:example.com"), Catch::Contains("no host"));
  CHECK_THAT(parse_error("http:///path"), Catch::Contains("no host"));
  CHECK_THAT(parse_error("http://exa mple.com/"), Catch::Contains("invalid character"));
  CHECK_THAT(parse_error("http://example.com\r\nHost: evil/"), Catch::Contains("control characters"));
  CHECK_THAT(parse_error("http://%31%32%37.0.0.1/"), Catch::Contains("'%'"));
  CHECK_THAT(parse_error("http://[fe80::1%25eth0]/"), Catch::Contains("zone"));
  CHECK_THAT(parse_error("http://[::1/"), Catch::Contains("unterminated"));
  CHECK_THAT(parse_error("http://example.com:0/"), Catch::Contains("outside 1-65535"));
  CHECK_THAT(parse_error("http://example.com:65536/"), Catch::Contains("outside 1-65535"));
  CHECK_THAT(parse_error("http://example.com:8o/"), Catch::Contains("invalid port"));
}

TEST_CASE("Url::resolve resolves Location values against the request URL", "[http]") {
  const Url base = parse_ok("https://example.com:8443/a/b/c?q=1");
  auto resolve = [&](std::string_view ref) {
    auto r = base.resolve(ref);
    INFO(ref);
    if (!r) FAIL(r.error().message);
    return r->str();
  };
  CHECK(resolve("http://other.example/x") == "http://other.example/x");
  CHECK(resolve("//other.example/y") == "https://other.example/y");
  CHECK(resolve("/root?z") == "https://example.com:8443/root?z");
  CHECK(resolve("d") == "https://example.com:8443/a/b/d");
  CHECK(resolve("../d") == "https://example.com:8443/a/d");
  CHECK(resolve("?r=2") == "https://example.com:8443/a/b/c?r=2");
  CHECK(resolve("") == "https://example.com:8443/a/b/c?q=1");
  CHECK(resolve("#frag") == "https://example.com:8443/a/b/c?q=1");
  CHECK(resolve(" /spaced ") == "https://example.com:8443/spaced");
  CHECK(resolve("http://2130706433/") == "http://127.0.0.1/");
  const Url v6 = parse_ok("http://[::1]:8080/a");
  CHECK(v6.resolve("/b")->str() == "http://[::1]:8080/b");
  CHECK_FALSE(base.resolve("file:///etc/passwd"));
  CHECK_FALSE(base.resolve("http://a@b/"));
}

TEST_CASE("parse_numeric_host reads inet_aton forms and IPv6 literals", "[http]") {
  CHECK(numeric("2130706433") == "127.0.0.1");
  CHECK(numeric("0177.0.0.1") == "127.0.0.1");
  CHECK(numeric("0x7f000001") == "127.0.0.1");
  CHECK(numeric("0x7F.0.0.1") == "127.0.0.1");
  CHECK(numeric("127.1") == "127.0.0.1");
  CHECK(numeric("127.0.1") == "127.0.0.1");
  CHECK(numeric("10.0x10.1") == "10.16.0.1");
  CHECK(numeric("0") == "0.0.0.0");
  CHECK(numeric("0x") == "0.0.0.0");
  CHECK(numeric("017700000001") == "127.0.0.1");
  CHECK(numeric("4294967295") == "255.255.255.255");
  CHECK(numeric("4294967296") == "none");
  CHECK(numeric("256.0.0.1") == "none");
  CHECK(numeric("1.2.65536") == "none");
  CHECK(numeric("08.0.0.1") == "none");
  CHECK(numeric("1..2") == "none");
  CHECK(numeric("example.com") == "none");
  CHECK(numeric("") == "none");
  CHECK(numeric("[::1]") == "::1");
  CHECK(numeric("::ffff:7f00:1") == "::ffff:127.0.0.1");
  CHECK(numeric("fe80::1%1") == "none");
}

TEST_CASE("refused_address_reason names every non-public kind of address", "[http][hostile]") {
  CHECK(reason("8.8.8.8") == "allowed");
  CHECK(reason("1.1.1.1") == "allowed");
  CHECK(reason("2606:4700:4700::1111") == "allowed");
  CHECK_THAT(reason("127.0.0.1"), Catch::Contains("loopback"));
  CHECK_THAT(reason("127.255.0.9"), Catch::Contains("loopback"));
  CHECK_THAT(reason("0.0.0.0"), Catch::Contains("unspecified"));
  CHECK_THAT(reason("0.1.2.3"), Catch::Contains("this network"));
  CHECK_THAT(reason("10.1.2.3"), Catch::Contains("private (10.0.0.0/8)"));
  CHECK_THAT(reason("172.16.0.1"), Catch::Contains("private (172.16.0.0/12)"));
  CHECK_THAT(reason("172.31.255.255"), Catch::Contains("private (172.16.0.0/12)"));
  CHECK(reason("172.32.0.1") == "allowed");
  CHECK_THAT(reason("192.168.1.1"), Catch::Contains("private (192.168.0.0/16)"));
  CHECK_THAT(reason("100.64.0.1"), Catch::Contains("CGNAT"));
  CHECK_THAT(reason("100.127.255.255"), Catch::Contains("CGNAT"));
  CHECK(reason("100.128.0.1") == "allowed");
  CHECK_THAT(reason("169.254.169.254"), Catch::Contains("cloud metadata (169.254.169.254)"));
  CHECK_THAT(reason("169.254.1.1"), Catch::Contains("link-local"));
  CHECK_THAT(reason("100.100.100.200"), Catch::Contains("cloud metadata"));
  CHECK_THAT(reason("224.0.0.1"), Catch::Contains("multicast"));
  CHECK_THAT(reason("255.255.255.255"), Catch::Contains("broadcast"));
  CHECK_THAT(reason("240.0.0.1"), Catch::Contains("reserved"));
  CHECK_THAT(reason("198.18.0.1"), Catch::Contains("benchmarking"));
  CHECK_THAT(reason("192.0.2.1"), Catch::Contains("documentation"));

  CHECK_THAT(reason("::1"), Catch::Contains("loopback (::1)"));
  CHECK_THAT(reason("::"), Catch::Contains("unspecified"));
  CHECK_THAT(reason("::ffff:127.0.0.1"), Catch::Contains("IPv4-mapped loopback"));
  CHECK_THAT(reason("::ffff:7f00:1"), Catch::Contains("IPv4-mapped loopback"));
  CHECK_THAT(reason("::ffff:169.254.169.254"), Catch::Contains("IPv4-mapped cloud metadata"));
  CHECK(reason("::ffff:8.8.8.8") == "allowed");
  CHECK_THAT(reason("::127.0.0.1"), Catch::Contains("IPv4-compatible loopback"));
  CHECK_THAT(reason("::8.8.8.8"), Catch::Contains("IPv4-compatible"));
  CHECK_THAT(reason("::ffff:0:10.0.0.1"), Catch::Contains("IPv4-translated private"));
  CHECK_THAT(reason("64:ff9b::127.0.0.1"), Catch::Contains("NAT64 loopback"));
  CHECK_THAT(reason("64:ff9b::a9fe:a9fe"), Catch::Contains("NAT64 cloud metadata"));
  CHECK(reason("64:ff9b::8.8.8.8") == "allowed");
  CHECK_THAT(reason("64:ff9b:1::1"), Catch::Contains("local-use NAT64"));
  CHECK_THAT(reason("2002:7f00:1::"), Catch::Contains("6to4 loopback"));
  CHECK_THAT(reason("2002:c0a8:101::1"), Catch::Contains("6to4 private"));
  CHECK(reason("2002:808:808::1") == "allowed");
  CHECK_THAT(reason("2001::1"), Catch::Contains("Teredo"));
  CHECK_THAT(reason("fe80::1"), Catch::Contains("link-local (fe80::/10)"));
  CHECK_THAT(reason("febf::1"), Catch::Contains("link-local"));
  CHECK_THAT(reason("fc00::1"), Catch::Contains("unique-local (fc00::/7)"));
  CHECK_THAT(reason("fd12:3456::1"), Catch::Contains("unique-local"));
  CHECK_THAT(reason("fd00:ec2::254"), Catch::Contains("cloud metadata (fd00:ec2::254)"));
  CHECK_THAT(reason("ff02::1"), Catch::Contains("multicast"));
  CHECK_THAT(reason("2001:db8::1"), Catch::Contains("documentation"));
  CHECK_THAT(reason("4000::1"), Catch::Contains("reserved"));
}

TEST_CASE("allow_private opens private ranges but never metadata, unspecified or multicast", "[http][hostile]") {
  CHECK(reason("127.0.0.1", true) == "allowed");
  CHECK(reason("10.0.0.1", true) == "allowed");
  CHECK(reason("::1", true) == "allowed");
  CHECK(reason("fd12::1", true) == "allowed");
  CHECK_THAT(reason("169.254.169.254", true), Catch::Contains("cloud metadata"));
  CHECK_THAT(reason("::ffff:169.254.169.254", true), Catch::Contains("cloud metadata"));
  CHECK_THAT(reason("fd00:ec2::254", true), Catch::Contains("cloud metadata"));
  CHECK_THAT(reason("0.0.0.0", true), Catch::Contains("unspecified"));
  CHECK_THAT(reason("::", true), Catch::Contains("unspecified"));
  CHECK_THAT(reason("224.0.0.1", true), Catch::Contains("multicast"));
}
