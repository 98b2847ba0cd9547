// Helpers for the HTTP client tests: run a fetch to completion, options for local servers, and
// gzip/deflate encoders for crafted bodies.
#pragma once

#include <zlib.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "tests/support/local_http_server.h"
#include "tools/http/http_client.h"

namespace scout::tools::http::testing {

// Spawns `aw` on `io`, runs the io_context until it has no work left, and returns the result
// (for results that are not default-constructible, unlike registry_test_support's helper).
template <class T>
T run_awaitable(asio::io_context& io, asio::awaitable<T> aw) {
  std::optional<T> out;
  std::exception_ptr error;
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { out.emplace(co_await std::move(aw)); },
      [&](std::exception_ptr e) { error = e; });
  io.run();
  io.restart();
  if (error) std::rethrow_exception(error);
  if (!out) throw std::logic_error("the coroutine did not complete");
  return std::move(*out);
}

// Options for a server on 127.0.0.1: private addresses allowed, timeouts that only guard
// against hangs.
inline Options local_options() {
  Options o;
  o.address_policy.allow_private = true;
  o.connect_timeout = std::chrono::seconds(10);
  o.idle_timeout = std::chrono::seconds(10);
  o.total_timeout = std::chrono::seconds(30);
  return o;
}

inline HttpResult<Response> fetch(std::string url, Options options = local_options(), Request request = {}) {
  asio::io_context io;
  Client client(io.get_executor());
  request.url = std::move(url);
  return run_awaitable(io, client.fetch(std::move(request), std::move(options)));
}

// zlib's encoders: window_bits 31 gzip, 15 zlib ("deflate" as the HTTP spec means it), -15 raw.
inline std::string compress(std::string_view data, int window_bits, int level = 6) {
  z_stream zs{};
  if (deflateInit2(&zs, level, Z_DEFLATED, window_bits, 9, Z_DEFAULT_STRATEGY) != Z_OK) throw std::runtime_error("deflateInit2");
  std::string out(deflateBound(&zs, static_cast<uLong>(data.size())), '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

inline std::string gzip(std::string_view data) { return compress(data, 31); }

// A one-shot flag another thread can wait for, with a limit that only guards against hangs.
class Latch {
 public:
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds limit = std::chrono::seconds(20)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, limit, [&] { return open_; });
  }
  bool is_open() {
    std::lock_guard lock(mu_);
    return open_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

}  // namespace scout::tools::http::testing
