// The SSRF guard end to end: every way of writing or reaching a non-public address is refused
// before a connection is made (the target server, where there is one, sees no request).
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>

#include "tests/tools/http/http_hostile_support.h"

using namespace scout::tools::http;
using namespace scout::tools::http::testing;
using namespace scout::test;
using namespace std::chrono_literals;

namespace {

void check_refused_loopback(std::string_view host, std::string_view shown_host, std::string_view reason) {
  Target t;
  auto r = fetch(t.url_with_host(host), public_only(), with_secret_headers());
  check_error(r, ErrorKind::refused_address, shown_host, {reason, "refused"});
  CHECK(t.server.requests_served() == 0);
}

}  // namespace

// ---- SSRF: the address written directly ------------------------------------------------------

TEST_CASE("ssrf: 127.0.0.1 is refused before connecting", "[http][hostile]") {
  check_refused_loopback("127.0.0.1", "127.0.0.1", "loopback");
}

TEST_CASE("ssrf: localhost is refused after resolution", "[http][hostile]") {
  check_refused_loopback("localhost", "localhost", "loopback");
}

TEST_CASE("ssrf: localhost names with a trailing dot are loopback, refused without a DNS question", "[http][hostile]") {
  for (const std::string host : {"localhost.", "api.localhost.", "LocalHost."}) {
    INFO(host);
    Target t;
    Options o = public_only();
    int asked = 0;  // a DNS answer naming a public address would let the fetch through
    o.test_resolver = [&asked](const std::string&) {
      ++asked;
      return std::vector<boost::asio::ip::address>{boost::asio::ip::make_address("93.184.216.34")};
    };
    auto r = fetch(t.url_with_host(host), o, with_secret_headers());
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::refused_address);
    CHECK_THAT(r.error().message, Catch::Contains("loopback"));
    CHECK(asked == 0);
    CHECK(t.server.requests_served() == 0);
  }
}

TEST_CASE("ssrf: decimal 2130706433 is read as 127.0.0.1 and refused", "[http][hostile]") {
  check_refused_loopback("2130706433", "127.0.0.1", "loopback");
}

TEST_CASE("ssrf: octal 0177.0.0.1 is read as 127.0.0.1 and refused", "[http][hostile]") {
  check_refused_loopback("0177.0.0.1", "127.0.0.1", "loopback");
}

TEST_CASE("ssrf: hex 0x7f000001 is read as 127.0.0.1 and refused", "[http][hostile]") {
  check_refused_loopback("0x7f000001", "127.0.0.1", "loopback");
}

TEST_CASE("ssrf: short form 127.1 is read as 127.0.0.1 and refused", "[http][hostile]") {
  check_refused_loopback("127.1", "127.0.0.1", "loopback");
}

TEST_CASE("ssrf: [::1] is refused", "[http][hostile]") {
  check_refused_loopback("[::1]", "::1", "loopback");
}

TEST_CASE("ssrf: IPv4-mapped [::ffff:127.0.0.1] is refused", "[http][hostile]") {
  check_refused_loopback("[::ffff:127.0.0.1]", "::ffff:127.0.0.1", "IPv4-mapped loopback");
}

TEST_CASE("ssrf: IPv4-mapped in hex [::ffff:7f00:1] is refused", "[http][hostile]") {
  check_refused_loopback("[::ffff:7f00:1]", "::ffff:127.0.0.1", "IPv4-mapped loopback");
}

TEST_CASE("ssrf: NAT64 and 6to4 forms of loopback are refused", "[http][hostile]") {
  check_refused_loopback("[64:ff9b::7f00:1]", "64:ff9b::7f00:1", "NAT64 loopback");
  check_refused_loopback("[2002:7f00:1::1]", "2002:7f00:1::1", "6to4 loopback");
}

TEST_CASE("ssrf: 0.0.0.0 (which Linux routes to the local host) is refused", "[http][hostile]") {
  check_refused_loopback("0.0.0.0", "0.0.0.0", "unspecified");
  check_refused_loopback("0", "0.0.0.0", "unspecified");
}

TEST_CASE("ssrf: 10.0.0.0/8 is refused", "[http][hostile]") {
  check_error(fetch("http://10.20.30.40/", public_only()), ErrorKind::refused_address, "10.20.30.40", {"private (10.0.0.0/8)"});
}

TEST_CASE("ssrf: 172.16.0.0/12 is refused", "[http][hostile]") {
  check_error(fetch("http://172.20.1.1/", public_only()), ErrorKind::refused_address, "172.20.1.1", {"private (172.16.0.0/12)"});
}

TEST_CASE("ssrf: 192.168.0.0/16 is refused", "[http][hostile]") {
  check_error(fetch("http://192.168.0.1:8080/router", public_only()), ErrorKind::refused_address, "192.168.0.1",
              {"private (192.168.0.0/16)"});
}

TEST_CASE("ssrf: CGNAT 100.64.0.0/10 is refused", "[http][hostile]") {
  check_error(fetch("http://100.100.1.1/", public_only()), ErrorKind::refused_address, "100.100.1.1", {"CGNAT"});
}

