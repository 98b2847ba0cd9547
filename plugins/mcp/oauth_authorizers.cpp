// The Authorizers of oauth.h: the loopback listener a person's browser comes back to, and the
// headless one for authorization servers that approve without a person.
#include "plugins/mcp/oauth.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include "tools/http/http_client.h"

namespace scout::plugins::mcp {

namespace http = tools::http;

struct LoopbackRedirect::Impl {
  explicit Impl(asio::any_io_executor ex) : acceptor(ex) {}
  asio::ip::tcp::acceptor acceptor;
};

Result<std::shared_ptr<LoopbackRedirect>> LoopbackRedirect::open(asio::any_io_executor executor, unsigned short port) {
  auto impl = std::make_unique<Impl>(executor);
  boost::system::error_code ec;
  const asio::ip::tcp::endpoint at(asio::ip::address_v4::loopback(), port);
  impl->acceptor.open(at.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(at, ec);
  if (!ec) impl->acceptor.listen(4, ec);
  if (ec)
    return make_error("cannot listen on 127.0.0.1:" + std::to_string(port) + " for the OAuth redirect: " + ec.message());
  return std::shared_ptr<LoopbackRedirect>(new LoopbackRedirect(std::move(impl)));
}

LoopbackRedirect::LoopbackRedirect(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
LoopbackRedirect::~LoopbackRedirect() = default;

std::string LoopbackRedirect::redirect_uri() const {
  return "http://127.0.0.1:" + std::to_string(impl_->acceptor.local_endpoint().port()) + "/callback";
}

namespace {

// Serves browser requests until one reaches /callback; returns its target.
asio::awaitable<std::string> await_callback(asio::ip::tcp::acceptor& acceptor) {
  for (;;) {
    auto [aec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
    if (aec) co_return std::string();
    asio::streambuf head(16 * 1024);
    auto [rec, n] = co_await asio::async_read_until(socket, head, "\r\n\r\n", asio::as_tuple(asio::use_awaitable));
    if (rec) continue;
    std::string line(asio::buffers_begin(head.data()), asio::buffers_begin(head.data()) + static_cast<std::ptrdiff_t>(n));
    line = line.substr(0, line.find("\r\n"));
    const auto first = line.find(' ');
    const auto last = line.rfind(' ');
    const std::string target = first == std::string::npos || last <= first ? "" : line.substr(first + 1, last - first - 1);
    const bool callback = target.rfind("/callback", 0) == 0;
    const std::string body = callback ? "Scout received the answer of the authorization server. You can close this tab.\n"
                                      : "Not found\n";
    const std::string response = std::string(callback ? "HTTP/1.1 200 OK" : "HTTP/1.1 404 Not Found") +
                                 "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
                                 std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
    (void)co_await asio::async_write(socket, asio::buffer(response), asio::as_tuple(asio::use_awaitable));
    if (callback) co_return target;
  }
}

}  // namespace

Authorizer LoopbackRedirect::authorizer(std::function<void(const std::string&)> say, std::string server_name,
                                        std::chrono::seconds wait) {
  auto self = shared_from_this();
  return [self, say, server_name, wait](std::string authorization_url) -> asio::awaitable<Result<std::string>> {
    using namespace asio::experimental::awaitable_operators;
    say("MCP server '" + server_name + "' needs you to sign in. Open this address in a browser:\n  " + authorization_url +
        "\n(waiting up to " + std::to_string(wait.count()) + " s for the answer at " + self->redirect_uri() + ")");
    asio::steady_timer timer(co_await asio::this_coro::executor, wait);
    auto outcome = co_await (await_callback(self->impl_->acceptor) || timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (outcome.index() == 1)
      co_return make_error("nobody signed in to MCP server '" + server_name + "' within " + std::to_string(wait.count()) + " s");
    const std::string target = std::get<0>(outcome);
    if (target.empty()) co_return make_error("the OAuth redirect listener failed");
    co_return "http://127.0.0.1:" + std::to_string(self->impl_->acceptor.local_endpoint().port()) + target;
  };
}

Authorizer headless_authorizer(asio::any_io_executor executor, std::string ca_file) {
  return [executor, ca_file](std::string authorization_url) -> asio::awaitable<Result<std::string>> {
    http::Client client(executor);
    http::Options o;
    o.address_policy.allow_private = true;
    o.max_redirects = 0;
    o.total_timeout = std::chrono::seconds(30);
    o.ca_file = ca_file;
    http::Request req;
    req.url = authorization_url;
    auto r = co_await client.fetch(std::move(req), o);
    if (!r) co_return make_error("the authorization request failed: " + r.error().message);
    const std::string location(r->header("Location"));
    if (r->status / 100 != 3 || location.empty())
      co_return make_error("the authorization server did not redirect back (HTTP " + std::to_string(r->status) +
                           "); it wants a person at a browser");
    auto base = http::Url::parse(authorization_url);
    if (!base) co_return Unexpected{Error{base.error().message}};
    if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) co_return location;
    auto resolved = base->resolve(location);
    if (!resolved) co_return Unexpected{Error{resolved.error().message}};
    co_return resolved->str();
  };
}

}  // namespace scout::plugins::mcp