TEST_CASE("ssrf: cloud metadata 169.254.169.254 is refused even with private addresses allowed", "[http][hostile]") {
  check_error(fetch("http://169.254.169.254/latest/meta-data/", public_only()), ErrorKind::refused_address, "169.254.169.254",
              {"cloud metadata"});
  check_error(fetch("http://169.254.169.254/latest/meta-data/", local_options()), ErrorKind::refused_address,
              "169.254.169.254", {"cloud metadata"});
  check_error(fetch("http://[::ffff:a9fe:a9fe]/", local_options()), ErrorKind::refused_address, "169.254.169.254",
              {"cloud metadata"});
  check_error(fetch("http://[fd00:ec2::254]/", local_options()), ErrorKind::refused_address, "fd00:ec2::254",
              {"cloud metadata"});
}

TEST_CASE("ssrf: link-local fe80:: is refused", "[http][hostile]") {
  check_error(fetch("http://[fe80::1]/", public_only()), ErrorKind::refused_address, "fe80::1", {"link-local"});
}

TEST_CASE("ssrf: unique-local fc00::/7 is refused", "[http][hostile]") {
  check_error(fetch("http://[fc00::5]/", public_only()), ErrorKind::refused_address, "fc00::5", {"unique-local"});
  check_error(fetch("http://[fdab:cdef::1]/", public_only()), ErrorKind::refused_address, "fdab:cdef::1", {"unique-local"});
}

// ---- SSRF: reached through names and redirects -------------------------------------------------

TEST_CASE("ssrf: a redirect from an allowed host to http://127.0.0.1/ is refused", "[http][hostile]") {
  std::atomic<int> secret_hits{0};
  LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
    if (req.target == "/start") {
      conn.write(http_response(302, "", "", {{"Location", "http://127.0.0.1:" + req.header("Host").substr(10) + "/secret"}}));
    } else {
      ++secret_hits;
      conn.write(http_response(200, "text/plain", "internal secret"));
    }
  });
  Options o = public_only();
  o.address_policy.allowed_hosts = {"localhost"};
  auto r = fetch(server.url("/start", "localhost"), o, with_secret_headers());
  check_error(r, ErrorKind::refused_address, "127.0.0.1", {"loopback", "/secret"});
  CHECK(server.requests_served() == 1);
  CHECK(secret_hits == 0);
}

TEST_CASE("ssrf: a redirect to a decimal-encoded loopback address is refused", "[http][hostile]") {
  LocalHttpServer server([&](const HttpExchange& req, RawConnection& conn) {
    conn.write(http_response(301, "", "", {{"Location", "http://2130706433:" + req.header("Host").substr(10) + "/secret"}}));
  });
  Options o = public_only();
  o.address_policy.allowed_hosts = {"localhost"};
  auto r = fetch(server.url("/start", "localhost"), o, with_secret_headers());
  check_error(r, ErrorKind::refused_address, "127.0.0.1", {"loopback"});
  CHECK(server.requests_served() == 1);
}

TEST_CASE("ssrf: a DNS name answering with a private address is refused", "[http][hostile]") {
  Options o = public_only();
  o.test_resolver = [](const std::string& host) -> std::vector<asio::ip::address> {
    if (host == "intranet.test") return {asio::ip::make_address("10.0.0.7")};
    if (host == "mixed.test") return {asio::ip::make_address("93.184.215.14"), asio::ip::make_address("192.168.1.1")};
    if (host == "metadata.test") return {asio::ip::make_address("169.254.169.254")};
    return {};
  };
  check_error(fetch("http://intranet.test/", o), ErrorKind::refused_address, "intranet.test", {"10.0.0.7", "private"});
  // One private answer among public ones is enough to refuse: nothing decides which one is used.
  check_error(fetch("http://mixed.test/", o), ErrorKind::refused_address, "mixed.test", {"192.168.1.1"});
  // Naming a host in allowed_hosts never opens cloud metadata.
  o.address_policy.allowed_hosts = {"metadata.test"};
  check_error(fetch("http://metadata.test/", o), ErrorKind::refused_address, "metadata.test", {"cloud metadata"});
}

TEST_CASE("ssrf: userinfo URLs are refused", "[http][hostile]") {
  Target t;
  check_error(fetch("http://example.com@127.0.0.1:" + std::to_string(t.server.port()) + "/", local_options()),
              ErrorKind::invalid_url, "127.0.0.1", {"user credentials"});
  check_error(fetch("http://user:pass@example.com/", public_only()), ErrorKind::invalid_url, "example.com", {"user credentials"});
  CHECK(t.server.requests_served() == 0);
}

TEST_CASE("ssrf: non-http schemes are refused, directly and by redirect", "[http][hostile]") {
  check_error(fetch("file:///etc/passwd"), ErrorKind::invalid_url, "file:///etc/passwd", {"only http and https"});
  check_error(fetch("gopher://127.0.0.1:6379/_FLUSHALL"), ErrorKind::invalid_url, "gopher://127.0.0.1", {"only http and https"});
  check_error(fetch("ftp://example.com/file"), ErrorKind::invalid_url, "ftp://example.com", {"only http and https"});
  LocalHttpServer server([](const HttpExchange&, RawConnection& conn) {
    conn.write(http_response(302, "", "", {{"Location", "file:///etc/passwd"}}));
  });
  check_error(fetch(server.url("/"), local_options(), with_secret_headers()), ErrorKind::invalid_url, "127.0.0.1",
              {"redirected", "file:"});
}
